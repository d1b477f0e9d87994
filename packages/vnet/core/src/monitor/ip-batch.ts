import { type CommandRunner, type SupervisedProcess, supervise } from "@runtime/command";
import type { Clock } from "../clock.js";
import { errorMessage, type Logger } from "../log.js";
import { onEveryStart } from "../supervision.js";

interface Pending {
  resolve: (line: string) => void;
  reject: (error: Error) => void;
  timer: unknown;
}

/**
 * One long-lived `ip -json -force -batch -` answering queries: write `addr show`, read one line
 * of JSON back. A re-read then costs about a millisecond instead of a process start (several
 * ms of CPU, on a device and on the path to `lan`). Queries are answered in order. When the
 * process is gone or does not answer in time, `query` rejects and the caller falls back to a
 * plain `ip` run; the process is restarted with back-off.
 */
export class IpBatch {
  private process: SupervisedProcess | undefined;
  private readonly pending: Pending[] = [];

  constructor(
    private readonly runner: CommandRunner,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly timeoutMs = 2_000,
  ) {}

  start(): void {
    this.process = supervise(this.runner, ["ip", "-json", "-force", "-batch", "-"], {
      stdin: true,
      restart: { initialDelayMs: 500, maxDelayMs: 10_000 },
    });
    onEveryStart(this.process, (running) => {
      running.on("line", (line, stream) => {
        if (stream === "stdout") this.pending.shift()?.resolve(line);
        else this.logger.debug(`ip -batch: ${line}`);
      });
    });
    this.process.on("exit", () => this.failAll(new Error("ip -batch exited")));
  }

  /** Runs one `ip` command (without the `ip`), e.g. `addr show`; resolves with its JSON line. */
  query(command: string): Promise<string> {
    const stdin = this.process?.current()?.stdin;
    if (!stdin || stdin.destroyed) return Promise.reject(new Error("ip -batch is not running"));
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        resolve: (line) => {
          this.clock.clearTimeout(entry.timer);
          resolve(line);
        },
        reject,
        timer: this.clock.setTimeout(() => {
          const index = this.pending.indexOf(entry);
          if (index !== -1) this.pending.splice(index, 1);
          reject(new Error(`ip -batch: no answer to "${command}" within ${this.timeoutMs} ms`));
          // Its answer may still come and would be taken for the next query's: start over.
          void this.process?.current()?.stop();
        }, this.timeoutMs),
      };
      this.pending.push(entry);
      stdin.write(`${command}\n`, (error) => {
        if (error) this.failAll(new Error(`ip -batch: ${errorMessage(error)}`));
      });
    });
  }

  async stop(): Promise<void> {
    const process = this.process;
    this.process = undefined;
    await process?.stop();
    this.failAll(new Error("ip -batch stopped"));
  }

  private failAll(error: Error): void {
    for (const entry of this.pending.splice(0)) {
      this.clock.clearTimeout(entry.timer);
      entry.reject(error);
    }
  }
}
