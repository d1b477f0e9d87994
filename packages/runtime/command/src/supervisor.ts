import { EventEmitter } from "eventemitter3";
import type { CommandRunner, ProcessExit, RunningProcess, StartOptions } from "./types.js";

/** When and how often a supervised process is started again after it exits. */
export interface RestartPolicy {
  /** Delay before the first restart. Default 1 000 ms. */
  initialDelayMs?: number;
  /** Upper bound of the doubling delay. Default 60 000 ms. */
  maxDelayMs?: number;
  /** Growth factor of the delay after each quick exit. Default 2. */
  factor?: number;
  /** A run that lasted at least this long resets the delay to the initial one. Default 30 000 ms. */
  resetAfterMs?: number;
  /** Give up after this many consecutive quick exits. Default: never. */
  maxRestarts?: number;
}

export interface SupervisorEvents {
  /** A new process was started (the first one, or a restart). */
  start: (process: RunningProcess, restarts: number) => void;
  /** The process exited; `restartInMs` is undefined when no restart follows. */
  exit: (exit: ProcessExit, restartInMs: number | undefined) => void;
  /** `maxRestarts` consecutive quick exits: the supervisor stopped trying. */
  "give-up": (lastExit: ProcessExit) => void;
}

export interface SupervisedProcess extends EventEmitter<SupervisorEvents> {
  readonly argv: readonly string[];
  /** The process running now, if any. */
  current(): RunningProcess | undefined;
  /** Consecutive quick exits so far. */
  readonly restarts: number;
  /** Stops supervising and stops the process group. */
  stop(): Promise<void>;
}

/** Pure: the delay before restart number `attempt` (0-based) under `policy`. */
export function restartDelay(policy: RestartPolicy, attempt: number): number {
  const initial = policy.initialDelayMs ?? 1_000;
  const max = policy.maxDelayMs ?? 60_000;
  const factor = policy.factor ?? 2;
  return Math.min(max, initial * factor ** attempt);
}

/**
 * Keeps a daemon running: starts it, and whenever it exits starts it again after a back-off that
 * doubles on quick exits and resets after a long healthy run.
 */
export function supervise(
  runner: CommandRunner,
  argv: readonly string[],
  options: StartOptions & { restart?: RestartPolicy } = {},
): SupervisedProcess {
  return new Supervisor(runner, argv, options);
}

class Supervisor extends EventEmitter<SupervisorEvents> implements SupervisedProcess {
  private running: RunningProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private consecutiveRestarts = 0;
  private readonly policy: RestartPolicy;
  private readonly startOptions: StartOptions;

  constructor(
    private readonly runner: CommandRunner,
    readonly argv: readonly string[],
    options: StartOptions & { restart?: RestartPolicy },
  ) {
    super();
    const { restart = {}, ...startOptions } = options;
    this.policy = restart;
    this.startOptions = startOptions;
    this.launch();
  }

  get restarts(): number {
    return this.consecutiveRestarts;
  }

  current(): RunningProcess | undefined {
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.stop();
  }

  private launch(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const startedAt = Date.now();
    const child = this.runner.start(this.argv, this.startOptions);
    this.running = child;
    this.emit("start", child, this.consecutiveRestarts);
    void child.exited.then((exit) => this.onExit(child, exit, startedAt));
  }

  private onExit(child: RunningProcess, exit: ProcessExit, startedAt: number): void {
    if (this.running === child) this.running = undefined;
    if (this.stopped) {
      this.emit("exit", exit, undefined);
      return;
    }
    if (Date.now() - startedAt >= (this.policy.resetAfterMs ?? 30_000)) {
      this.consecutiveRestarts = 0;
    }
    const { maxRestarts } = this.policy;
    if (maxRestarts !== undefined && this.consecutiveRestarts >= maxRestarts) {
      this.emit("exit", exit, undefined);
      this.emit("give-up", exit);
      return;
    }
    const delay = restartDelay(this.policy, this.consecutiveRestarts);
    this.consecutiveRestarts += 1;
    this.emit("exit", exit, delay);
    this.timer = setTimeout(() => this.launch(), delay);
  }
}
