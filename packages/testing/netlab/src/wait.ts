import type { RunningProcess } from "@runtime/command";

export interface WaitOptions {
  /** Give up after this many milliseconds. Default 10 000. */
  timeoutMs?: number;
  /** Time between two checks. Default 25 ms. */
  intervalMs?: number;
  /** What is awaited, for the error message; a function is asked only when the wait fails. */
  description?: string | (() => string);
  /** Fail at once (with its last output) when this process exits before the condition holds. */
  process?: RunningProcess;
}

/**
 * Polls `check` until it returns a truthy value and resolves with that value. A check that throws
 * counts as "not yet"; its last error is quoted when the deadline passes. This is how every
 * readiness wait in the lab works: never a fixed sleep.
 */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 25;
  const describe = () =>
    typeof options.description === "function"
      ? options.description()
      : (options.description ?? "condition");
  const started = Date.now();
  let exited = false;
  void options.process?.exited.then(() => {
    exited = true;
  });
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (exited && options.process) {
      const exit = await options.process.exited;
      throw new Error(
        `${options.process.argv.join(" ")} exited (${exit.signal ?? `status ${exit.exitCode}`}) before ${describe()}${outputTail(options.process)}`,
      );
    }
    if (Date.now() - started > timeoutMs) {
      const why = lastError instanceof Error ? `; last check failed: ${lastError.message}` : "";
      const tail = options.process ? outputTail(options.process) : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}${why}${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function outputTail(process: RunningProcess): string {
  const lines = process.recentOutput().slice(-15);
  return lines.length > 0 ? `\n--- last output ---\n${lines.join("\n")}` : "";
}

/**
 * Collects every output line of a process from now on (the runner's `recentOutput()` is bounded),
 * so tests can assert on the whole log and wait for a line.
 */
export class OutputLog {
  readonly lines: string[] = [];

  constructor(readonly process: RunningProcess) {
    this.lines.push(...process.recentOutput());
    process.on("line", (line) => this.lines.push(line));
  }

  /** Resolves with the first line (already seen or still to come) that matches `pattern`. */
  waitForLine(pattern: RegExp, options: WaitOptions = {}): Promise<string> {
    return waitFor(() => this.lines.find((line) => pattern.test(line)), {
      description: `a line matching ${pattern}`,
      process: this.process,
      ...options,
    });
  }

  matching(pattern: RegExp): string[] {
    return this.lines.filter((line) => pattern.test(line));
  }
}
