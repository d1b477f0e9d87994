// validateFirmware(), revert() and firmwareSlots() end to end through the real command path:
// @runtime/command runs a fwup STAND-IN (test/fixtures/fwup-stand-in.mjs; fwup is not packaged in
// Debian) that speaks fwup's documented --framing protocol and executes an ops "archive" written
// like a system's fwup-ops.conf (reference §2.6, nerves_system_bbb), editing a file-backed
// redundant U-Boot environment with the real fw_setenv. Results are read back with the real
// fw_printenv.
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describeIntegration } from "@testing/netlab";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  Firmware,
  type FirmwareOptions,
  FwupError,
  functionPower,
  KV,
  Power,
  serializeEnvBlock,
  ubootEnv,
} from "../../src/index.js";
import { fwPrintenv, testRunner, type Workspace, workspace, writeConfig } from "./helpers.js";

const STAND_IN = fileURLToPath(new URL("../fixtures/fwup-stand-in.mjs", import.meta.url));
const BLOCK = 512;
const ENV_BLOCKS = 16; // 8 KiB, as in Nerves systems

/** What nerves_system_bbb's fwup-ops.conf does, as the stand-in's JSON ops archive. */
const OPS = {
  ubootEnvironment: {
    blockOffset: 2048,
    blockCount: ENV_BLOCKS,
    blockOffsetRedund: 2048 + ENV_BLOCKS,
  },
  tasks: [
    {
      name: "revert.a",
      requireUbootVariable: [
        ["nerves_fw_active", "b"],
        ["a.nerves_fw_platform", "bbb"],
        ["a.nerves_fw_architecture", "arm"],
      ],
      onInit: [
        ["uboot_setenv", "nerves_fw_active", "a"],
        ["uboot_setenv", "nerves_fw_validated", "1"],
      ],
    },
    {
      name: "revert.b",
      requireUbootVariable: [
        ["nerves_fw_active", "a"],
        ["b.nerves_fw_platform", "bbb"],
        ["b.nerves_fw_architecture", "arm"],
      ],
      onInit: [
        ["uboot_setenv", "nerves_fw_active", "b"],
        ["uboot_setenv", "nerves_fw_validated", "1"],
      ],
    },
    {
      name: "revert.wrongplatform",
      onInit: [["error", "Expecting platform=bbb and architecture=arm"]],
    },
    {
      name: "validate",
      onInit: [
        ["uboot_setenv", "nerves_fw_validated", "1"],
        ["uboot_setenv", "upgrade_available", "0"],
        ["uboot_setenv", "bootcount", "1"],
      ],
    },
    {
      name: "status.aa",
      requireRootSlot: "a",
      requireUbootVariable: [["nerves_fw_active", "a"]],
      onInit: [["info", "a"]],
    },
    {
      name: "status.ab",
      requireRootSlot: "a",
      requireUbootVariable: [["nerves_fw_active", "b"]],
      onInit: [["info", "a->b"]],
    },
    {
      name: "status.bb",
      requireRootSlot: "b",
      requireUbootVariable: [["nerves_fw_active", "b"]],
      onInit: [["info", "b"]],
    },
    {
      name: "status.ba",
      requireRootSlot: "b",
      requireUbootVariable: [["nerves_fw_active", "a"]],
      onInit: [["info", "b->a"]],
    },
    { name: "status.fail", onInit: [["error", "Unknown boot partition"]] },
  ],
};

/** Just after an update from 1.0.0 (slot a) to 1.1.0 (slot b): not validated yet. */
const AFTER_UPDATE = {
  nerves_fw_active: "b",
  nerves_fw_devpath: "/dev/mmcblk0",
  upgrade_available: "1",
  bootcount: "1",
  nerves_fw_validated: "0",
  "a.nerves_fw_version": "1.0.0",
  "a.nerves_fw_platform": "bbb",
  "a.nerves_fw_architecture": "arm",
  "b.nerves_fw_version": "1.1.0",
  "b.nerves_fw_platform": "bbb",
  "b.nerves_fw_architecture": "arm",
};

