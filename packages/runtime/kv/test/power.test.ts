// Power never reboots this machine: every test injects its strategy (a recording function, or a
// recording command runner for the systemd/busybox strategies, or a fake kill for PID 1).
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RecordingCommandRunner } from "@runtime/command/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  busyboxPower,
  functionPower,
  Power,
  type PowerAction,
  PowerError,
  signalInitPower,
  systemdPower,
} from "../src/index.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kv-power-test-"));
});
afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

function recorder() {
  const log: string[] = [];
  const strategy = functionPower("recorder", (action, options) => {
    log.push(options.param ? `${action}(${options.param})` : action);
  });
  return { log, strategy };
}

describe("Power", () => {
  it("runs the shutdown hooks, then the strategy", async () => {
    const { log, strategy } = recorder();
    const power = new Power({ strategy });
    power.addShutdownHook("flush", async (action) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      log.push(`hook flush for ${action}`);
    });
    power.addShutdownHook("close", (action) => void log.push(`hook close for ${action}`));
    await power.poweroff();
    expect(log).toEqual(["hook close for poweroff", "hook flush for poweroff", "poweroff"]);
  });

  it("passes a reboot parameter to the strategy", async () => {
    const { log, strategy } = recorder();
    await new Power({ strategy }).reboot({ param: "0 tryboot" });
    expect(log).toEqual(["reboot(0 tryboot)"]);
  });

  it("does not wait longer than hookTimeoutMs for hooks, and names the slow ones", async () => {
    vi.useFakeTimers();
    const { log, strategy } = recorder();
    const logger = { warn: vi.fn() };
    const power = new Power({ strategy, hookTimeoutMs: 5_000, logger });
    power.addShutdownHook("stuck-database", () => new Promise(() => {}));
    power.addShutdownHook("quick", () => {});
    const done = power.reboot();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(log).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(log).toEqual(["reboot"]);
    expect(logger.warn).toHaveBeenCalledWith(
      "power: shutdown hooks still running after 5000 ms (stuck-database); going on with reboot",
    );
  });

  it("a failing hook is logged and does not stop the shutdown", async () => {
    const { log, strategy } = recorder();
    const logger = { warn: vi.fn() };
    const power = new Power({ strategy, logger });
    power.addShutdownHook("bad", () => {
      throw new Error("boom");
    });
    await power.halt();
    expect(log).toEqual(["halt"]);
    expect(logger.warn).toHaveBeenCalledWith("power: shutdown hook bad failed: boom");
  });

  it("a removed hook is not run", async () => {
    const { log, strategy } = recorder();
    const power = new Power({ strategy });
    const remove = power.addShutdownHook("gone", () => void log.push("gone"));
    remove();
    await power.reboot();
    expect(log).toEqual(["reboot"]);
  });

  it("one shutdown at a time: a second call returns the first one's promise", async () => {
    let release!: () => void;
    const calls: PowerAction[] = [];
    const strategy = functionPower("slow", (action) => {
      calls.push(action);
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    const logger = { warn: vi.fn() };
    const power = new Power({ strategy, logger });
    const first = power.reboot();
    const second = power.poweroff();
    expect(second).toBe(first);
    expect(power.inProgress).toBe("reboot");
    await vi.waitFor(() => expect(calls).toEqual(["reboot"]));
    release();
    await first;
    expect(logger.warn).toHaveBeenCalledWith(
      "power: poweroff requested while reboot is under way; ignored",
    );
  });

  it("tries strategies in order; all failing is a PowerError; a retry skips the hooks", async () => {
    const hook = vi.fn();
    const failing = functionPower("systemd", () => {
      throw new Error("systemctl: not found");
    });
    const alsoFailing = functionPower("signal-init", () => {
      throw new Error("EPERM");
    });
    const power = new Power({ strategy: [failing, alsoFailing] });
    power.addShutdownHook("hook", hook);
    const error = await power.reboot().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PowerError);
    expect(error).toMatchObject({ code: "POWER_FAILED", action: "reboot" });
    expect((error as Error).message).toBe(
      "reboot failed: systemd: systemctl: not found; signal-init: EPERM",
    );
    expect(power.inProgress).toBeUndefined();
    await expect(power.reboot()).rejects.toBeInstanceOf(PowerError);
    expect(hook).toHaveBeenCalledTimes(1);

    const { log, strategy } = recorder();
    await new Power({ strategy: [failing, strategy] }).reboot();
    expect(log).toEqual(["reboot"]);
  });

  it("needs a strategy", () => {
    expect(() => new Power({ strategy: [] })).toThrow(/at least one strategy/);
  });
});

describe("strategies", () => {
  it("systemd: systemctl reboot [param] / poweroff / halt", async () => {
    const runner = new RecordingCommandRunner();
    const strategy = systemdPower(runner);
    await strategy.run("reboot", {});
    await strategy.run("reboot", { param: "0 tryboot" });
    await strategy.run("poweroff", {});
    await strategy.run("halt", {});
    expect(runner.calls.map((call) => call.argv)).toEqual([
      ["systemctl", "reboot"],
      ["systemctl", "reboot", "0 tryboot"],
      ["systemctl", "poweroff"],
      ["systemctl", "halt"],
    ]);
  });

  it("systemd: a failing systemctl rejects", async () => {
    const runner = new RecordingCommandRunner().respond(["systemctl"], { exitCode: 1 });
    await expect(systemdPower(runner).run("reboot", {})).rejects.toMatchObject({
      code: "EXIT_STATUS",
    });
  });

  it("busybox: writes the reboot parameter with exclusive create, then busybox reboot", async () => {
    const runner = new RecordingCommandRunner();
    const rebootParamPath = join(dir, "reboot-param");
    const logger = { warn: vi.fn() };
    const strategy = busyboxPower(runner, { rebootParamPath, logger });
    await strategy.run("reboot", { param: "0 tryboot" });
    expect(await readFile(rebootParamPath, "utf8")).toBe("0 tryboot");
    await strategy.run("reboot", { param: "other" });
    expect(await readFile(rebootParamPath, "utf8")).toBe("0 tryboot");
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(/already exists; keeping its reboot parameter/),
    );
    await strategy.run("poweroff", { param: "ignored" });
    expect(runner.calls.map((call) => call.argv)).toEqual([
      ["busybox", "reboot"],
      ["busybox", "reboot"],
      ["busybox", "poweroff"],
    ]);
  });

  it("signal-init: SIGTERM reboot, SIGUSR2 poweroff, SIGUSR1 halt to PID 1", async () => {
    const sent: Array<[number, string]> = [];
    const rebootParamPath = join(dir, "param");
    const strategy = signalInitPower({
      kill: (pid, signal) => void sent.push([pid, signal]),
      rebootParamPath,
    });
    await strategy.run("reboot", { param: "1" });
    await strategy.run("poweroff", {});
    await strategy.run("halt", {});
    expect(sent).toEqual([
      [1, "SIGTERM"],
      [1, "SIGUSR2"],
      [1, "SIGUSR1"],
    ]);
    expect(await readFile(rebootParamPath, "utf8")).toBe("1");
  });

  it("signal-init: a reboot parameter that cannot be written stops the reboot", async () => {
    await writeFile(join(dir, "file"), "");
    const kill = vi.fn();
    const strategy = signalInitPower({ kill, rebootParamPath: join(dir, "file", "param") });
    await expect(strategy.run("reboot", { param: "x" })).rejects.toThrow(/ENOTDIR/);
    expect(kill).not.toHaveBeenCalled();
  });
});
