// The fallback transport, for systems without the native addon: wpa_supplicant's own wpa_cli.
// - Requests: one `wpa_cli -p DIR -i IFNAME raw COMMAND` process each. Its standard output is
//   exactly the response, so framing cannot go wrong, and a time limit kills just that process.
//   Commands carrying secrets are refused: argv is readable by every user in /proc/PID/cmdline.
// - Events: one long-lived interactive `wpa_cli -p DIR -i IFNAME` (stdin kept open, never
//   written), which ATTACHes and prints every event as `\r<N>EVENT`; it also reports a lost
//   connection. Interactive wpa_cli hides CTRL-EVENT-BSS-ADDED/REMOVED.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { RunningProcess } from "@runtime/command";
import { CommandError } from "@runtime/command";
import { WpaControlError } from "./errors.js";
import { carriesSecret, redactCommand } from "./protocol.js";
import { type ControlTransport, socketIdentity, type TransportContext } from "./transport.js";

/** Terminal control sequences (`ESC [ K`); built from a string so no control character is in a regex literal. */
const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(0x1b)}\\[[0-9;]*[A-Za-z]`, "g");

/** What the interactive wpa_cli's output says. */
export type MonitorSignal =
  | { type: "event"; message: string }
  | { type: "attached" }
  | { type: "unreachable" }
  | { type: "lost" };

/**
 * Incremental parser of interactive wpa_cli output (tested against wpa_cli 2.10). Pure: feed it
 * chunks, get signals. Attached means: the banner's `Interactive mode` line followed directly by
 * the `> ` prompt (wpa_cli prints the prompt only after it connected and sent ATTACH), or a
 * `Connection to wpa_supplicant re-established` line.
 */
export class WpaCliMonitorParser {
  private buffer = "";
  private sawInteractive = false;
  private attachedAnnounced = false;
  /** After "Could not connect" or a loss, only "re-established" means attached. */
  private sawUnreachable = false;

  push(chunk: string): MonitorSignal[] {
    this.buffer += chunk;
    const signals: MonitorSignal[] = [];
    let newline = this.buffer.indexOf("\n");
    while (newline >= 0) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      this.line(line, signals);
      newline = this.buffer.indexOf("\n");
    }
    // The prompt after the banner has no newline of its own.
    this.promptSeen(this.buffer, signals);
    return signals;
  }

  private promptSeen(text: string, signals: MonitorSignal[]): void {
    if (
      this.sawInteractive &&
      !this.sawUnreachable &&
      !this.attachedAnnounced &&
      text.startsWith("> ")
    ) {
      this.attachedAnnounced = true;
      signals.push({ type: "attached" });
    }
  }

  private line(rawLine: string, signals: MonitorSignal[]): void {
    this.promptSeen(rawLine, signals);
    // Events are printed as "\r<3>TEXT" after the prompt; line editing adds "\x1b[K".
    const afterReturn = rawLine.slice(rawLine.lastIndexOf("\r") + 1);
    const line = afterReturn.replace(ANSI_ESCAPE, "");
    if (/^<\d+>/.test(line)) {
      signals.push({ type: "event", message: line });
      return;
    }
    if (line === "Interactive mode") {
      this.sawInteractive = true;
      return;
    }
    if (line.startsWith("Could not connect to wpa_supplicant")) {
      this.sawUnreachable = true;
      signals.push({ type: "unreachable" });
      return;
    }
    if (line.startsWith("Connection to wpa_supplicant lost")) {
      this.attachedAnnounced = false;
      this.sawUnreachable = true;
      signals.push({ type: "lost" });
      return;
    }
    if (line.startsWith("Connection to wpa_supplicant re-established") && !this.attachedAnnounced) {
      this.attachedAnnounced = true;
      signals.push({ type: "attached" });
    }
  }
}

/** How wpa_cli says it found no daemon (stdout or stderr, exit status 255). */
const CANNOT_CONNECT =
  /Failed to connect to|Could not connect to wpa_supplicant|No such file or directory|Connection refused/;

export class WpaCliTransport implements ControlTransport {
  readonly kind = "wpa_cli";
  private monitor: RunningProcess | undefined;
  /**
   * A private directory for wpa_cli's client sockets (`-s`): a wpa_cli killed at a time limit
   * leaves its `wpa_ctrl_<pid>-<n>` behind, and here we can remove it without touching anyone
   * else's files.
   */
  private socketDir: string | undefined;

  constructor(private readonly context: TransportContext) {}

  private baseArgv(): string[] {
    this.socketDir ??= mkdtempSync(join(this.context.clientDir, `wpa_cli-${process.pid}-`));
    return [
      this.context.wpaCli,
      "-p",
      this.context.ctrlInterface,
      "-i",
      this.context.ifname,
      "-s",
      this.socketDir,
    ];
  }

  /** Removes sockets of wpa_cli processes that were killed (everything but the monitor's). */
  private removeStaleSockets(): void {
    if (!this.socketDir) return;
    const keep = this.monitor?.pid === undefined ? undefined : `wpa_ctrl_${this.monitor.pid}-`;
    for (const name of readdirSync(this.socketDir)) {
      if (keep === undefined || !name.startsWith(keep))
        rmSync(join(this.socketDir, name), { force: true });
    }
  }

  async open(): Promise<void> {
    await this.stopMonitor();
  }

  async request(command: string, signal: AbortSignal): Promise<string> {
    const redacted = redactCommand(command);
    if (carriesSecret(command)) {
      throw new WpaControlError(
        "INSECURE_TRANSPORT",
        `${redacted}: the wpa_cli transport cannot send secrets (argv is public); write them to the config file and RECONFIGURE, or install unix-dgram`,
        { command: redacted },
      );
    }
    if (command.includes("\n")) {
      throw new WpaControlError("TRANSPORT", "a command cannot contain a newline", {
        command: redacted,
      });
    }
    try {
      const result = await this.context.runner.run([...this.baseArgv(), "raw", command], {
        signal,
        timeoutMs: 0,
        allowFailure: true,
      });
      if (result.exitCode !== 0) {
        const output = `${result.stdout}\n${result.stderr}`.trim();
        const code = CANNOT_CONNECT.test(output) ? "DISCONNECTED" : "TRANSPORT";
        throw new WpaControlError(
          code,
          `${redacted}: wpa_cli exited with ${result.exitCode}: ${output.split("\n").at(-1)}`,
          {
            command: redacted,
          },
        );
      }
      // wpa_cli prints "'CMD' command timed out." itself after 10 s: treat as our timeout.
      if (/command timed out\.\s*$/.test(result.stdout) && result.stdout.startsWith("'")) {
        throw new WpaControlError("TIMEOUT", `${redacted}: timed out`, { command: redacted });
      }
      return result.stdout;
    } catch (error) {
      if (error instanceof WpaControlError) throw error;
      if (signal.aborted) {
        this.removeStaleSockets();
        throw signal.reason instanceof Error
          ? signal.reason
          : new WpaControlError("TIMEOUT", `${redacted}: timed out`, { command: redacted });
      }
      const code =
        error instanceof CommandError && error.code === "ENOENT" ? "TRANSPORT" : "TRANSPORT";
      throw new WpaControlError(
        code,
        `${redacted}: cannot run ${this.context.wpaCli}: ${(error as Error).message}`,
        {
          command: redacted,
          cause: error,
        },
      );
    }
  }

  async attach(signal: AbortSignal): Promise<void> {
    await this.stopMonitor();
    const monitor = this.context.runner.start(this.baseArgv(), { stdin: true, output: "raw" });
    this.monitor = monitor;
    const parser = new WpaCliMonitorParser();
    let attached = false;
    await new Promise<void>((resolve, reject) => {
      const fail = (error: WpaControlError) => {
        signal.removeEventListener("abort", onAbort);
        void this.stopMonitor();
        reject(error);
      };
      const onAbort = () =>
        fail(
          signal.reason instanceof WpaControlError
            ? signal.reason
            : new WpaControlError("TIMEOUT", "ATTACH (wpa_cli monitor): timed out", {
                command: "ATTACH",
              }),
        );
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener("abort", onAbort, { once: true });
      monitor.stdout?.setEncoding("utf8");
      monitor.stdout?.on("data", (chunk: string) => {
        for (const item of parser.push(chunk)) {
          if (item.type === "event") {
            if (attached) this.context.handlers.event(item.message);
          } else if (item.type === "attached") {
            if (!attached) {
              attached = true;
              signal.removeEventListener("abort", onAbort);
              resolve();
            }
          } else if (!attached) {
            fail(
              new WpaControlError("DISCONNECTED", "wpa_cli could not connect to wpa_supplicant", {
                command: "ATTACH",
              }),
            );
          } else if (this.monitor === monitor) {
            // Lost (or unreachable after a loss): our own reconnect logic takes over.
            this.context.handlers.lost(
              new WpaControlError("DISCONNECTED", "wpa_cli lost the connection to wpa_supplicant"),
            );
          }
        }
      });
      void monitor.exited.then((exit) => {
        if (!attached) {
          fail(
            new WpaControlError(
              "TRANSPORT",
              `wpa_cli monitor exited (${exit.signal ?? exit.exitCode})${exit.error ? `: ${exit.error.message}` : ""}`,
              { command: "ATTACH" },
            ),
          );
        } else if (this.monitor === monitor) {
          this.monitor = undefined;
          this.context.handlers.lost(new WpaControlError("DISCONNECTED", "wpa_cli monitor exited"));
        }
      });
    });
  }

  private async stopMonitor(): Promise<void> {
    const monitor = this.monitor;
    this.monitor = undefined;
    if (monitor) await monitor.stop({ graceMs: 1_000 });
  }

  daemonIdentity(): string | undefined {
    return socketIdentity(this.context.socketPath);
  }

  async close(): Promise<void> {
    await this.stopMonitor();
    if (this.socketDir) rmSync(this.socketDir, { recursive: true, force: true });
    this.socketDir = undefined;
  }
}