describeIntegration(
  "@runtime/kv firmware operations with a fwup stand-in",
  { tools: ["fw_printenv", "fw_setenv"] },
  () => {
    let space: Workspace;
    let disk: string;
    let config: string;
    let binWithFwup: string;
    let log: string;

    beforeEach(async () => {
      space = await workspace("fwup-ops");
      disk = space.path("disk.img");
      const size = ENV_BLOCKS * BLOCK;
      const env = serializeEnvBlock(AFTER_UPDATE, { size, layout: "redundant", flag: 1 });
      await writeFile(disk, Buffer.concat([Buffer.alloc(2048 * BLOCK, 0), env, env]));
      config = await writeConfig(space, [
        { path: disk, offset: 2048 * BLOCK, size },
        { path: disk, offset: (2048 + ENV_BLOCKS) * BLOCK, size },
      ]);
      binWithFwup = space.path("bin");
      await mkdir(binWithFwup);
      await symlink(STAND_IN, `${binWithFwup}/fwup`);
      await writeFile(space.path("ops.fw"), JSON.stringify(OPS));
      log = space.path("fwup.log");
    });
    afterEach(async () => {
      await space.cleanup();
    });

    async function setup(options: { withFwup?: boolean; rootSlot?: string; ops?: object } = {}) {
      if (options.ops) await writeFile(space.path("ops.fw"), JSON.stringify(options.ops));
      const runner = testRunner(options.withFwup === false ? [] : [binWithFwup]);
      const kv = await KV.open({ backend: ubootEnv({ config }) });
      const reboots: string[] = [];
      const power = new Power({
        strategy: functionPower("test", (action) => void reboots.push(action)),
      });
      const warnings: string[] = [];
      const firmwareOptions: FirmwareOptions = {
        kv,
        runner,
        power,
        fwup: {
          opsFwPath: space.path("ops.fw"),
          legacyOpsFwPath: false,
          devpath: disk,
          env: {
            STAND_IN_LOG: log,
            ...(options.rootSlot ? { STAND_IN_ROOT_SLOT: options.rootSlot } : {}),
          },
        },
        logger: { warn: (message: string) => void warnings.push(message) },
      };
      return { runner, kv, reboots, warnings, firmware: new Firmware(firmwareOptions) };
    }

    async function invocations(): Promise<string[][]> {
      const text = await readFile(log, "utf8").catch(() => "");
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as string[]);
    }

    describe("firmware operations through a fwup stand-in", () => {
      it("validateFirmware runs the validate task with the documented arguments", async () => {
        const { kv, firmware } = await setup();
        expect(firmware.validationStatus()).toBe("unvalidated");
        await firmware.validateFirmware();
        expect(await invocations()).toEqual([
          [
            "-a",
            "-i",
            space.path("ops.fw"),
            "-t",
            "validate",
            "-d",
            disk,
            "-q",
            "-U",
            "--enable-trim",
            "--framing",
          ],
        ]);
        // bootcount=1 is what the ops task writes (the direct fallback would write 0).
        expect(await fwPrintenv(testRunner(), config)).toMatchObject({
          nerves_fw_validated: "1",
          upgrade_available: "0",
          bootcount: "1",
        });
        // The store was reloaded after fwup changed the environment.
        expect(kv.get("bootcount")).toBe("1");
        expect(firmware.validationStatus()).toBe("validated");
        expect(firmware.isFirmwareValid()).toBe(true);
      });

      it("revert switches slots through the ops task and reboots", async () => {
        const { kv, firmware, reboots } = await setup();
        await firmware.revert();
        expect((await invocations())[0]).toContain("revert");
        expect((await fwPrintenv(testRunner(), config)).nerves_fw_active).toBe("a");
        expect(kv.activeSlot).toBe("a");
        expect(firmware.active().version).toBe("1.0.0");
        expect(reboots).toEqual(["reboot"]);
      });

      it("a task that fails in fwup is a FwupError carrying fwup's message; no reboot", async () => {
        const { firmware, reboots } = await setup();
        // The previous slot is for another board: the ops archive's fallback task errors out.
        await writeFile(space.path("script"), "a.nerves_fw_platform=rpi0\n");
        await testRunner().run(["fw_setenv", "-c", config, "-s", space.path("script")]);
        const error = await firmware.revert().catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(FwupError);
        expect(error).toMatchObject({
          code: "FWUP_FAILED",
          task: "revert",
          fwupMessage: "Expecting platform=bbb and architecture=arm",
          exitCode: 1,
        });
        expect(reboots).toEqual([]);
        expect((await fwPrintenv(testRunner(), config)).nerves_fw_active).toBe("b");
      });

      it("an ops archive without the task: fwup's 'Couldn't find applicable task' error", async () => {
        const { firmware } = await setup({
          ops: { ...OPS, tasks: OPS.tasks.filter((task) => task.name !== "validate") },
        });
        await expect(firmware.validateFirmware()).rejects.toMatchObject({
          code: "FWUP_FAILED",
          fwupMessage: expect.stringMatching(/Couldn't find applicable task 'validate'/),
        });
        expect((await fwPrintenv(testRunner(), config)).nerves_fw_validated).toBe("0");
      });

      it("firmwareSlots asks the status task (running a, b activated → a->b)", async () => {
        expect(await (await setup({ rootSlot: "a" })).firmware.firmwareSlots()).toEqual({
          active: "a",
          next: "b",
          source: "fwup",
        });
        expect(await (await setup({ rootSlot: "b" })).firmware.firmwareSlots()).toEqual({
          active: "b",
          next: "b",
          source: "fwup",
        });
        // The status task fails (unknown root): the variables decide.
        expect(await (await setup()).firmware.firmwareSlots()).toEqual({
          active: "b",
          next: "a",
          source: "kv",
        });
      });
    });

    describe("firmware operations without fwup (direct fallback)", () => {
      it("validateFirmware writes the documented variables itself", async () => {
        const { firmware, warnings } = await setup({ withFwup: false });
        await firmware.validateFirmware();
        expect(await invocations()).toEqual([]);
        expect(await fwPrintenv(testRunner(), config)).toMatchObject({
          nerves_fw_validated: "1",
          upgrade_available: "0",
          bootcount: "0",
        });
        expect(firmware.validationStatus()).toBe("validated");
        expect(warnings[0]).toMatch(/can't find fwup.*writing the validation variables directly/);
      });

      it("revert switches nerves_fw_active itself, then reboots", async () => {
        const { firmware, reboots } = await setup({ withFwup: false });
        await firmware.revert();
        expect(await fwPrintenv(testRunner(), config)).toMatchObject({
          nerves_fw_active: "a",
          nerves_fw_validated: "1",
        });
        expect(reboots).toEqual(["reboot"]);
      });

      it("firmwareSlots derives the slots from the variables", async () => {
        const { firmware } = await setup({ withFwup: false });
        expect(await firmware.firmwareSlots()).toEqual({ active: "b", next: "a", source: "kv" });
      });
    });
  },
);
