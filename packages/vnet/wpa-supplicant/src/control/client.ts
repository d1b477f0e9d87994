import { join } from "node:path";
import { type CommandRunner, createCommandRunner } from "@runtime/command";
import { EventEmitter } from "eventemitter3";
import { encodeConfigString } from "../config/strings.js";
import { WpaControlError } from "./errors.js";
import { decodeEvent, type WpaEvent } from "./events.js";
import {
  expectNotFailure,
  expectOk,
  type ListedNetwork,
  parseKeyValueLines,
  parseListNetworks,
  parseScanResults,
  parseStatus,
  redactCommand,
  type ScanResult,
  type WpaStatus,
} from "./protocol.js";
import type { ControlTransport, TransportContext, TransportFactory } from "./transport.js";
import { loadUnixDgram, UnixDgramTransport } from "./unix-dgram-transport.js";
import { WpaCliTransport } from "./wpa-cli-transport.js";

/** Which transport to use; see the README for the trade-offs. */
export type TransportChoice = "auto" | "unix-dgram" | "wpa_cli" | TransportFactory;

export interface WpaControlOptions {
  /** The `ctrl_interface` directory of the daemon, e.g. `/tmp/vnet/wpa_supplicant`. */
  ctrlInterface: string;
  /** The interface whose socket to talk to: `<ctrlInterface>/<ifname>`. */
  ifname: string;
  /** Directory for our own client socket (`wpa_ctrl_<pid>-<n>`, removed on close). Default `/tmp`. */
  clientDir?: string;
  /** `auto` (default): `unix-dgram` when the addon loads, else `wpa_cli`. */
  transport?: TransportChoice;
  /** Runs wpa_cli for the `wpa_cli` transport. Default: a runner from @runtime/command. */
  runner?: CommandRunner;
  /** The wpa_cli executable. Default `wpa_cli` (found on the runner's PATH). */
  wpaCli?: string;
  /** Receive unsolicited events (ATTACH). Default true. */
  attach?: boolean;
  /** Time limit of one request, in ms. Default 4000 (as VintageNet). */
  requestTimeoutMs?: number;
  /** How long `connect()` waits for the control socket to answer, in ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Send PING after this many ms without any message from the daemon; 0 disables. Default 15000. */
  keepAliveIntervalMs?: number;
  /** Reconnect back-off after the daemon went away. Default 100 ms doubling to 5000 ms. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Requests allowed to wait behind the one in flight. Default 64. */
  maxQueue?: number;
}

export interface WpaControlEvents {
  /** Every unsolicited message, decoded. */
  event: (event: WpaEvent) => void;
  /** The daemon went away (socket gone, refused, TERMINATING, keep-alive failed). */
  disconnected: (reason: Error) => void;
  /** Reconnected (and re-attached) after `disconnected`. */
  reconnected: () => void;
}

/** `connected`: requests go through; `disconnected`: reconnecting, requests fail at once. */
export type WpaControlState = "connected" | "disconnected" | "closed";

