// A device namespace downloads from nginx in a server namespace across a veth pair: the download
// names the interface it went out on (eth0, from the PropertyTable), and survives the cable being
// pulled mid-body: it stalls, retries while the link is down, and resumes with a Range once the
// link is back, ending with the exact bytes.
import { createHash } from "node:crypto";
import { describeIntegration, startHttpServer, useLab } from "@testing/netlab";
import { expect, it } from "vitest";
import type { CompleteEvent, ResponseEvent, RetryEvent } from "../../src/index.js";
import { patternBytes } from "../support/fault-server.js";

const SIZE = 32 * 1024 * 1024;

function inet(address: string, prefixLength: number, scope = "universe") {
  return { family: "inet", address, prefix_length: prefixLength, netmask: "255.255.255.0", scope };
}

describeIntegration("the interface that carried a download", { tools: ["nginx"] }, () => {
  const lab = useLab("downloader");

  it("is eth0, and the download survives the cable being pulled mid-body", async () => {
    const source = patternBytes(SIZE, 31);
    const server = await lab().namespace("server");
    const device = await lab().namespace("device");
    const cable = await lab().veth(server, "eth0", device, "eth0");
    await server.addAddress("eth0", "192.168.77.1/24", { noDad: true });
    await device.addAddress("eth0", "192.168.77.2/24", { noDad: true });
    const http = await startHttpServer(server, {
      address: "192.168.77.1",
      port: 8080,
      files: { "fw.fw": source },
    });

    const child = device.spawnNode(new URL("./fixtures/download-child.ts", import.meta.url), {
      ipc: true,
    });
    await child.nextMessage((message) => (message as { type: string }).type === "ready", {
      timeoutMs: 30_000,
    });
    child.send({
      type: "start",
      url: `${http.url}/fw.fw`,
      sha256: createHash("sha256").update(source).digest("hex"),
      pauseAt: 4 * 1024 * 1024,
      addresses: { lo: [inet("127.0.0.1", 8, "host")], eth0: [inet("192.168.77.2", 24)] },
    });
    const isType = (type: string) => (message: unknown) =>
      (message as { type: string }).type === type;
    const isEvent = (name: string) => (message: unknown) =>
      (message as { type: string; name?: string }).type === "event" &&
      (message as { name?: string }).name === name;

    await child.nextMessage(isType("paused"), { timeoutMs: 30_000 });
    // Pull the cable while the consumer is paused, then let it read on into the dead link.
    await cable.a.down();
    child.send({ type: "go-on" });
    const retry = await child.nextMessage<{ payload: RetryEvent }>(isEvent("retry"), {
      timeoutMs: 30_000,
    });
    expect(["idle_timeout", "disconnected", "content_length_mismatch"]).toContain(
      retry.payload.reason,
    );
    await cable.a.up();
    const done = await child.nextMessage<{ type: string; bytes?: number; message?: string }>(
      (message) => ["done", "failed"].includes((message as { type: string }).type),
      { timeoutMs: 60_000 },
    );
    expect(done).toEqual({ type: "done", bytes: SIZE });

    const events = child.pendingMessages() as Array<{
      type: string;
      name?: string;
      payload?: unknown;
    }>;
    const responses = events
      .filter((message) => message.name === "response")
      .map((message) => message.payload as ResponseEvent);
    expect(responses[0]).toMatchObject({
      status: 200,
      interface: "eth0",
      localAddress: "192.168.77.2",
    });
    // The resume asked for the rest of the file, from where the data stopped.
    const resumed = responses.find((response) => response.status === 206);
    expect(resumed?.from).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(resumed?.interface).toBe("eth0");
    const complete = events.find((message) => message.name === "complete")
      ?.payload as CompleteEvent;
    // sha256 was verified by the child (a mismatch would have been "failed").
    expect(complete).toMatchObject({ bytes: SIZE, interface: "eth0" });
    expect(complete.attempts).toBeGreaterThan(1);
    await child.stop();
  });
});
