/**
 * Running fwup with `--framing` through `@runtime/command`: the I/O edge around the pure
 * decoder in fwup-framing.ts. Used for the system's ops tasks here, and by `@hublink/client` to
 * stream firmware updates into fwup.
 */
import { once } from "node:events";
import { finished } from "node:stream/promises";
import type { CommandRunner, ProcessExit, RunningProcess } from "@runtime/command";
import { errorMessage } from "@runtime/errors";
import { FwupError } from "./errors.js";
import {
  encodeFwupInput,
  FWUP_INPUT_END,
  type FwupFrame,
  FwupFrameDecoder,
  FwupFramingError,
} from "./fwup-framing.js";

export interface StartFwupOptions {
  /** The fwup executable, found on the runner's PATH. Default `fwup`. */
  fwupPath?: string;
  /** Extra environment variables for fwup. */
  env?: Readonly<Record<string, string>>;
  /** Keep fwup's stdin open for framed input ({@link FwupSession.write}). Default false. */
  input?: boolean;
  /** Add `--exit-handshake` and close stdin when fwup says it is done. Default false. */
  exitHandshake?: boolean;
  /** Called for every record, in order, as it arrives. If it throws, a process warning is emitted. */
  onFrame?: (frame: FwupFrame) => void;
  /** Kill fwup (its process group) after this many milliseconds. Default: no limit. */
  timeoutMs?: number;
  /** Kill fwup when this aborts. */
  signal?: AbortSignal;
  /** For error messages: the ops task being run. */
  task?: string;
}

/** How a fwup run ended. */
export interface FwupOutcome {
  /** Exit status 0 (from the process or the exit handshake). */
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  frames: FwupFrame[];
  /** Text of the first `ER` record, if any. */
  errorMessage: string | undefined;
  /** The last lines fwup wrote to stderr. */
  stderr: string[];
}

/**
 * A running fwup. Write input with {@link write} (framed for you, waits for fwup to keep up),
 * finish with {@link finish}, or read frames as they come through `onFrame`.
 */
export interface FwupSession {
  readonly process: RunningProcess;
  /** Frames one chunk of input and writes it to fwup's stdin; resolves when fwup took it. */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the input (zero-length record, then EOF) and waits for the outcome. */
  finish(): Promise<FwupOutcome>;
  /** Waits for fwup to exit without sending anything more. */
  outcome: Promise<FwupOutcome>;
  /** Kills fwup's process group. */
  stop(): Promise<void>;
}

/**
 * Starts `fwup --framing [--exit-handshake] ...args` through the runner (`start` with
 * `output: "raw"`, stdin open when `input`). The outcome never rejects for fwup's own failures:
 * check `ok`, or use {@link fwupOutcomeError}. It rejects only with a {@link FwupError} for a
 * missing executable (`FWUP_NOT_FOUND`), a time limit (`FWUP_TIMEOUT`), or output that is not
 * framing (`FWUP_BAD_OUTPUT`, fwup is then killed).
 */
