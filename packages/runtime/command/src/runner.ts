import { accessSync, constants, existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { EventEmitter } from "eventemitter3";
import { type Options as ExecaOptions, execa, type ResultPromise } from "execa";
import { CommandError } from "./errors.js";
import type {
  CommandResult,
  CommandRunner,
  ProcessEvents,
  ProcessExit,
  RunningProcess,
  RunOptions,
  StartOptions,
} from "./types.js";

/** The PATH every command runs with unless the runner is told otherwise. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface CommandRunnerOptions {
  /** PATH for every command; the host's PATH is never inherited. Default {@link DEFAULT_PATH}. */
  path?: string;
  /** Base environment for every command (PATH and LC_ALL=C are always set). */
  env?: Readonly<Record<string, string>>;
  /** Default time limit of `run()` in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL. Default 2 000 ms. */
  killGraceMs?: number;
  /**
   * Signal the kernel sends a child when this Node.js process dies, even by SIGKILL, so no daemon
   * outlives its owner. Uses util-linux `setpriv --pdeathsig`; `false` turns it off. Default
   * `"SIGTERM"` when `setpriv` exists (see README, "Orphans").
   */
  parentDeathSignal?: NodeJS.Signals | false;
  /** Path of util-linux `setpriv`. Default: found on `path`. */
  setprivPath?: string;
  /** Receives one debug line per command start and end. Output is never logged. */
  logger?: Pick<Console, "debug">;
  /** Lines kept by `recentOutput()`. Default 50. */
  recentLines?: number;
}

type SpawnedProcess = ResultPromise<ExecaOptions>;

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_KILL_GRACE_MS = 2_000;

