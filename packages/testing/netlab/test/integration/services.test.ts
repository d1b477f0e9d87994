// The "Internet" of a lab: a TCP responder that can go away and come back, and an HTTP server.
import { expect, it } from "vitest";
import {
  describeIntegration,
  type Namespace,
  startHttpServer,
  startTcpResponder,
  useLab,
  waitFor,
} from "../../src/index.js";

describeIntegration("TCP and HTTP services", { tools: ["busybox", "nginx", "curl"] }, () => {
  const lab = useLab("services");

  async function internetAndDevice() {
    const internet = await lab().namespace(`inet${lab().namespaces.length}`);
    const device = await lab().namespace(`dev${lab().namespaces.length}`);
    await lab().veth(internet, "eth0", device, "eth0");
    await internet.addAddress("eth0", "10.66.0.1/24");
    await device.addAddress("eth0", "10.66.0.2/24");
    return { internet, device };
  }

  /** Exit status of a TCP connect from the device: 0 connected, non-zero refused/unreachable. */
  async function connect(device: Namespace) {
    const result = await device.exec(["busybox", "nc", "-w", "2", "10.66.0.1", "8443"], {
      allowFailure: true,
      input: "",
    });
    return result.exitCode;
  }

  it("accepts connections, refuses them while stopped, accepts again after restart", async () => {
    const { internet, device } = await internetAndDevice();
    const responder = await startTcpResponder(internet, { address: "10.66.0.1", port: 8443 });
    expect(await internet.isListening("tcp", 8443)).toBe(true);
    expect(await connect(device)).toBe(0);
    // The responder reports the connection over IPC, which may trail nc's exit.
    await waitFor(() => responder.connections === 1, { description: "1 connection reported" });

    await responder.stop();
    expect(responder.running).toBe(false);
    expect(await internet.isListening("tcp", 8443)).toBe(false);
    expect(await connect(device)).not.toBe(0);

    await responder.start();
    expect(await connect(device)).toBe(0);
    await waitFor(() => responder.connections === 1, { description: "1 connection reported" });
    await responder.stop();
  });

  it("echoes in echo mode", async () => {
    const { internet, device } = await internetAndDevice();
    await startTcpResponder(internet, { address: "10.66.0.1", port: 8443, mode: "echo" });
    const { stdout } = await device.exec(["busybox", "nc", "-w", "1", "10.66.0.1", "8443"], {
      input: "ping through the lab\n",
    });
    expect(stdout).toBe("ping through the lab\n");
  });

  it("serves static files over HTTP with Range support", async () => {
    const { internet, device } = await internetAndDevice();
    const firmware = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
    const server = await startHttpServer(internet, {
      address: "10.66.0.1",
      port: 8080,
      files: { "fw/update.bin": firmware, "hello.txt": "hello from the lab\n" },
    });
    expect(server.url).toBe("http://10.66.0.1:8080");

    const hello = await device.exec(["curl", "-sS", "--fail", `${server.url}/hello.txt`]);
    expect(hello.stdout).toBe("hello from the lab\n");

    const range = await device.exec([
      "curl",
      "-sS",
      "--fail",
      "-D",
      "-",
      "-o",
      "/dev/null",
      "-r",
      "1000-1999",
      `${server.url}/fw/update.bin`,
    ]);
    expect(range.stdout).toMatch(/^HTTP\/1\.1 206/);
    expect(range.stdout).toMatch(/Content-Range: bytes 1000-1999\/4096/i);

    const missing = await device.exec([
      "curl",
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      `${server.url}/nope`,
    ]);
    expect(missing.stdout).toBe("404");
  });
});
