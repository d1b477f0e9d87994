// Serial numbers from the KV store, a real `boardid`-like shell script run through the real
// command runner, a provider function, or the documented fallback.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCommandRunner, DEFAULT_PATH } from "@runtime/command";
import { RecordingCommandRunner } from "@runtime/command/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  KV,
  readSerialNumber,
  readSerialNumberWithSource,
  UNCONFIGURED_SERIAL_NUMBER,
} from "../src/index.js";

let dir: string;
let runner: ReturnType<typeof createCommandRunner>;
const logger = { warn: vi.fn() };
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kv-serial-test-"));
  runner = createCommandRunner({ path: `${dir}:${DEFAULT_PATH}` });
  logger.warn.mockReset();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function boardid(script: string): Promise<void> {
  const path = join(dir, "boardid");
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
}

describe("readSerialNumber", () => {
  it("prefers nerves_serial_number from the store (trimmed)", async () => {
    await boardid("echo from-boardid");
    const kv = await KV.inMemory({ nerves_serial_number: "  SN-0001\n" });
    expect(await readSerialNumberWithSource({ kv, runner, logger })).toEqual({
      serialNumber: "SN-0001",
      source: "kv",
    });
  });

  it("runs boardid next and trims its output", async () => {
    await boardid('echo "  0123456789abcdef  "');
    const kv = await KV.inMemory({ nerves_serial_number: "" });
    expect(await readSerialNumberWithSource({ kv, runner, logger })).toEqual({
      serialNumber: "0123456789abcdef",
      source: "command",
    });
  });

  it("runs a configured command with arguments", async () => {
    await writeFile(join(dir, "serial-tool"), '#!/bin/sh\necho "$1-$2"\n', { mode: 0o755 });
    expect(await readSerialNumber({ runner, command: ["serial-tool", "-b", "rpi"], logger })).toBe(
      "-b-rpi",
    );
  });

  it("falls to the provider when boardid fails, is missing, or prints nothing", async () => {
    const provider = () => "from-provider";
    await boardid("echo oops >&2; exit 1");
    expect(await readSerialNumberWithSource({ runner, provider, logger })).toEqual({
      serialNumber: "from-provider",
      source: "provider",
    });
    expect(logger.warn).toHaveBeenCalledWith(expect.stringMatching(/boardid gave none .*status 1/));
    await boardid("true");
    expect(await readSerialNumber({ runner, provider, logger })).toBe("from-provider");
    await rm(join(dir, "boardid"));
    expect(await readSerialNumber({ runner, provider, logger })).toBe("from-provider");
    expect(logger.warn).toHaveBeenLastCalledWith(
      expect.stringMatching(/boardid gave none .*cannot start/),
    );
  });

  it("never throws: every source failing gives the documented fallback", async () => {
    await boardid("exit 3");
    const provider = async () => {
      throw new Error("EEPROM unreadable");
    };
    expect(await readSerialNumber({ runner, provider, logger })).toBe("unconfigured");
    expect(UNCONFIGURED_SERIAL_NUMBER).toBe("unconfigured");
    expect(await readSerialNumber({ logger })).toBe("unconfigured");
    expect(await readSerialNumber({ runner, command: false, fallback: "dev-host", logger })).toBe(
      "dev-host",
    );
    expect(logger.warn).toHaveBeenCalledWith("serial number: provider failed (EEPROM unreadable)");
  });

  it("gives the command a time limit", async () => {
    const recording = new RecordingCommandRunner().respond(["boardid"], { timeout: true });
    expect(await readSerialNumber({ runner: recording, timeoutMs: 1234, logger })).toBe(
      "unconfigured",
    );
    expect(recording.calls[0]?.options).toMatchObject({ timeoutMs: 1234 });
  });
});
