import type { Readable, Writable } from "node:stream";
import type { EventEmitter } from "eventemitter3";

/** Options for one short-lived command. */
export interface RunOptions {
  /** Kill the process group after this many milliseconds. Default 30 000; 0 disables. */
  timeoutMs?: number;
  /** Extra environment variables, merged over the runner's minimal base environment. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Bytes or text written to the command's standard input, which is then closed. */
  input?: string | Uint8Array;
  /** Cancels the command: the process group is killed and the promise rejects with `ABORTED`. */
  signal?: AbortSignal;
  /** Resolve with the result instead of rejecting when the exit status is not zero. */
  allowFailure?: boolean;
  /** Time between SIGTERM and SIGKILL when the command is killed. Default: the runner's. */
  killGraceMs?: number;
  /**
   * `false` skips the runner's parent-death wrapper (`setpriv`) for this command: one exec less,
   * for quick commands on hot paths (`ip addr replace`). Such a command still dies with its time
   * limit, its abort and a normal exit of this process, but not with a SIGKILLed one.
   */
  parentDeathSignal?: false;
}

/** What a finished command produced. */
export interface CommandResult {
  argv: readonly string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Options for a long-lived process such as a daemon. */
export interface StartOptions {
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Keep standard input open as a writable stream (`process.stdin`). Default: closed. */
  stdin?: boolean;
  /**
   * `lines` (default): stdout and stderr are split into lines and emitted as `line` events.
   * `raw`: stdout is left to the caller as a byte stream (`process.stdout`); stderr still gives lines.
   */
  output?: "lines" | "raw";
  /** Time between SIGTERM and SIGKILL in `stop()`. Default: the runner's. */
  killGraceMs?: number;
}

/** How a process ended. `error` is set when it could not be started at all. */
export interface ProcessExit {
  exitCode: number | null;
  signal: string | null;
  error?: Error;
}

export interface ProcessEvents {
  line: (line: string, stream: "stdout" | "stderr") => void;
  exit: (exit: ProcessExit) => void;
}

/** A long-lived child process, leader of its own process group. */
export interface RunningProcess extends EventEmitter<ProcessEvents> {
  readonly argv: readonly string[];
  readonly pid: number | undefined;
  /** Resolves once the process has exited; never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** Standard input when started with `stdin: true`. */
  readonly stdin: Writable | null;
  /** Raw standard output when started with `output: "raw"`. */
  readonly stdout: Readable | null;
  /** The last lines of output (bounded), for error messages and `info` views. */
  recentOutput(): string[];
  /** Sends `signal` (default SIGTERM) to the whole group, SIGKILL after the grace time. */
  stop(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<ProcessExit>;
}

/**
 * The one seam between library code and the operating system's processes. Library code takes a
 * `CommandRunner` option; tests of pure logic pass the recording runner from
 * `@runtime/command/testing`, integration tests pass the real one.
 */
export interface CommandRunner {
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
  start(argv: readonly string[], options?: StartOptions): RunningProcess;
}
