import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "@runtime/atomic-file";
import { type CommandRunner, type SupervisedProcess, supervise } from "@runtime/command";
import { DeviceError } from "@runtime/errors";
import type { PropertyTable } from "@runtime/property-table";
import type { Clock } from "../clock.js";
import type { InterfaceState } from "../config.js";
import { errorMessage, type Logger } from "../log.js";
import { type EventChannel, openEventChannel } from "../notify/event-channel.js";
import {
  type Command,
  commandKind,
  type RawConfig,
  type RunCommand,
  type RunIgnoringErrorsCommand,
  serviceId,
} from "../raw-config.js";
import type { Routing } from "../routes/routing.js";
import { logOutput } from "../supervision.js";
import type {
  ConnectivityContext,
  NameServerControl,
  Programs,
  RoutingControl,
  Service,
  ServiceContext,
  ServiceFactory,
  StepContext,
  StepHandler,
  Technology,
  TechnologyContext,
} from "../technology.js";
import {
  type Effect,
  initialMachineState,
  type MachineEvent,
  type MachineState,
  reduce,
} from "./interface-machine.js";

/** Everything an interface runner needs from the engine. */
export interface RunnerDependencies {
  readonly table: PropertyTable;
  readonly runner: CommandRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly routing: Routing;
  readonly nameServers: NameServerControl;
  readonly technologyContext: TechnologyContext;
  readonly programs: Programs;
  readonly sysClassNet: string;
  readonly connectivity: ConnectivityContext;
  readonly steps: ReadonlyMap<string, StepHandler>;
  readonly services: ReadonlyMap<string, ServiceFactory>;
  technology(type: string): Technology | undefined;
  /** Upper bound for one service's `stop()`. */
  readonly serviceStopMillis: number;
}

interface RunningService {
  readonly id: string;
  readonly name: string;
  readonly controller: AbortController;
  readonly channels: EventChannel[];
  service: Service | undefined;
}

interface ChildGroup {
  readonly id: number;
  readonly daemons: Array<{ id: string; process: SupervisedProcess }>;
  readonly services: RunningService[];
  stopping: boolean;
  starting: Promise<void>;
}

/** A snapshot for `infoData()`. */
export interface RunnerStatus {
  readonly phase: MachineState["phase"];
  readonly type: string;
  readonly daemons: Array<{ id: string; pid: number | undefined; restarts: number }>;
  readonly services: string[];
}

/**
 * Executes the pure state machine for one interface: applies its effects (jobs, children,
 * timers, properties) and feeds completions back as events, one event at a time.
 */
export class InterfaceRunner {
  private state: MachineState;
  private readonly queue: MachineEvent[] = [];
  private processing = false;
  private readonly timers = new Map<number, unknown>();
  private readonly jobs = new Map<number, AbortController>();
  private children: ChildGroup | undefined;
  private readonly ioctls = new Set<AbortController>();
  private resolveStopped!: () => void;
  /** Resolves once the machine has reached `stopped` (after `stop()`). */
  readonly stopped: Promise<void>;

  constructor(
    readonly ifname: string,
    initial: RawConfig,
    present: Iterable<string>,
    private readonly deps: RunnerDependencies,
  ) {
    this.state = initialMachineState(ifname, initial, present);
    this.stopped = new Promise((resolve) => {
      this.resolveStopped = resolve;
    });
    this.publish("configured", initial.type);
  }

  get phase(): MachineState["phase"] {
    return this.state.phase;
  }

  /** The recipe applied, being applied, torn down, or waited for. */
  get current(): RawConfig {
    return this.state.current;
  }

  configure(config: RawConfig): void {
    this.dispatch({ type: "configure", config });
  }

  presence(ifname: string, present: boolean): void {
    this.dispatch({ type: "presence", ifname, present });
  }

  /** Tears everything down and resolves when done. */
  stop(): Promise<void> {
    this.dispatch({ type: "stop" });
    return this.stopped;
  }

  status(): RunnerStatus {
    return {
      phase: this.state.phase,
      type: this.state.current.type,
      daemons: (this.children?.daemons ?? []).map(({ id, process }) => ({
        id,
        pid: process.current()?.pid,
        restarts: process.restarts,
      })),
      services: (this.children?.services ?? []).map((service) => service.id),
    };
  }