/** Process groups still alive, killed synchronously if this process exits normally. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const group of liveGroups) killGroup(group, "SIGKILL");
    });
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    // The group is already gone; try the leader alone in case it left its group.
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

function findOnPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(":")) {
    if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

/** Whether `file` (a path, or a name looked up on `searchPath`) names an executable file. */
function isExecutable(file: string, searchPath: string, cwd: string | undefined): boolean {
  const candidates = file.includes("/")
    ? [isAbsolute(file) ? file : resolve(cwd ?? process.cwd(), file)]
    : searchPath
        .split(":")
        .filter(Boolean)
        .map((dir) => `${dir}/${file}`);
  return candidates.some((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function exitDescription(exitCode: number | undefined, signal: string | undefined): string {
  if (signal) return `killed by ${signal}`;
  return `exited with status ${exitCode}`;
}

/**
 * Creates the real runner, built on execa. Every process is the leader of a new process group,
 * so a time limit or `stop()` kills its whole tree, and (with `setpriv`) dies with its owner.
 */
export function createCommandRunner(options: CommandRunnerOptions = {}): CommandRunner {
  const searchPath = options.path ?? DEFAULT_PATH;
  const baseEnv = { ...options.env, PATH: searchPath, LC_ALL: "C" };
  const defaultTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const defaultGrace = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const recentLimit = options.recentLines ?? 50;
  const deathSignal =
    options.parentDeathSignal === undefined ? "SIGTERM" : options.parentDeathSignal;
  const setpriv =
    deathSignal === false ? undefined : (options.setprivPath ?? findOnPath("setpriv", searchPath));
  const logger = options.logger;

  function wrap(
    argv: readonly string[],
    cwd: string | undefined,
    withDeathSignal = true,
  ): [string, string[]] {
    if (argv.length === 0 || !argv[0]) {
      throw new TypeError("argv must name a command: got an empty argv");
    }
    // Only wrap what can be executed: setpriv would turn a missing executable into exit status
    // 127, and callers must be able to tell "not installed" (ENOENT) from "failed".
    if (setpriv && deathSignal && withDeathSignal && isExecutable(argv[0], searchPath, cwd)) {
      return [setpriv, ["--pdeathsig", deathSignal.replace(/^SIG/, ""), "--", ...argv]];
    }
    return [argv[0], argv.slice(1)];
  }

  function spawn(argv: readonly string[], extra: ExecaOptions, withDeathSignal = true) {
    const [file, args] = wrap(
      argv,
      typeof extra.cwd === "string" ? extra.cwd : undefined,
      withDeathSignal,
    );
    return execa(file, args, {
      env: { ...baseEnv, ...extra.env },
      extendEnv: false,
      detached: true,
      cleanup: false,
      reject: false,
      stripFinalNewline: false,
      ...extra,
    }) as unknown as SpawnedProcess;
  }

  async function run(argv: readonly string[], runOptions: RunOptions = {}) {
    const started = performance.now();
    const timeoutMs = runOptions.timeoutMs ?? defaultTimeout;
    const graceMs = runOptions.killGraceMs ?? defaultGrace;
    logger?.debug(`run: ${argv.join(" ")}`);
    if (runOptions.signal?.aborted) {
      throw new CommandError("ABORTED", "aborted before start", { argv });
    }
    const child = spawn(
      argv,
      {
        ...(runOptions.env ? { env: { ...baseEnv, ...runOptions.env } } : {}),
        ...(runOptions.cwd ? { cwd: runOptions.cwd } : {}),
        ...(runOptions.input !== undefined ? { input: runOptions.input } : { stdin: "ignore" }),
        encoding: "utf8",
      },
      runOptions.parentDeathSignal !== false,
    );
    const pid = child.pid;
    if (pid !== undefined) trackGroup(pid);

    let killedFor: "TIMEOUT" | "ABORTED" | undefined;
    const killTree = (why: "TIMEOUT" | "ABORTED") => {
      if (killedFor || pid === undefined) return;
      killedFor = why;
      killGroup(pid, "SIGTERM");
      setTimeout(() => killGroup(pid, "SIGKILL"), graceMs).unref();
    };
    const timer = timeoutMs > 0 ? setTimeout(() => killTree("TIMEOUT"), timeoutMs) : undefined;
    const onAbort = () => killTree("ABORTED");
    runOptions.signal?.addEventListener("abort", onAbort, { once: true });

    const result = await child;
    if (timer) clearTimeout(timer);
    runOptions.signal?.removeEventListener("abort", onAbort);
    // The leader is gone, but a child it left behind may still hold the group.
    if (pid !== undefined) {
      if (killedFor) killGroup(pid, "SIGKILL");
      liveGroups.delete(pid);
    }

    const durationMs = performance.now() - started;
    const stdout = String(result.stdout ?? "");
    const stderr = String(result.stderr ?? "");
    const details = {
      argv,
      exitCode: result.exitCode,
      signal: result.signal,
      stdout,
      stderr,
      durationMs,
    };
    logger?.debug(
      `done: ${argv[0]} ${exitDescription(result.exitCode, result.signal)} in ${durationMs.toFixed(1)} ms`,
    );

    const spawnError = result.cause as NodeJS.ErrnoException | undefined;
    if (result.exitCode === undefined && !result.signal && spawnError) {
      throw new CommandError("ENOENT", `cannot start: ${spawnError.message}`, {
        ...details,
        cause: spawnError,
      });
    }
    if (killedFor === "TIMEOUT") {
      throw new CommandError(
        "TIMEOUT",
        `no exit within ${timeoutMs} ms; process group killed`,
        details,
      );
    }
    if (killedFor === "ABORTED") {
      throw new CommandError("ABORTED", "aborted; process group killed", {
        ...details,
        cause: runOptions.signal?.reason,
      });
    }
    if (result.signal) {
      throw new CommandError("SIGNAL", `killed by ${result.signal}`, details);
    }
    if (result.exitCode !== 0 && !runOptions.allowFailure) {
      const firstErrorLine = stderr.trim().split("\n").at(-1) ?? "";
      throw new CommandError(
        "EXIT_STATUS",
        `exited with status ${result.exitCode}${firstErrorLine ? `: ${firstErrorLine}` : ""}`,
        details,
      );
    }
    return { argv, exitCode: result.exitCode ?? 0, stdout, stderr, durationMs } as CommandResult;
  }

  function start(argv: readonly string[], startOptions: StartOptions = {}): RunningProcess {
    const graceMs = startOptions.killGraceMs ?? defaultGrace;
    const raw = startOptions.output === "raw";
    logger?.debug(`start: ${argv.join(" ")}`);
    const child = spawn(argv, {
      ...(startOptions.env ? { env: { ...baseEnv, ...startOptions.env } } : {}),
      ...(startOptions.cwd ? { cwd: startOptions.cwd } : {}),
      stdin: startOptions.stdin ? "pipe" : "ignore",
      stdout: "pipe",
      stderr: "pipe",
      buffer: false,
      encoding: raw ? "buffer" : "utf8",
    });
    return new ChildProcessHandle(argv, child, graceMs, recentLimit, raw, logger);
  }

  return { run, start };
}

class ChildProcessHandle extends EventEmitter<ProcessEvents> implements RunningProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<ProcessExit>;
  readonly stdin;
  readonly stdout: Readable | null;
  private readonly recent: string[] = [];
  private exitInfo: ProcessExit | undefined;

  constructor(
    readonly argv: readonly string[],
    child: SpawnedProcess,
    private readonly graceMs: number,
    private readonly recentLimit: number,
    raw: boolean,
    logger: Pick<Console, "debug"> | undefined,
  ) {
    super();
    this.pid = child.pid;
    if (this.pid !== undefined) trackGroup(this.pid);
    this.stdin = child.stdin ?? null;
    this.stdout = raw ? child.stdout : null;
    if (!raw && child.stdout) this.readLines(child.stdout, "stdout");
    if (child.stderr) this.readLines(child.stderr, "stderr");
    // A closed stdin (EPIPE when the process died) must not crash the host.
    this.stdin?.on("error", () => {});
    this.exited = Promise.resolve(child).then(
      (result) => {
        const spawnError =
          result.exitCode === undefined && !result.signal ? result.cause : undefined;
        const exit: ProcessExit = {
          exitCode: result.exitCode ?? null,
          signal: result.signal ?? null,
          ...(spawnError instanceof Error ? { error: spawnError } : {}),
        };
        return exit;
      },
      (error: unknown) => ({
        exitCode: null,
        signal: null,
        error: error instanceof Error ? error : new Error(String(error)),
      }),
    );
    void this.exited.then((exit) => {
      this.exitInfo = exit;
      if (this.pid !== undefined) {
        // Reap anything the leader left running in its group.
        killGroup(this.pid, "SIGKILL");
        liveGroups.delete(this.pid);
      }
      logger?.debug(
        `exit: ${argv[0]} ${exitDescription(exit.exitCode ?? undefined, exit.signal ?? undefined)}`,
      );
      this.emit("exit", exit);
    });
  }

  private readLines(stream: Readable, name: "stdout" | "stderr"): void {
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on("line", (line) => {
      this.recent.push(line);
      if (this.recent.length > this.recentLimit) this.recent.shift();
      this.emit("line", line, name);
    });
    lines.on("error", () => {});
  }

  recentOutput(): string[] {
    return [...this.recent];
  }

  async stop(options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<ProcessExit> {
    if (this.exitInfo) return this.exitInfo;
    if (this.pid === undefined) return this.exited;
    const pid = this.pid;
    killGroup(pid, options.signal ?? "SIGTERM");
    const timer = setTimeout(() => killGroup(pid, "SIGKILL"), options.graceMs ?? this.graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
