// Orchestration of validation, slots and revert, with a recording command runner whose fake
// fwup processes print framed records. The same paths run end to end against a fwup stand-in and
// a real env image in test/integration/fwup-ops.test.ts.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeProcess, RecordingCommandRunner } from "@runtime/command/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  encodeFwupFrame,
  Firmware,
  type FirmwareOptions,
  FwupError,
  type FwupFrame,
  functionPower,
  KV,
  type KvBackend,
  memory,
  Power,
} from "../src/index.js";

let dir: string;
let opsFw: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kv-firmware-test-"));
  opsFw = join(dir, "ops.fw");
  await writeFile(opsFw, "stand-in archive");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const DEVICE = {
  nerves_fw_active: "b",
  upgrade_available: "1",
  bootcount: "1",
  "a.nerves_fw_version": "1.0.0",
  "a.nerves_fw_platform": "bbb",
  "a.nerves_fw_architecture": "arm",
  "b.nerves_fw_version": "1.1.0",
  "b.nerves_fw_platform": "bbb",
  "b.nerves_fw_architecture": "arm",
};

async function setup(
  options: Partial<FirmwareOptions> = {},
  initial: Record<string, string> = DEVICE,
) {
  const backend = memory(initial);
  const kv = await KV.open({ backend });
  const runner = new RecordingCommandRunner();
  const logger = { warn: vi.fn() };
  const firmware = new Firmware({
    kv,
    runner,
    fwup: { opsFwPath: join(dir, "ops.fw"), legacyOpsFwPath: false, devpath: "/dev/test-disk" },
    logger,
    ...options,
  });
  return { backend, kv, runner, firmware, logger };
}

/** Waits for the next fake fwup, prints records, exits. */
async function answer(
  runner: RecordingCommandRunner,
  index: number,
  frames: FwupFrame[],
  exitCode = 0,
) {
  await vi.waitFor(() => expect(runner.started.length).toBeGreaterThan(index), { timeout: 2000 });
  const process = runner.started[index] as FakeProcess;
  for (const frame of frames) process.printRaw(encodeFwupFrame(frame));
  process.exit({ exitCode, signal: null });
  return process;
}

const OK: FwupFrame = { type: "OK", code: 0, text: "" };