  /** Runs a technology ioctl while configured; cancelled (`CANCELLED`) if the interface changes. */
  async ioctl(command: string, args: readonly unknown[]): Promise<unknown> {
    if (this.state.phase !== "configured") {
      throw new DeviceError(
        "UNCONFIGURED",
        `${this.ifname} is ${this.state.phase}, not configured: cannot run ioctl ${command}`,
      );
    }
    const technology = this.deps.technology(this.state.current.type);
    if (!technology?.ioctl) {
      throw new DeviceError(
        "UNSUPPORTED",
        `technology "${this.state.current.type}" has no ioctl ${JSON.stringify(command)}`,
      );
    }
    const controller = new AbortController();
    this.ioctls.add(controller);
    const group = this.children;
    const cancelled = new Promise<never>((_, reject) => {
      controller.signal.addEventListener(
        "abort",
        () =>
          reject(
            new DeviceError("CANCELLED", `${this.ifname} was reconfigured during ioctl ${command}`),
          ),
        { once: true },
      );
    });
    try {
      return await Promise.race([
        technology.ioctl(this.ifname, command, args, {
          table: this.deps.table,
          runner: this.deps.runner,
          logger: this.deps.logger,
          signal: controller.signal,
          service: <T extends Service>(id: string) =>
            group?.services.find((running) => running.id === id)?.service as T | undefined,
        }),
        cancelled,
      ]);
    } finally {
      this.ioctls.delete(controller);
    }
  }

