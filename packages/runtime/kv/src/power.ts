/**
 * Reboot, power off and halt: a graceful shutdown hook list with a bounded time, then a pluggable
 * strategy that asks the init system to do it.
 */
import { open } from "node:fs/promises";
import type { CommandRunner } from "@runtime/command";
import { DeviceError, errorMessage } from "@runtime/errors";

export type PowerAction = "reboot" | "poweroff" | "halt";

/** Asks the system to reboot, power off or halt. Resolves once the request was accepted. */
export interface PowerStrategy {
  readonly name: string;
  run(action: PowerAction, options: { param?: string }): Promise<void>;
}

/** Work to finish before the system goes down: flush data, close connections, stop daemons. */
export type ShutdownHook = (action: PowerAction) => void | Promise<void>;

/** Default file erlinit reads its reboot parameter from (e.g. `0 tryboot` on a Raspberry Pi). */
export const DEFAULT_REBOOT_PARAM_PATH = "/run/reboot-param";

/** `systemctl reboot [PARAM]` / `poweroff` / `halt`. */
export function systemdPower(
  runner: CommandRunner,
  options: { systemctl?: string; timeoutMs?: number } = {},
): PowerStrategy {
  return {
    name: "systemd",
    async run(action, { param }) {
      const argv = [options.systemctl ?? "systemctl", action];
      if (action === "reboot" && param) argv.push(param);
      await runner.run(argv, { timeoutMs: options.timeoutMs ?? 30_000 });
    },
  };
}