export function startFwup(
  runner: CommandRunner,
  args: readonly string[],
  options: StartFwupOptions = {},
): FwupSession {
  const argv = [
    options.fwupPath ?? "fwup",
    ...args,
    ...(args.includes("--framing") ? [] : ["--framing"]),
    ...(options.exitHandshake && !args.includes("--exit-handshake") ? ["--exit-handshake"] : []),
  ];
  const child = runner.start(argv, {
    output: "raw",
    // The exit handshake needs stdin open, to close it when fwup is done.
    stdin: options.input === true || options.exitHandshake === true,
    ...(options.env ? { env: options.env } : {}),
  });
  const decoder = new FwupFrameDecoder({ exitHandshake: options.exitHandshake ?? false });
  const frames: FwupFrame[] = [];
  const stderr: string[] = [];
  let failure: FwupError | undefined;

  const fail = (error: FwupError) => {
    failure ??= error;
    void child.stop();
  };

  child.on("line", (line, stream) => {
    if (stream === "stderr") {
      stderr.push(line);
      if (stderr.length > 50) stderr.shift();
    }
  });

  const consume = (chunk: Buffer) => {
    if (failure) return;
    let decoded: FwupFrame[];
    try {
      decoded = decoder.push(chunk);
    } catch (error) {
      fail(framingError(error, options.task));
      return;
    }
    for (const frame of decoded) {
      frames.push(frame);
      try {
        options.onFrame?.(frame);
      } catch (error) {
        // A failing progress callback must not abort a firmware update; it is reported instead.
        process.emitWarning(`startFwup: onFrame threw: ${errorMessage(error)}`);
      }
      // With the handshake fwup waits for EOF on stdin after its last record.
      if (options.exitHandshake && (frame.type === "OK" || frame.type === "ER")) {
        child.stdin?.end();
      }
    }
  };
  child.stdout?.on("data", consume);
  const outputDone = child.stdout
    ? finished(child.stdout).catch(() => undefined)
    : Promise.resolve(undefined);

  const timer =
    options.timeoutMs !== undefined && options.timeoutMs > 0
      ? setTimeout(
          () =>
            fail(
              new FwupError("FWUP_TIMEOUT", `fwup did not finish within ${options.timeoutMs} ms`, {
                ...(options.task ? { task: options.task } : {}),
              }),
            ),
          options.timeoutMs,
        )
      : undefined;
  const onAbort = () =>
    fail(
      new FwupError("FWUP_FAILED", "fwup was aborted", {
        ...(options.task ? { task: options.task } : {}),
        cause: options.signal?.reason,
      }),
    );
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });

  const outcome = (async (): Promise<FwupOutcome> => {
    const exit: ProcessExit = await child.exited;
    await outputDone;
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    if (exit.error) {
      throw new FwupError("FWUP_NOT_FOUND", `can't find fwup (${argv[0]}): ${exit.error.message}`, {
        ...(options.task ? { task: options.task } : {}),
        cause: exit.error,
      });
    }
    if (failure) throw failure;
    try {
      decoder.end();
    } catch (error) {
      throw framingError(error, options.task);
    }
    const exitCode = decoder.exitStatus ?? exit.exitCode;
    return {
      ok: exitCode === 0 && exit.signal === null,
      exitCode,
      signal: exit.signal,
      frames,
      errorMessage: frames.find((frame) => frame.type === "ER")?.text,
      stderr,
    };
  })();
  // Callers may only look at `finish()`; never leave an unhandled rejection behind.
  outcome.catch(() => undefined);

  async function write(chunk: Uint8Array): Promise<void> {
    const stdin = child.stdin;
    if (!stdin) throw new TypeError("startFwup: write() needs `input: true`");
    if (failure) throw failure;
    if (!stdin.write(encodeFwupInput(chunk))) {
      await Promise.race([once(stdin, "drain"), child.exited]);
    }
  }

  return {
    process: child,
    write,
    async finish() {
      const stdin = child.stdin;
      if (stdin && !stdin.writableEnded) {
        stdin.write(FWUP_INPUT_END);
        stdin.end();
      }
      return outcome;
    },
    outcome,
    async stop() {
      await child.stop();
    },
  };
}

function framingError(error: unknown, task: string | undefined): FwupError {
  const message = error instanceof FwupFramingError ? error.message : String(error);
  return new FwupError("FWUP_BAD_OUTPUT", `fwup output: ${message}`, {
    ...(task ? { task } : {}),
    cause: error,
  });
}

/**
 * The {@link FwupError} for an outcome that is not `ok` (`FWUP_FAILED`, message from fwup's first
 * `ER` record, else `"Unknown"` like nerves_runtime), or `undefined`.
 */
export function fwupOutcomeError(outcome: FwupOutcome, task?: string): FwupError | undefined {
  if (outcome.ok) return undefined;
  const fwupMessage = outcome.errorMessage ?? "Unknown";
  const how =
    outcome.signal !== null ? `was killed by ${outcome.signal}` : `exited with ${outcome.exitCode}`;
  return new FwupError(
    "FWUP_FAILED",
    `fwup${task ? ` task ${task}` : ""} failed: ${fwupMessage} (fwup ${how})`,
    {
      ...(task ? { task } : {}),
      fwupMessage,
      exitCode: outcome.exitCode,
    },
  );
}
