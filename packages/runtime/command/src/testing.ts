/**
 * Test doubles for code that takes a `CommandRunner`. Use them to test pure orchestration logic
 * (which commands run, in which order); test the commands themselves against real Linux.
 */
import { PassThrough } from "node:stream";
import { EventEmitter } from "eventemitter3";
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

/** What a scripted command should do. */
export interface ScriptedResult {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** Reject as if the command timed out. */
  timeout?: boolean;
  /** Reject as if the executable did not exist. */
  missing?: boolean;
  /**
   * Never finish on its own, like a command that hangs: the promise rejects with `ABORTED` when
   * the caller's `signal` aborts (and stays pending without one). For testing time limits.
   */
  hang?: boolean;
}

export interface RecordedCall {
  kind: "run" | "start";
  argv: readonly string[];
  options: RunOptions | StartOptions;
}

type Responder = (argv: readonly string[]) => ScriptedResult | undefined;

/**
 * Records every `run` and `start` and answers `run` from a script: responders are tried newest
 * first; the first one returning a result wins; unmatched commands succeed with empty output.
 */
export class RecordingCommandRunner implements CommandRunner {
  readonly calls: RecordedCall[] = [];
  readonly started: FakeProcess[] = [];
  private readonly responders: Responder[] = [];

  /** Answer commands whose argv starts with `prefix`. */
  respond(prefix: readonly string[], result: ScriptedResult): this {
    return this.respondWith((argv) =>
      prefix.every((part, index) => argv[index] === part) ? result : undefined,
    );
  }

  respondWith(responder: Responder): this {
    this.responders.unshift(responder);
    return this;
  }

  /** The argv of every call so far, joined with spaces, for compact assertions. */
  commandLines(): string[] {
    return this.calls.map((call) => call.argv.join(" "));
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    this.calls.push({ kind: "run", argv, options });
    const scripted = this.responders.map((responder) => responder(argv)).find(Boolean) ?? {};
    const result = {
      argv,
      exitCode: scripted.exitCode ?? 0,
      stdout: scripted.stdout ?? "",
      stderr: scripted.stderr ?? "",
      durationMs: 0,
    };
    if (scripted.missing) throw new CommandError("ENOENT", "cannot start: not found", { argv });
    if (scripted.hang) return hangUntilAborted(argv, options.signal);
    if (scripted.timeout) throw new CommandError("TIMEOUT", "no exit within time limit", result);
    if (result.exitCode !== 0 && !options.allowFailure) {
      throw new CommandError("EXIT_STATUS", `exited with status ${result.exitCode}`, result);
    }
    return result;
  }

  start(argv: readonly string[], options: StartOptions = {}): FakeProcess {
    this.calls.push({ kind: "start", argv, options });
    const process = new FakeProcess(argv, options);
    this.started.push(process);
    return process;
  }
}

function hangUntilAborted(
  argv: readonly string[],
  signal: AbortSignal | undefined,
): Promise<never> {
  return new Promise((_, reject) => {
    const abort = () =>
      reject(new CommandError("ABORTED", "aborted; process group killed", { argv }));
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
  });
}

let nextFakePid = 100_000;

/**
 * A process that runs until the test ends it with `exit()` or the code under test calls `stop()`.
 * Started with `output: "raw"`, it has a byte `stdout` that `printRaw()` writes to.
 */
export class FakeProcess extends EventEmitter<ProcessEvents> implements RunningProcess {
  readonly pid = nextFakePid++;
  readonly exited: Promise<ProcessExit>;
  readonly stdin = new PassThrough();
  readonly stdout: PassThrough | null;
  stopped = false;
  private resolveExit!: (exit: ProcessExit) => void;
  private readonly lines: string[] = [];
  private exitInfo: ProcessExit | undefined;

  constructor(
    readonly argv: readonly string[],
    options: StartOptions = {},
  ) {
    super();
    this.stdout = options.output === "raw" ? new PassThrough() : null;
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  /** Write bytes to the raw `stdout` as if the process printed them (`output: "raw"` only). */
  printRaw(chunk: Uint8Array): void {
    if (!this.stdout) throw new Error('printRaw needs a process started with output: "raw"');
    this.stdout.write(chunk);
  }

  /** Emit a line of output as if the process printed it. */
  print(line: string, stream: "stdout" | "stderr" = "stdout"): void {
    this.lines.push(line);
    this.emit("line", line, stream);
  }

  /** End the process as if it exited by itself. */
  exit(exit: ProcessExit = { exitCode: 0, signal: null }): void {
    if (this.exitInfo) return;
    this.exitInfo = exit;
    // Like a real process: its output ends before the exit is reported.
    this.stdout?.end();
    this.resolveExit(exit);
    this.emit("exit", exit);
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  recentOutput(): string[] {
    return [...this.lines];
  }

  async stop(): Promise<ProcessExit> {
    this.stopped = true;
    this.exit({ exitCode: null, signal: "SIGTERM" });
    return this.exited;
  }
}