describe("validateFirmware", () => {
  it("runs the validate task with the documented command line, then reloads the store", async () => {
    const { backend, kv, runner, firmware } = await setup({
      fwup: {
        opsFwPath: opsFw,
        devpath: "/dev/test-disk",
        fwupPath: "/opt/fwup",
        env: { FOO: "1" },
        extraOptions: ["--unsafe"],
      },
    });
    const done = firmware.validateFirmware();
    // What the system's ops.fw would do, then fwup says OK.
    await vi.waitFor(() => expect(runner.started).toHaveLength(1));
    await backend.update(
      new Map([
        ["upgrade_available", "0"],
        ["nerves_fw_validated", "1"],
      ]),
    );
    await answer(runner, 0, [
      { type: "PR", code: 0, text: "" },
      { type: "PR", code: 100, text: "" },
      OK,
    ]);
    await done;
    expect(runner.commandLines()).toEqual([
      `/opt/fwup -a -i ${opsFw} -t validate -d /dev/test-disk -q -U --enable-trim --framing --unsafe`,
    ]);
    expect(runner.calls[0]?.options).toMatchObject({ output: "raw", env: { FOO: "1" } });
    expect(kv.get("upgrade_available")).toBe("0");
    expect(firmware.validationStatus()).toBe("validated");
  });

  it("fwup's ER record becomes a FwupError with fwup's message; nothing is written", async () => {
    const { backend, runner, firmware } = await setup();
    const update = vi.spyOn(backend, "update");
    const done = firmware.validateFirmware().catch((error: unknown) => error);
    await answer(runner, 0, [{ type: "ER", code: 0, text: "validate: eMMC is read-only" }], 1);
    const error = await done;
    expect(error).toBeInstanceOf(FwupError);
    expect(error).toMatchObject({
      code: "FWUP_FAILED",
      task: "validate",
      fwupMessage: "validate: eMMC is read-only",
      exitCode: 1,
    });
    expect(update).not.toHaveBeenCalled();
    expect(firmware.validationStatus()).toBe("unvalidated");
  });

  it("with fallbackOnFwupError, a failing fwup falls back to writing the variables", async () => {
    const { kv, runner, firmware, logger } = await setup({ fallbackOnFwupError: true });
    const done = firmware.validateFirmware();
    await answer(runner, 0, [{ type: "ER", code: 0, text: "no validate task" }], 1);
    await done;
    expect(kv.getAll()).toMatchObject({
      upgrade_available: "0",
      bootcount: "0",
      nerves_fw_validated: "1",
    });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(/no validate task.*writing the validation variables/),
    );
  });

  it("without an ops archive, writes the documented variables directly", async () => {
    const { kv, runner, firmware, logger } = await setup({
      fwup: {
        opsFwPath: join(dir, "missing-ops.fw"),
        legacyOpsFwPath: join(dir, "missing-revert.fw"),
      },
    });
    await firmware.validateFirmware();
    expect(runner.started).toHaveLength(0);
    expect(kv.getAll()).toMatchObject({
      upgrade_available: "0",
      bootcount: "0",
      nerves_fw_validated: "1",
    });
    expect(firmware.validationStatus()).toBe("validated");
    expect(logger.warn.mock.calls[0]![0]).toMatch(
      /ops.fw not found.*missing-ops.fw, .*missing-revert.fw/,
    );
  });

  it("uses the legacy revert.fw when ops.fw is missing", async () => {
    const legacy = join(dir, "revert.fw");
    await writeFile(legacy, "x");
    const { runner, firmware } = await setup({
      fwup: { opsFwPath: join(dir, "nope.fw"), legacyOpsFwPath: legacy },
    });
    const done = firmware.validateFirmware();
    await answer(runner, 0, [OK]);
    await done;
    expect(runner.commandLines()[0]).toContain(`-i ${legacy} `);
  });

  it("without fwup installed, writes the variables directly", async () => {
    const { kv, runner, firmware } = await setup({}, { nerves_fw_validated: "0" });
    const done = firmware.validateFirmware();
    await vi.waitFor(() => expect(runner.started).toHaveLength(1));
    runner.started[0]!.exit({
      exitCode: null,
      signal: null,
      error: new Error("spawn fwup ENOENT"),
    });
    await done;
    expect(kv.getAll()).toEqual({ nerves_fw_validated: "1" });
  });

  it("with directFallback: false, a missing fwup is an error", async () => {
    const { firmware } = await setup({ fwup: false, directFallback: false });
    await expect(firmware.validateFirmware()).rejects.toMatchObject({ code: "FWUP_NOT_FOUND" });
  });
});

describe("firmwareSlots", () => {
  it("asks the status task", async () => {
    const { runner, firmware } = await setup();
    const slots = firmware.firmwareSlots();
    await answer(runner, 0, [{ type: "WN", code: 0, text: "b->a" }, OK]);
    expect(await slots).toEqual({ active: "b", next: "a", source: "fwup" });
    expect(runner.commandLines()[0]).toContain("-t status");
  });

  it("falls back to the variables when fwup fails, prints no slot, or is absent", async () => {
    for (const frames of [[{ type: "ER", code: 0, text: "x" }], [OK]] as FwupFrame[][]) {
      const { runner, firmware } = await setup();
      const slots = firmware.firmwareSlots();
      await answer(runner, 0, frames, frames[0]!.type === "ER" ? 1 : 0);
      expect(await slots).toEqual({ active: "b", next: "a", source: "kv" });
    }
    const { firmware } = await setup({ fwup: false }, { nerves_fw_active: "a" });
    expect(await firmware.firmwareSlots()).toEqual({ active: "a", next: "a", source: "kv" });
  });
});

