import { describe, expect, it } from "vitest";
import { RecordingCommandRunner } from "../src/testing.js";

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