/** A request of the user, or an internal task (a reconnect attempt) that needs the line alone. */
type QueueItem =
  | {
      type: "request";
      command: string;
      timeoutMs: number;
      resolve(response: string): void;
      reject(error: Error): void;
    }
  | { type: "task"; run(): Promise<void> };

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Creates the transport for a choice; `auto` falls back to wpa_cli when the addon is missing. */
export async function createTransport(
  choice: TransportChoice,
  context: TransportContext,
): Promise<ControlTransport> {
  if (typeof choice === "function") return choice(context);
  if (choice === "wpa_cli") return new WpaCliTransport(context);
  try {
    return new UnixDgramTransport(await loadUnixDgram(), context);
  } catch (error) {
    if (choice === "unix-dgram") {
      throw new WpaControlError(
        "TRANSPORT",
        `the unix-dgram addon is not usable: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return new WpaCliTransport(context);
  }
}

/**
 * A client of one wpa_supplicant control socket. One request is in flight at a time (the rest
 * wait in a queue), each with a time limit; unsolicited events are decoded and emitted; a PING
 * keeps the link checked; when the daemon restarts, the client reconnects, re-attaches and emits
 * `reconnected`. Create it with {@link WpaControl.connect}.
 */
export class WpaControl extends EventEmitter<WpaControlEvents> {
  private stateValue: WpaControlState = "disconnected";
  private readonly queue: QueueItem[] = [];
  private busy = false;
  private lastActivity = Date.now();
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private readonly closing = new AbortController();
  private reconnecting: Promise<void> | undefined;
  private connectedIdentity: string | undefined;
  private terminated = false;
  private transportValue!: ControlTransport;
  /** Aborts whatever is in flight; `close()` uses it so nothing waits out its time limit. */
  private inFlight: AbortController | undefined;

  private constructor(
    private readonly options: Required<Omit<WpaControlOptions, "runner" | "reconnect">> & {
      runner: CommandRunner;
      reconnect: { initialDelayMs: number; maxDelayMs: number };
    },
  ) {
    super();
  }

  /** The daemon's socket path this client talks to. */
  get socketPath(): string {
    return join(this.options.ctrlInterface, this.options.ifname);
  }

  get state(): WpaControlState {
    return this.stateValue;
  }

  /** The transport in use: `unix-dgram`, `wpa_cli` or a custom one's kind. */
  get transport(): string {
    return this.transportValue.kind;
  }

  /**
   * Connects to `<ctrlInterface>/<ifname>`, waiting up to `connectTimeoutMs` for the daemon to
   * answer PING (it may have just been started), then ATTACHes. Rejects with `UNREACHABLE`.
   */
  static async connect(options: WpaControlOptions): Promise<WpaControl> {
    const client = new WpaControl({
      ctrlInterface: options.ctrlInterface,
      ifname: options.ifname,
      clientDir: options.clientDir ?? "/tmp",
      transport: options.transport ?? "auto",
      runner: options.runner ?? createCommandRunner({ timeoutMs: 10_000 }),
      wpaCli: options.wpaCli ?? "wpa_cli",
      attach: options.attach ?? true,
      requestTimeoutMs: options.requestTimeoutMs ?? 4_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      keepAliveIntervalMs: options.keepAliveIntervalMs ?? 15_000,
      maxQueue: options.maxQueue ?? 64,
      reconnect: {
        initialDelayMs: options.reconnect?.initialDelayMs ?? 100,
        maxDelayMs: options.reconnect?.maxDelayMs ?? 5_000,
      },
    });
    await client.start();
    return client;
  }

  private async start(): Promise<void> {
    const options = this.options;
    this.transportValue = await createTransport(options.transport, {
      socketPath: this.socketPath,
      ctrlInterface: options.ctrlInterface,
      ifname: options.ifname,
      clientDir: options.clientDir,
      runner: options.runner,
      wpaCli: options.wpaCli,
      handlers: {
        event: (message) => this.onEvent(message),
        lost: (reason) => this.markLost(reason),
      },
    });
    const deadline = Date.now() + options.connectTimeoutMs;
    let waitMs = 50;
    let lastError: unknown;
    for (;;) {
      try {
        await this.session();
        break;
      } catch (error) {
        lastError = error;
        if (
          !(error instanceof WpaControlError) ||
          !["DISCONNECTED", "TIMEOUT", "BUSY"].includes(error.code)
        ) {
          await this.transportValue.close();
          throw error;
        }
      }
      if (Date.now() + waitMs > deadline) {
        await this.transportValue.close();
        throw new WpaControlError(
          "UNREACHABLE",
          `wpa_supplicant at ${this.socketPath} did not answer within ${options.connectTimeoutMs} ms: ${(lastError as Error).message}`,
          { cause: lastError },
        );
      }
      await delay(waitMs, this.closing.signal);
      waitMs = Math.min(waitMs * 2, 500);
    }
    this.stateValue = "connected";
    this.touch();
    this.scheduleKeepAlive();
  }

  /** Opens the transport, checks PING and ATTACHes: one connection attempt. */
  private async session(): Promise<void> {
    await this.transportValue.open();
    const pong = await this.raw("PING", this.options.requestTimeoutMs);
    if (pong.trim() !== "PONG") {
      throw new WpaControlError("BAD_RESPONSE", `PING answered ${JSON.stringify(pong.trim())}`, {
        command: "PING",
        response: pong,
      });
    }
    if (this.options.attach) {
      await this.withTimeout("ATTACH", this.options.requestTimeoutMs, (signal) =>
        this.transportValue.attach(signal),
      );
    }
    this.connectedIdentity = this.transportValue.daemonIdentity?.();
    this.terminated = false;
  }

  private async withTimeout<T>(
    command: string,
    timeoutMs: number,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    this.inFlight = controller;
    const redacted = redactCommand(command);
    const timer = setTimeout(
      () =>
        controller.abort(
          new WpaControlError(
            "TIMEOUT",
            `${redacted}: no answer from wpa_supplicant within ${timeoutMs} ms`,
            {
              command: redacted,
            },
          ),
        ),
      timeoutMs,
    );
    try {
      const result = await run(controller.signal);
      this.touch();
      return result;
    } finally {
      clearTimeout(timer);
      if (this.inFlight === controller) this.inFlight = undefined;
    }
  }

  /** Sends directly through the transport; only for the (already exclusive) session set-up. */
  private raw(command: string, timeoutMs: number): Promise<string> {
    return this.withTimeout(command, timeoutMs, (signal) =>
      this.transportValue.request(command, signal),
    );
  }

  private touch(): void {
    this.lastActivity = Date.now();
  }

  private onEvent(message: string): void {
    this.touch();
    const event = decodeEvent(message);
    if (event.kind === "terminating") {
      this.terminated = true;
    }
    this.emit("event", event);
    if (event.kind === "terminating") {
      this.markLost(new WpaControlError("DISCONNECTED", "wpa_supplicant is terminating"));
    }
  }

  private scheduleKeepAlive(): void {
    clearTimeout(this.keepAliveTimer);
    const interval = this.options.keepAliveIntervalMs;
    if (interval <= 0 || this.stateValue !== "connected") return;
    const due = this.lastActivity + interval - Date.now();
    this.keepAliveTimer = setTimeout(() => void this.keepAlive(), Math.max(due, 0));
    // A library timer must not keep the application alive.
    this.keepAliveTimer.unref();
  }

  private async keepAlive(): Promise<void> {
    if (this.stateValue !== "connected") return;
    if (Date.now() - this.lastActivity < this.options.keepAliveIntervalMs) {
      this.scheduleKeepAlive();
      return;
    }
    try {
      const pong = await this.request("PING");
      if (pong.trim() !== "PONG") {
        this.markLost(
          new WpaControlError(
            "BAD_RESPONSE",
            `keep-alive PING answered ${JSON.stringify(pong.trim())}`,
          ),
        );
      }
    } catch (error) {
      if (error instanceof WpaControlError && error.code !== "CLOSED") {
        this.markLost(
          new WpaControlError("DISCONNECTED", `keep-alive PING failed: ${error.message}`, {
            cause: error,
          }),
        );
      }
    }
    this.scheduleKeepAlive();
  }

  private markLost(reason: Error): void {
    if (this.stateValue !== "connected") return;
    this.stateValue = "disconnected";
    clearTimeout(this.keepAliveTimer);
    this.emit("disconnected", reason);
    this.reconnecting ??= this.reconnectLoop().finally(() => {
      this.reconnecting = undefined;
    });
  }

  private async reconnectLoop(): Promise<void> {
    let waitMs = this.options.reconnect.initialDelayMs;
    let sawSocketGone = false;
    while (this.stateValue === "disconnected") {
      await delay(waitMs, this.closing.signal);
      if (this.stateValue !== "disconnected") return;
      waitMs = Math.min(waitMs * 2, this.options.reconnect.maxDelayMs);
      // After TERMINATING the old daemon may still answer for a moment: wait for a new socket.
      if (this.transportValue.daemonIdentity) {
        const identity = this.transportValue.daemonIdentity();
        if (identity === undefined) {
          sawSocketGone = true;
          continue;
        }
        if (this.terminated && !sawSocketGone && identity === this.connectedIdentity) continue;
      }
      const connected = await this.exclusive(async () => {
        if (this.stateValue !== "disconnected") return false;
        try {
          await this.session();
          return true;
        } catch {
          return false;
        }
      });
      if (connected && this.stateValue === "disconnected") {
        this.stateValue = "connected";
        this.touch();
        this.scheduleKeepAlive();
        this.emit("reconnected");
        this.pump();
        return;
      }
    }
  }

  /** Runs `task` when no request is in flight, ahead of waiting requests, holding the line. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.unshift({
        type: "task",
        run: () => task().then(resolve, reject),
      });
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy) return;
    const item = this.queue.shift();
    if (!item) return;
    this.busy = true;
    void this.runItem(item).finally(() => {
      this.busy = false;
      this.pump();
    });
  }

  private async runItem(item: QueueItem): Promise<void> {
    if (item.type === "task") {
      await item.run();
      return;
    }
    const redacted = redactCommand(item.command);
    if (this.stateValue !== "connected") {
      item.reject(
        this.stateValue === "closed"
          ? new WpaControlError("CLOSED", "the client is closed", { command: redacted })
          : new WpaControlError("DISCONNECTED", `${redacted}: wpa_supplicant is not connected`, {
              command: redacted,
            }),
      );
      return;
    }
    try {
      item.resolve(await this.raw(item.command, item.timeoutMs));
    } catch (error) {
      item.reject(error as Error);
      if (error instanceof WpaControlError && error.code === "DISCONNECTED") this.markLost(error);
    }
  }

  /**
   * Sends any command and resolves with the raw response text (`OK\n`, `FAIL\n`, `PONG\n`,
   * key=value lines, ...). One request is in flight at a time; others wait in order. Rejects with
   * WpaControlError `TIMEOUT`, `DISCONNECTED`, `CLOSED`, `QUEUE_FULL` or `BUSY`.
   */
  request(command: string, options: { timeoutMs?: number } = {}): Promise<string> {
    const redacted = redactCommand(command);
    if (this.stateValue === "closed") {
      return Promise.reject(
        new WpaControlError("CLOSED", "the client is closed", { command: redacted }),
      );
    }
    if (this.stateValue !== "connected") {
      return Promise.reject(
        new WpaControlError("DISCONNECTED", `${redacted}: wpa_supplicant is not connected`, {
          command: redacted,
        }),
      );
    }
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(
        new WpaControlError(
          "QUEUE_FULL",
          `${redacted}: ${this.queue.length} requests are waiting already`,
          {
            command: redacted,
          },
        ),
      );
    }
    return new Promise<string>((resolve, reject) => {
      this.queue.push({
        type: "request",
        command,
        timeoutMs: options.timeoutMs ?? this.options.requestTimeoutMs,
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /** Sends a command that must answer `OK`. */
  async command(command: string): Promise<void> {
    expectOk(command, await this.request(command));
  }

  /** PING → true when the daemon answered PONG. */
  async ping(): Promise<boolean> {
    return (await this.request("PING")).trim() === "PONG";
  }

  /** STATUS, parsed. `wpa_state` COMPLETED means connected (WiFi) or authorized (wired 802.1X). */
  async status(): Promise<WpaStatus> {
    return parseStatus(expectNotFailure("STATUS", await this.request("STATUS")));
  }

  /** Re-reads the configuration file (after you rewrote it). */
  reconfigure(): Promise<void> {
    return this.command("RECONFIGURE");
  }

  /** LIST_NETWORKS, parsed. */
  async listNetworks(): Promise<ListedNetwork[]> {
    return parseListNetworks(
      expectNotFailure("LIST_NETWORKS", await this.request("LIST_NETWORKS")),
    );
  }

  /** ADD_NETWORK → the new network's id. */
  async addNetwork(): Promise<number> {
    const response = expectNotFailure("ADD_NETWORK", await this.request("ADD_NETWORK")).trim();
    if (!/^\d+$/.test(response)) {
      throw new WpaControlError(
        "BAD_RESPONSE",
        `ADD_NETWORK answered ${JSON.stringify(response)}`,
        {
          command: "ADD_NETWORK",
          response,
        },
      );
    }
    return Number(response);
  }

  /**
   * SET_NETWORK: `value` is sent as given when it is a number or boolean (as 1/0); a string for a
   * text field (`ssid`, `identity`, `password`, `phase2`, `ca_cert`, ...) is encoded like the
   * config writer does (quoted or hex). For any other field a string is sent verbatim (`key_mgmt`,
   * `eap`, a 64-hex `psk`). Use {@link setNetworkRaw} to send exact text.
   */
  setNetwork(
    id: number,
    field: string,
    value: string | number | boolean | Uint8Array,
  ): Promise<void> {
    let text: string;
    if (typeof value === "number") text = String(value);
    else if (typeof value === "boolean") text = value ? "1" : "0";
    else if (value instanceof Uint8Array || TEXT_FIELDS.has(field))
      text = encodeConfigString(value);
    else if (field === "psk" && !/^[0-9a-fA-F]{64}$/.test(value)) text = encodeConfigString(value);
    else text = value;
    return this.setNetworkRaw(id, field, text);
  }

  /** SET_NETWORK with the value text exactly as wpa_supplicant should parse it. */
  setNetworkRaw(id: number, field: string, valueText: string): Promise<void> {
    return this.command(`SET_NETWORK ${id} ${field} ${valueText}`);
  }

  /**
   * GET_NETWORK: the value as wpa_supplicant shows it: `"text"` or hex for strings (decode with
   * `decodeConfigString`), tokens for lists, `*` for keys it does not reveal.
   */
  async getNetwork(id: number, field: string): Promise<string> {
    const command = `GET_NETWORK ${id} ${field}`;
    return expectNotFailure(command, await this.request(command));
  }

  removeNetwork(id: number | "all"): Promise<void> {
    return this.command(`REMOVE_NETWORK ${id}`);
  }

  selectNetwork(id: number): Promise<void> {
    return this.command(`SELECT_NETWORK ${id}`);
  }

  enableNetwork(id: number | "all"): Promise<void> {
    return this.command(`ENABLE_NETWORK ${id}`);
  }

  disableNetwork(id: number | "all"): Promise<void> {
    return this.command(`DISABLE_NETWORK ${id}`);
  }

  /** SAVE_CONFIG (needs `update_config=1` in the file). */
  saveConfig(): Promise<void> {
    return this.command("SAVE_CONFIG");
  }

  /** Starts a scan; results follow as a `scan-results` event. `FAIL-BUSY` is transient. */
  scan(): Promise<void> {
    return this.command("SCAN");
  }

  /** SCAN_RESULTS, parsed. */
  async scanResults(): Promise<ScanResult[]> {
    return parseScanResults(expectNotFailure("SCAN_RESULTS", await this.request("SCAN_RESULTS")));
  }

  /** BSS <id|bssid> as key/value pairs (empty when there is no such entry). */
  async bss(which: number | string): Promise<Record<string, string>> {
    return parseKeyValueLines(await this.request(`BSS ${which}`));
  }

  /** SIGNAL_POLL as key/value pairs (RSSI, LINKSPEED, NOISE, FREQUENCY). */
  async signalPoll(): Promise<Record<string, string>> {
    const response = expectNotFailure("SIGNAL_POLL", await this.request("SIGNAL_POLL"));
    return parseKeyValueLines(response);
  }

  /** 802.1X: start authentication (EAPOL-Start) / stop it (EAPOL-Logoff). */
  logon(): Promise<void> {
    return this.command("LOGON");
  }

  logoff(): Promise<void> {
    return this.command("LOGOFF");
  }

  reassociate(): Promise<void> {
    return this.command("REASSOCIATE");
  }

  disconnect(): Promise<void> {
    return this.command("DISCONNECT");
  }

  /** Resolves with the first event for which `match` is true; rejects after `timeoutMs`. */
  waitForEvent(
    match: (event: WpaEvent) => boolean,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<WpaEvent> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise<WpaEvent>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.off("event", listener);
        options.signal?.removeEventListener("abort", onAbort);
      };
      const listener = (event: WpaEvent) => {
        if (!match(event)) return;
        cleanup();
        resolve(event);
      };
      const onAbort = () => {
        cleanup();
        reject(options.signal?.reason);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new WpaControlError("TIMEOUT", `no matching event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on("event", listener);
      options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Stops keep-alive and reconnecting, fails waiting requests with `CLOSED`, and closes the
   * transport (our client socket is removed; a wpa_cli monitor is stopped). Idempotent.
   */
  async close(): Promise<void> {
    if (this.stateValue === "closed") return;
    const wasConnected = this.stateValue === "connected";
    this.stateValue = "closed";
    clearTimeout(this.keepAliveTimer);
    this.closing.abort();
    this.inFlight?.abort(new WpaControlError("CLOSED", "the client is closed"));
    for (const item of this.queue.splice(0)) {
      // A waiting reconnect attempt sees the closed state and gives up at once.
      if (item.type === "task") void item.run();
      else {
        item.reject(
          new WpaControlError("CLOSED", "the client is closed", {
            command: redactCommand(item.command),
          }),
        );
      }
    }
    if (
      wasConnected &&
      this.options.attach &&
      this.transportValue.kind === "unix-dgram" &&
      !this.busy
    ) {
      // Polite: the daemon forgets us at once instead of after failed sends.
      await this.withTimeout("DETACH", 500, (signal) =>
        this.transportValue.request("DETACH", signal),
      ).catch(() => {});
    }
    await this.reconnecting?.catch(() => {});
    await this.transportValue.close();
    this.removeAllListeners();
  }
}

/** Fields whose string values SET_NETWORK encodes like the config writer. */
const TEXT_FIELDS = new Set([
  "ssid",
  "identity",
  "anonymous_identity",
  "password",
  "sae_password",
  "phase1",
  "phase2",
  "ca_cert",
  "ca_cert2",
  "client_cert",
  "client_cert2",
  "private_key",
  "private_key2",
  "private_key_passwd",
  "private_key2_passwd",
  "domain_suffix_match",
  "domain_match",
  "id_str",
  "bgscan",
]);