  private dispatch(event: MachineEvent): void {
    this.queue.push(event);
    if (this.processing) return;
    this.processing = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        const transition = reduce(this.state, next);
        this.state = transition.state;
        for (const effect of transition.effects) {
          try {
            this.apply(effect);
          } catch (error) {
            this.deps.logger.error(`${this.ifname}: ${effect.type} failed: ${errorMessage(error)}`);
          }
        }
      }
    } finally {
      this.processing = false;
    }
  }

  private apply(effect: Effect): void {
    switch (effect.type) {
      case "publish":
        this.publish(effect.state, effect.configType);
        return;
      case "bringUp":
        void this.bringUp(effect.job, effect.config);
        return;
      case "tearDown":
        void this.tearDown(effect.job, effect.config, effect.stopChildren);
        return;
      case "abortJob":
        this.jobs
          .get(effect.job)
          ?.abort(new DeviceError("ABORTED", "time limit or reconfiguration"));
        return;
      case "startChildren":
        this.startChildren(effect.children, effect.config);
        return;
      case "setTimer": {
        const { timer } = effect;
        this.timers.set(
          timer,
          this.deps.clock.setTimeout(() => {
            this.timers.delete(timer);
            this.dispatch({ type: "timeout", timer });
          }, effect.ms),
        );
        return;
      }
      case "clearTimer": {
        const handle = this.timers.get(effect.timer);
        if (handle !== undefined) this.deps.clock.clearTimeout(handle);
        this.timers.delete(effect.timer);
        return;
      }
      case "cancelIoctls":
        for (const controller of this.ioctls) controller.abort();
        this.ioctls.clear();
        return;
      case "log":
        this.deps.logger[effect.level](effect.message);
        return;
      case "stopped":
        for (const handle of this.timers.values()) this.deps.clock.clearTimeout(handle);
        this.timers.clear();
        this.deps.table.delete(["interface", this.ifname, "state"]);
        this.deps.table.delete(["interface", this.ifname, "type"]);
        this.resolveStopped();
        return;
    }
  }

  private publish(state: InterfaceState, type: string): void {
    this.deps.table.putMany([
      [["interface", this.ifname, "type"], type],
      [["interface", this.ifname, "state"], state],
    ]);
    // Only a configured interface can be connected (its checkers are stopped otherwise).
    if (state !== "configured") {
      this.deps.routing.setConnection(this.ifname, "disconnected", `interface ${state}`);
    }
  }

  private async bringUp(job: number, config: RawConfig): Promise<void> {
    const controller = new AbortController();
    this.jobs.set(job, controller);
    let ok = true;
    let reason: string | undefined;
    try {
      // A fresh start: no routing facts left from an earlier attempt.
      this.deps.routing.clearRoute(this.ifname);
      for (const path of config.cleanupFiles) await rm(path, { force: true, recursive: false });
      for (const file of config.files) {
        await mkdir(dirname(file.path), { recursive: true });
        await writeFileAtomic(file.path, file.content, { mode: file.mode ?? 0o644 });
      }
      await this.runCommands(config.upCommands, "up", config.upCommandMillis, controller.signal);
    } catch (error) {
      ok = false;
      reason = errorMessage(error);
    } finally {
      this.jobs.delete(job);
    }
    this.dispatch({ type: "jobDone", job, ok, ...(reason === undefined ? {} : { reason }) });
  }

  private async tearDown(job: number, config: RawConfig, stopChildren: boolean): Promise<void> {
    const controller = new AbortController();
    this.jobs.set(job, controller);
    let ok = true;
    try {
      if (stopChildren) await this.stopChildren();
      this.dispatch({ type: "childrenStopped", job });
      await this.runCommands(
        config.downCommands,
        "down",
        config.downCommandMillis,
        controller.signal,
      );
    } catch (error) {
      ok = false;
      this.deps.logger.debug(`${this.ifname}: tear-down: ${errorMessage(error)}`);
    } finally {
      // Files go whatever happened, so a half-finished tear-down leaves nothing behind.
      for (const path of [...config.files.map((file) => file.path), ...config.cleanupFiles]) {
        await rm(path, { force: true }).catch((error) =>
          this.deps.logger.warn(`${this.ifname}: cannot delete ${path}: ${errorMessage(error)}`),
        );
      }
      this.jobs.delete(job);
    }
    this.dispatch({ type: "jobDone", job, ok });
  }

  /**
   * Runs a command list in order. Up: the first failure fails the list. Down: failures are
   * logged and the rest still runs (tear down as much as possible). An abort stops both.
   */
  private async runCommands(
    commands: readonly Command[],
    phase: "up" | "down",
    timeLimitMs: number,
    signal: AbortSignal,
  ): Promise<void> {
    const stepContext: StepContext = {
      ifname: this.ifname,
      table: this.deps.table,
      runner: this.deps.runner,
      logger: this.deps.logger,
      routing: this.deps.routing,
      nameServers: this.deps.nameServers,
      signal,
    };
    for (const command of commands) {
      signal.throwIfAborted();
      try {
        await this.runCommand(command, timeLimitMs, signal, stepContext);
      } catch (error) {
        if (signal.aborted || phase === "up") throw error;
        this.deps.logger.warn(`${this.ifname}: down command failed: ${errorMessage(error)}`);
      }
    }
  }

  private async runCommand(
    command: Command,
    timeLimitMs: number,
    signal: AbortSignal,
    stepContext: StepContext,
  ): Promise<void> {
    const kind = commandKind(command);
    if (kind === "step") {
      const step = command as Extract<Command, { step: string }>;
      const handler = this.deps.steps.get(step.step);
      if (!handler) throw new DeviceError("UNKNOWN_STEP", `no handler for step "${step.step}"`);
      await handler(step, stepContext);
      return;
    }
    const { argv, env } =
      "run" in command
        ? { argv: (command as RunCommand).run, env: (command as RunCommand).env }
        : {
            argv: (command as RunIgnoringErrorsCommand).runIgnoringErrors,
            env: (command as RunIgnoringErrorsCommand).env,
          };
    const options = {
      signal,
      timeoutMs: timeLimitMs,
      ...(env ? { env } : {}),
      allowFailure: kind === "runIgnoringErrors",
    };
    try {
      const result = await this.deps.runner.run(argv, options);
      this.deps.logger.debug(
        `${this.ifname}: ${argv.join(" ")} → ${result.exitCode}${result.stderr.trim() ? `: ${result.stderr.trim().split("\n").at(-1)}` : ""}`,
      );
    } catch (error) {
      if (kind === "runIgnoringErrors" && !signal.aborted) {
        this.deps.logger.debug(
          `${this.ifname}: ${argv.join(" ")} (errors ignored): ${errorMessage(error)}`,
        );
        return;
      }
      throw error;
    }
  }

  private startChildren(id: number, config: RawConfig): void {
    const group: ChildGroup = {
      id,
      daemons: [],
      services: [],
      stopping: false,
      starting: Promise.resolve(),
    };
    this.children = group;
    const fail = (reason: string) => this.dispatch({ type: "childFailed", children: id, reason });
    group.starting = (async () => {
      for (const daemon of config.daemons) {
        if (group.stopping) return;
        const process = supervise(this.deps.runner, daemon.argv, {
          ...(daemon.env ? { env: daemon.env } : {}),
          restart: daemon.restart ?? {},
        });
        logOutput(process, `${daemon.id}(${this.ifname})`, (line) => this.deps.logger.debug(line));
        process.on("exit", (exit, restartInMs) => {
          if (restartInMs !== undefined) {
            this.deps.logger.warn(
              `${this.ifname}: ${daemon.id} exited (${exit.error ? errorMessage(exit.error) : (exit.signal ?? `status ${exit.exitCode}`)}); restarting in ${restartInMs} ms`,
            );
          }
        });
        process.on("give-up", () => fail(`${daemon.id} keeps exiting`));
        group.daemons.push({ id: daemon.id, process });
      }
      for (const spec of config.services) {
        if (group.stopping) return;
        const id = serviceId(spec);
        const factory = this.deps.services.get(spec.service);
        if (!factory) {
          fail(`no service factory named "${spec.service}"`);
          return;
        }
        const running: RunningService = {
          id,
          name: spec.service,
          controller: new AbortController(),
          channels: [],
          service: undefined,
        };
        group.services.push(running);
        try {
          running.service = await factory(this.serviceContext(running, fail), spec.options ?? {});
        } catch (error) {
          if (!running.controller.signal.aborted)
            fail(`service ${id} failed to start: ${errorMessage(error)}`);
          return;
        }
      }
    })();
  }

  private serviceContext(running: RunningService, fail: (reason: string) => void): ServiceContext {
    const { deps } = this;
    const signal = running.controller.signal;
    // Calls after the service was told to stop are ignored: a late probe result or DHCP event
    // must not touch the state of whatever configuration comes next.
    const routing: RoutingControl = {
      setRoute: (ifname, subnets, gateway) => {
        if (!signal.aborted) deps.routing.setRoute(ifname, subnets, gateway);
      },
      clearRoute: (ifname) => {
        if (!signal.aborted) deps.routing.clearRoute(ifname);
      },
      setConnection: (ifname, status, reason) => {
        if (!signal.aborted) deps.routing.setConnection(ifname, status, reason);
      },
      get: (ifname) => deps.routing.get(ifname),
      settled: () => deps.routing.settled(),
      onChange: (ifname, listener) => deps.routing.onChange(ifname, listener),
    };
    const nameServers: NameServerControl = {
      setup: (ifname, domain, servers, source) => {
        if (!signal.aborted) deps.nameServers.setup(ifname, domain, servers, source);
      },
      clear: (ifname, source) => {
        if (!signal.aborted) deps.nameServers.clear(ifname, source);
      },
    };
    return {
      ifname: this.ifname,
      id: running.id,
      table: deps.table,
      runner: deps.runner,
      clock: deps.clock,
      logger: deps.logger,
      technology: deps.technologyContext,
      programs: deps.programs,
      sysClassNet: deps.sysClassNet,
      routing,
      nameServers,
      connectivity: deps.connectivity,
      signal,
      openEventChannel: async (name) => {
        const channel = await openEventChannel(
          join(deps.technologyContext.tmpDir, `${name}.${this.ifname}.fifo`),
          { runner: deps.runner, mkfifo: deps.programs.mkfifo, logger: deps.logger },
        );
        running.channels.push(channel);
        if (signal.aborted) await channel.close();
        return channel;
      },
      fail: (reason) => {
        if (!signal.aborted) fail(`service ${running.id}: ${reason}`);
      },
    };
  }

  /** Services first (newest first), then daemons (newest first). */
  private async stopChildren(): Promise<void> {
    const group = this.children;
    this.children = undefined;
    if (!group) return;
    group.stopping = true;
    for (const running of group.services) running.controller.abort();
    await group.starting;
    for (const running of [...group.services].reverse()) {
      await this.stopService(running);
    }
    for (const { process } of [...group.daemons].reverse()) await process.stop();
  }

  private async stopService(running: RunningService): Promise<void> {
    running.controller.abort();
    if (running.service) {
      let timer: unknown;
      const limit = new Promise<void>((resolve) => {
        timer = this.deps.clock.setTimeout(() => {
          this.deps.logger.warn(
            `${this.ifname}: service ${running.id} did not stop within ${this.deps.serviceStopMillis} ms`,
          );
          resolve();
        }, this.deps.serviceStopMillis);
      });
      try {
        await Promise.race([Promise.resolve(running.service.stop()), limit]);
      } catch (error) {
        this.deps.logger.warn(
          `${this.ifname}: service ${running.id} failed to stop: ${errorMessage(error)}`,
        );
      } finally {
        this.deps.clock.clearTimeout(timer);
      }
    }
    for (const channel of running.channels) await channel.close();
  }
}
