// A minimal device-side Phoenix V2 driver over raw `ws` frames, standing in for
// `@hublink/client` (which does not exist yet). It numbers refs the way Slipstream does (one
// per-connection counter shared by joins, pushes and heartbeats) and keeps every frame it got.

import WebSocket from "ws";

export type Frame = [unknown, unknown, string, string, unknown];

export interface DriverOptions {
  headers?: Record<string, string>;
  /** Query `vsn`; `null` leaves it out. Default `2.0.0`. */
  vsn?: string | null;
  path?: "/device-socket" | "/socket";
  perMessageDeflate?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
}

export interface UpgradeRefusal {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function socketUrl(base: string, options: DriverOptions): string {
  const vsn = options.vsn === undefined ? "2.0.0" : options.vsn;
  const query = vsn === null ? "" : `?vsn=${encodeURIComponent(vsn)}`;
  return `${base}${options.path ?? "/device-socket"}/websocket${query}`;
}

function open(base: string, options: DriverOptions): WebSocket {
  return new WebSocket(socketUrl(base, options), {
    headers: options.headers ?? {},
    perMessageDeflate: options.perMessageDeflate ?? false,
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.cert ? { cert: options.cert } : {}),
    ...(options.key ? { key: options.key } : {}),
    ...(options.servername ? { servername: options.servername } : {}),
  });
}

/** Tries an upgrade that should be refused; resolves with the HTTP answer (or the error). */
export function attemptUpgrade(
  base: string,
  options: DriverOptions,
): Promise<UpgradeRefusal | { error: Error } | { opened: true }> {
  return new Promise((resolve) => {
    const ws = open(base, options);
    ws.on("unexpected-response", (_request, response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    ws.on("open", () => {
      ws.terminate();
      resolve({ opened: true });
    });
    ws.on("error", (error) => resolve({ error }));
  });
}

export class Driver {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #ref = 0;
  #listeners = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const listener of this.#listeners) listener();
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const listener of this.#listeners) listener();
      }),
    );
  }

  static connect(base: string, options: DriverOptions = {}): Promise<Driver> {
    return new Promise((resolve, reject) => {
      const ws = open(base, options);
      const driver = new Driver(ws);
      ws.once("open", () => resolve(driver));
      ws.once("unexpected-response", (_request, response) =>
        reject(new Error(`upgrade refused: ${response.statusCode}`)),
      );
      ws.once("error", reject);
    });
  }

  nextRef(): string {
    this.#ref += 1;
    return String(this.#ref);
  }

  sendFrame(frame: unknown[]): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Resolves with the first frame from index `from` on that matches. */
  waitFor(
    predicate: (frame: Frame) => boolean,
    options: { from?: number; timeoutMs?: number } = {},
  ) {
    const from = options.from ?? 0;
    return new Promise<Frame>((resolve, reject) => {
      const check = () => {
        const found = this.frames.slice(from).find(predicate);
        if (found) {
          cleanup();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching frame; got ${JSON.stringify(this.frames.slice(from))}`));
      }, options.timeoutMs ?? 5_000);
      const cleanup = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Joins and resolves with the reply payload `{status, response}`. */
  async join(topic: string, payload: unknown): Promise<{ joinRef: string; reply: Frame }> {
    const ref = this.nextRef();
    const from = this.frames.length;
    this.sendFrame([ref, ref, topic, "phx_join", payload]);
    const reply = await this.waitFor((frame) => frame[1] === ref && frame[3] === "phx_reply", {
      from,
    });
    return { joinRef: ref, reply };
  }

  /** A push on a joined topic; returns its ref. */
  push(joinRef: string | null, topic: string, event: string, payload: unknown): string {
    const ref = this.nextRef();
    this.sendFrame([joinRef, ref, topic, event, payload]);
    return ref;
  }

  async heartbeat(): Promise<Frame> {
    const ref = this.nextRef();
    const from = this.frames.length;
    this.sendFrame([null, ref, "phoenix", "heartbeat", {}]);
    return this.waitFor((frame) => frame[1] === ref, { from });
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    return this.closed;
  }
}

/** A `device` join payload like NervesHubLink 2.12 sends. */
export function joinPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    nerves_fw_uuid: "8a8b902c-d1a9-58aa-6111-04ab57c2f2a8",
    nerves_fw_version: "0.1.0",
    nerves_fw_product: "acme",
    nerves_fw_platform: "rpi4",
    nerves_fw_architecture: "aarch64",
    nerves_fw_author: "The Nerves Team",
    nerves_fw_description: "test firmware",
    nerves_fw_misc: "extra comments",
    nerves_fw_vcs_identifier: "a1b2c3d",
    fwup_version: "1.13.2",
    device_api_version: "2.3.0",
    console_version: "2.0.0",
    currently_downloading_uuid: null,
    meta: { firmware_auto_revert_detected: false, firmware_validated: true },
    ...overrides,
  };
}
