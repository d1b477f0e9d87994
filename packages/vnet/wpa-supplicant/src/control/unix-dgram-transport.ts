// The direct transport: an AF_UNIX datagram socket through the optional native addon `unix-dgram`
// (Node has no Unix datagram sockets of its own). This is what wpa_ctrl.c does in C.
import { unlinkSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { WpaControlError } from "./errors.js";
import { isEventMessage, redactCommand } from "./protocol.js";
import { type ControlTransport, socketIdentity, type TransportContext } from "./transport.js";

/** The part of the `unix-dgram` module this transport uses. */
interface UnixDgramSocket {
  on(event: "message", listener: (message: Buffer) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  bind(path: string): void;
  send(
    buffer: Buffer,
    offset: number,
    length: number,
    path: string,
    callback: (error?: Error & { code?: unknown }) => void,
  ): void;
  close(): void;
}
export interface UnixDgramModule {
  createSocket(type: "unix_dgram"): UnixDgramSocket;
}

let loaded: Promise<UnixDgramModule> | undefined;

/**
 * Loads the native addon once. Rejects when it is not installed, was not built (pnpm and npm skip
 * install scripts unless allowed) or was built for another Node ABI.
 */
export function loadUnixDgram(): Promise<UnixDgramModule> {
  loaded ??= import("unix-dgram" as string).then(
    (module: { default?: UnixDgramModule } & Partial<UnixDgramModule>) => {
      const candidate = (module.default ?? module) as UnixDgramModule;
      if (typeof candidate.createSocket !== "function")
        throw new Error("unix-dgram has no createSocket");
      // Creating (and closing) one socket proves the compiled part loads for this Node.
      candidate.createSocket("unix_dgram").close();
      return candidate;
    },
  );
  return loaded;
}

/** errno numbers (unix-dgram reports `-errno`) → names. */
function errnoName(code: unknown): string {
  if (typeof code === "string") return code;
  if (typeof code !== "number") return "EIO";
  for (const [name, value] of Object.entries(constants.errno))
    if (value === -code || value === code) return name;
  return `errno ${code}`;
}

let socketCounter = 0;

interface Pending {
  resolve(response: string): void;
  reject(error: Error): void;
}

export class UnixDgramTransport implements ControlTransport {
  readonly kind = "unix-dgram";
  private socket: UnixDgramSocket | undefined;
  private socketPath: string | undefined;
  private pending: Pending | undefined;
  private attached = false;
  /** After a socket renewal the daemon no longer knows us: ATTACH again before the next request. */
  private reattachNeeded = false;

  constructor(
    private readonly addon: UnixDgramModule,
    private readonly context: TransportContext,
  ) {}

  /** The path of our bound client socket (for tests and diagnostics). */
  get clientSocketPath(): string | undefined {
    return this.socketPath;
  }

  async open(): Promise<void> {
    this.attached = false;
    this.reattachNeeded = false;
    this.renewSocket();
  }

  /** Closes the current client socket (if any) and binds a fresh one at a new path. */
  private renewSocket(): void {
    this.closeSocket();
    socketCounter += 1;
    // wpa_ctrl.c names its sockets wpa_ctrl_<pid>-<n> in /tmp; we do the same in clientDir.
    const path = join(this.context.clientDir, `wpa_ctrl_${process.pid}-${socketCounter}`);
    try {
      unlinkSync(path);
    } catch {
      // Not there: the normal case.
    }
    const socket = this.addon.createSocket("unix_dgram");
    let bindError: Error | undefined;
    socket.on("error", (error) => {
      bindError = error;
    });
    socket.bind(path);
    if (bindError) {
      socket.close();
      throw new WpaControlError(
        "TRANSPORT",
        `cannot bind the client socket ${path}: ${errnoName((bindError as { code?: unknown }).code)}`,
        { cause: bindError },
      );
    }
    socket.on("message", (buffer) => this.onMessage(buffer.toString("utf8")));
    this.socket = socket;
    this.socketPath = path;
  }

  private closeSocket(): void {
    const socket = this.socket;
    const path = this.socketPath;
    this.socket = undefined;
    this.socketPath = undefined;
    if (socket) {
      try {
        socket.close();
      } catch {
        // Already closed.
      }
    }
    if (path) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone.
      }
    }
  }

  private onMessage(message: string): void {
    if (isEventMessage(message)) {
      this.context.handlers.event(message);
      return;
    }
    const pending = this.pending;
    this.pending = undefined;
    // A response nobody waits for cannot happen after a renewal; drop it if it ever does.
    pending?.resolve(message);
  }

  private send(command: string, signal: AbortSignal): Promise<string> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new WpaControlError("CLOSED", "the transport is closed"));
    const redacted = redactCommand(command);
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        this.pending = undefined;
        // The daemon may still answer this request later; a new socket guarantees that the late
        // answer goes nowhere instead of being read as the answer to the next request.
        this.renewSocket();
        this.reattachNeeded = this.attached;
        reject(
          signal.reason instanceof Error
            ? signal.reason
            : new WpaControlError("TIMEOUT", `${redacted}: timed out`, { command: redacted }),
        );
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener("abort", onAbort, { once: true });
      const settle =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          signal.removeEventListener("abort", onAbort);
          fn(value);
        };
      this.pending = { resolve: settle(resolve), reject: settle(reject) };
      const buffer = Buffer.from(command, "utf8");
      socket.send(buffer, 0, buffer.length, this.context.socketPath, (error) => {
        if (!error) return;
        const pending = this.pending;
        this.pending = undefined;
        const name = errnoName(error.code);
        const code =
          name === "ENOENT" || name === "ECONNREFUSED" || name === "ENOTDIR"
            ? "DISCONNECTED"
            : name === "EAGAIN" || name === "EWOULDBLOCK" || name === "ENOBUFS"
              ? "BUSY"
              : "TRANSPORT";
        pending?.reject(
          new WpaControlError(
            code,
            `${redacted}: cannot send to ${this.context.socketPath} (${name})`,
            {
              command: redacted,
              cause: error,
            },
          ),
        );
      });
    });
  }

  async request(command: string, signal: AbortSignal): Promise<string> {
    if (this.reattachNeeded) {
      await this.attachNow(signal);
    }
    return this.send(command, signal);
  }

  private async attachNow(signal: AbortSignal): Promise<void> {
    const response = await this.send("ATTACH", signal);
    if (response.trim() !== "OK") {
      throw new WpaControlError(
        "COMMAND_FAILED",
        `ATTACH answered ${JSON.stringify(response.trim())}`,
        {
          command: "ATTACH",
          response,
        },
      );
    }
    this.attached = true;
    this.reattachNeeded = false;
  }

  attach(signal: AbortSignal): Promise<void> {
    return this.attachNow(signal);
  }

  daemonIdentity(): string | undefined {
    return socketIdentity(this.context.socketPath);
  }

  async close(): Promise<void> {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(new WpaControlError("CLOSED", "the transport is closed"));
    this.attached = false;
    this.closeSocket();
  }
}