async function writeRebootParam(
  path: string,
  param: string | undefined,
  logger: Pick<Console, "warn">,
): Promise<void> {
  if (!param) return;
  try {
    // Exclusive create: a parameter someone else already left wins, like nerves_runtime.
    const handle = await open(path, "wx", 0o644);
    try {
      await handle.writeFile(param);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    logger.warn(`power: ${path} already exists; keeping its reboot parameter, not "${param}"`);
  }
}

/**
 * busybox `reboot` / `poweroff` / `halt` (they signal PID 1). A reboot parameter is written to
 * `/run/reboot-param` first (erlinit reads it).
 */
export function busyboxPower(
  runner: CommandRunner,
  options: {
    busybox?: string;
    rebootParamPath?: string;
    timeoutMs?: number;
    logger?: Pick<Console, "warn">;
  } = {},
): PowerStrategy {
  return {
    name: "busybox",
    async run(action, { param }) {
      if (action === "reboot") {
        await writeRebootParam(
          options.rebootParamPath ?? DEFAULT_REBOOT_PARAM_PATH,
          param,
          options.logger ?? console,
        );
      }
      await runner.run([options.busybox ?? "busybox", action], {
        timeoutMs: options.timeoutMs ?? 30_000,
      });
    },
  };
}

/** Signals busybox init and erlinit understand: reboot, power off, halt. */
export const INIT_SIGNALS: Readonly<Record<PowerAction, NodeJS.Signals>> = {
  reboot: "SIGTERM",
  poweroff: "SIGUSR2",
  halt: "SIGUSR1",
};

/**
 * Signals PID 1 directly (busybox init, erlinit): SIGTERM reboot, SIGUSR2 power off, SIGUSR1
 * halt. A reboot parameter goes to `/run/reboot-param` first.
 */
export function signalInitPower(
  options: {
    pid?: number;
    kill?: (pid: number, signal: NodeJS.Signals) => void;
    rebootParamPath?: string;
    logger?: Pick<Console, "warn">;
  } = {},
): PowerStrategy {
  return {
    name: "signal-init",
    async run(action, { param }) {
      if (action === "reboot") {
        await writeRebootParam(
          options.rebootParamPath ?? DEFAULT_REBOOT_PARAM_PATH,
          param,
          options.logger ?? console,
        );
      }
      const kill = options.kill ?? ((pid, signal) => process.kill(pid, signal));
      kill(options.pid ?? 1, INIT_SIGNALS[action]);
    },
  };
}

/** Your own way of rebooting, as a strategy. */
export function functionPower(
  name: string,
  run: (action: PowerAction, options: { param?: string }) => void | Promise<void>,
): PowerStrategy {
  return {
    name,
    async run(action, options) {
      await run(action, options);
    },
  };
}

export interface PowerOptions {
  /** Tried in order until one accepts the request. */
  strategy: PowerStrategy | readonly PowerStrategy[];
  /** Longest wait for the shutdown hooks before the strategy runs anyway. Default 10 000 ms. */
  hookTimeoutMs?: number;
  logger?: Pick<Console, "warn">;
}

/** Every strategy refused. `errors` holds each one's error, in order. */
export class PowerError extends DeviceError {
  override name = "PowerError";
  constructor(
    readonly action: PowerAction,
    readonly errors: ReadonlyArray<{ strategy: string; error: unknown }>,
  ) {
    super(
      "POWER_FAILED",
      `${action} failed: ${errors
        .map(({ strategy, error }) => `${strategy}: ${errorMessage(error)}`)
        .join("; ")}`,
    );
  }
}

/**
 * Reboots, powers off or halts the device: runs the shutdown hooks (all at once, at most
 * `hookTimeoutMs`), then the strategies in order until one accepts.
 *
 * - One shutdown at a time: a second call while one is under way returns the same promise.
 * - Hooks run once per `Power`: if every strategy fails, a retry goes straight to the
 *   strategies (the application has already shut down).
 * - A hook that throws or is still running at the deadline is logged; shutdown goes on.
 */
export class Power {
  private readonly hooks = new Map<symbol, { name: string; hook: ShutdownHook }>();
  private pending: { action: PowerAction; promise: Promise<void> } | undefined;
  private hooksRan = false;
  private readonly strategies: readonly PowerStrategy[];

  constructor(private readonly options: PowerOptions) {
    this.strategies = Array.isArray(options.strategy)
      ? [...(options.strategy as readonly PowerStrategy[])]
      : [options.strategy as PowerStrategy];
    if (this.strategies.length === 0) throw new TypeError("Power needs at least one strategy");
  }

  /** Adds a hook; returns the function that removes it. */
  addShutdownHook(name: string, hook: ShutdownHook): () => void {
    const id = Symbol(name);
    this.hooks.set(id, { name, hook });
    return () => {
      this.hooks.delete(id);
    };
  }

  /** The action under way, if any. */
  get inProgress(): PowerAction | undefined {
    return this.pending?.action;
  }

  /** Reboots; `param` is a reboot argument such as `0 tryboot` (strategy-dependent). */
  reboot(options: { param?: string } = {}): Promise<void> {
    return this.perform("reboot", options.param);
  }

  poweroff(): Promise<void> {
    return this.perform("poweroff", undefined);
  }

  halt(): Promise<void> {
    return this.perform("halt", undefined);
  }

  private get logger(): Pick<Console, "warn"> {
    return this.options.logger ?? console;
  }

  private perform(action: PowerAction, param: string | undefined): Promise<void> {
    if (this.pending) {
      if (this.pending.action !== action) {
        this.logger.warn(
          `power: ${action} requested while ${this.pending.action} is under way; ignored`,
        );
      }
      return this.pending.promise;
    }
    const promise = (async () => {
      if (!this.hooksRan) {
        this.hooksRan = true;
        await this.runHooks(action);
      }
      const errors: Array<{ strategy: string; error: unknown }> = [];
      for (const strategy of this.strategies) {
        try {
          await strategy.run(action, param === undefined ? {} : { param });
          return;
        } catch (error) {
          errors.push({ strategy: strategy.name, error });
        }
      }
      throw new PowerError(action, errors);
    })();
    this.pending = { action, promise };
    promise.catch(() => {
      this.pending = undefined;
    });
    return promise;
  }

  private async runHooks(action: PowerAction): Promise<void> {
    const timeoutMs = this.options.hookTimeoutMs ?? 10_000;
    const running = new Set<{ name: string }>();
    const all = [...this.hooks.values()].map(async (entry) => {
      const { name, hook } = entry;
      running.add(entry);
      try {
        await hook(action);
      } catch (error) {
        this.logger.warn(`power: shutdown hook ${name} failed: ${errorMessage(error)}`);
      } finally {
        running.delete(entry);
      }
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const result = await Promise.race([Promise.all(all).then(() => "done" as const), deadline]);
    clearTimeout(timer);
    if (result === "timeout") {
      this.logger.warn(
        `power: shutdown hooks still running after ${timeoutMs} ms (${[...running].map((entry) => entry.name).join(", ")}); going on with ${action}`,
      );
    }
  }
}