describe("revert", () => {
  function recordingPower() {
    const actions: string[] = [];
    return {
      actions,
      power: new Power({ strategy: functionPower("test", (action) => void actions.push(action)) }),
    };
  }

  it("runs the revert task, reloads, and reboots through power", async () => {
    const { power, actions } = recordingPower();
    const { backend, kv, runner, firmware } = await setup({ power });
    const done = firmware.revert();
    await vi.waitFor(() => expect(runner.started).toHaveLength(1));
    await backend.update(new Map([["nerves_fw_active", "a"]]));
    await answer(runner, 0, [OK]);
    await done;
    expect(runner.commandLines()[0]).toContain("-t revert -d /dev/test-disk");
    expect(kv.activeSlot).toBe("a");
    expect(actions).toEqual(["reboot"]);
  });

  it("reboot: false does not reboot", async () => {
    const { power, actions } = recordingPower();
    const { runner, firmware } = await setup({ power });
    const done = firmware.revert({ reboot: false });
    await answer(runner, 0, [OK]);
    await done;
    expect(actions).toEqual([]);
  });

  it("refuses to start without a way to reboot, before changing anything", async () => {
    const { runner, firmware } = await setup();
    await expect(firmware.revert()).rejects.toThrow(/reboots through `power`/);
    expect(runner.started).toHaveLength(0);
  });

  it("an ER record is a FwupError and there is no reboot", async () => {
    const { power, actions } = recordingPower();
    const { runner, firmware } = await setup({ power });
    const done = firmware.revert().catch((error: unknown) => error);
    await answer(
      runner,
      0,
      [{ type: "ER", code: 0, text: "revert.unexpected: no previous firmware" }],
      1,
    );
    expect(await done).toMatchObject({
      code: "FWUP_FAILED",
      fwupMessage: "revert.unexpected: no previous firmware",
    });
    expect(actions).toEqual([]);
  });

  it("without fwup, switches nerves_fw_active directly when the other slot is compatible", async () => {
    const { power, actions } = recordingPower();
    const { kv, firmware } = await setup({ power, fwup: false });
    await firmware.revert();
    expect(kv.getAll()).toMatchObject({
      nerves_fw_active: "a",
      nerves_fw_validated: "1",
      upgrade_available: "0",
      bootcount: "0",
    });
    expect(actions).toEqual(["reboot"]);
  });

  it("without fwup, refuses when the other slot is empty; nothing is written", async () => {
    const { power, actions } = recordingPower();
    const backend: KvBackend = memory({ nerves_fw_active: "a", "a.nerves_fw_platform": "bbb" });
    const update = vi.spyOn(backend, "update");
    const kv = await KV.open({ backend });
    const firmware = new Firmware({ kv, fwup: false, power, logger: { warn: () => {} } });
    await expect(firmware.revert()).rejects.toMatchObject({ code: "REVERT_UNAVAILABLE" });
    expect(update).not.toHaveBeenCalled();
    expect(actions).toEqual([]);
  });
});

describe("ops tasks", () => {
  it("run one at a time", async () => {
    const { runner, firmware } = await setup();
    const first = firmware.runOpsTask("status");
    const second = firmware.runOpsTask("validate");
    await vi.waitFor(() => expect(runner.started).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runner.started).toHaveLength(1);
    await answer(runner, 0, [OK]);
    await first;
    await answer(runner, 1, [OK]);
    await second;
    expect(runner.commandLines().map((line) => line.split(" -t ")[1]?.split(" ")[0])).toEqual([
      "status",
      "validate",
    ]);
  });

  it("preventRevert runs prevent-revert and has no fallback", async () => {
    const { runner, firmware } = await setup();
    const done = firmware.preventRevert();
    await answer(runner, 0, [OK]);
    await done;
    expect(runner.commandLines()[0]).toContain("-t prevent-revert");
    const { firmware: noFwup } = await setup({ fwup: false });
    await expect(noFwup.preventRevert()).rejects.toMatchObject({ code: "FWUP_NOT_FOUND" });
  });

  it("exposes the metadata views", async () => {
    const { firmware } = await setup();
    expect(firmware.active()).toMatchObject({ slot: "b", version: "1.1.0", platform: "bbb" });
    expect(firmware.inactive()).toMatchObject({ slot: "a", version: "1.0.0" });
    expect(firmware.isFirmwareValid()).toBe(false);
  });
});
