import { describe, expect, it } from "vitest";
import { CommandError } from "../src/index.js";
import { RecordingCommandRunner } from "../src/testing.js";

describe("RecordingCommandRunner", () => {
  it("records calls and answers from the newest matching responder", async () => {
    const runner = new RecordingCommandRunner()
      .respond(["ip"], { stdout: "old" })
      .respond(["ip", "-json"], { stdout: "[]" });
    expect((await runner.run(["ip", "-json", "link"])).stdout).toBe("[]");
    expect((await runner.run(["ip", "link"])).stdout).toBe("old");
    expect(runner.commandLines()).toEqual(["ip -json link", "ip link"]);
  });

  it("a hanging command settles only when the caller aborts, with ABORTED", async () => {
    const runner = new RecordingCommandRunner().respond(["sleep"], { hang: true });
    const controller = new AbortController();
    let settled = false;
    const result = runner.run(["sleep", "100"], { signal: controller.signal }).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    controller.abort();
    const error = await result.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).code).toBe("ABORTED");
  });

  it("a hanging command with an already aborted signal rejects at once", async () => {
    const runner = new RecordingCommandRunner().respond(["sleep"], { hang: true });
    await expect(runner.run(["sleep"], { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: "ABORTED",
    });
  });
});

describe("FakeProcess", () => {
  it("gives a raw stdout to processes started with output: raw, ended by exit()", async () => {
    const runner = new RecordingCommandRunner();
    const child = runner.start(["fwup", "--framing"], { output: "raw", stdin: true });
    const chunks: Buffer[] = [];
    const drained = (async () => {
      for await (const chunk of child.stdout!) chunks.push(chunk as Buffer);
    })();
    child.printRaw(Uint8Array.from([0, 0, 0, 4]));
    child.printRaw(Buffer.from("OK\0\0"));
    child.exit();
    await drained;
    expect(Buffer.concat(chunks)).toEqual(Buffer.from([0, 0, 0, 4, 0x4f, 0x4b, 0, 0]));
    expect(await child.exited).toEqual({ exitCode: 0, signal: null });
  });

  it("has no stdout stream in line mode and refuses printRaw there", () => {
    const child = new RecordingCommandRunner().start(["daemon"]);
    expect(child.stdout).toBeNull();
    expect(() => child.printRaw(Uint8Array.of(1))).toThrow(/output: "raw"/);
  });
});
