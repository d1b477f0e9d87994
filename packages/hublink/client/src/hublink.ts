// HubLink: the NervesHub device client. Wires the configuration, the device socket, the update
// decision machine, the updater and the PropertyTable together. The protocol decisions live in
// the pure modules; this file performs their effects.
import { readFile } from "node:fs/promises";
import { connect as netConnect } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { type DownloadOptions, interfaceForAddress } from "@hublink/downloader";
import { type CommandRunner, createCommandRunner } from "@runtime/command";
import { DeviceError, errorMessage, redactSecrets } from "@runtime/errors";
import {
  autoRevertDetected,
  Firmware,
  type KV,
  Power,
  readSerialNumber,
  signalInitPower,
  systemdPower,
} from "@runtime/kv";
import type { PropertyPath, PropertyTable } from "@runtime/property-table";
import { EventEmitter } from "eventemitter3";
import type { Message } from "phoenix";
import { clockHint, offsetFromDateHeader, type SigningClock, signingTime } from "./auth/clock.js";
import { signNh1 } from "./auth/nh1.js";
import {
  acceptDelayList,
  cryptoRandom,
  delayFor,
  delayList,
  type RandomSource,
} from "./backoff.js";
import {
  type HubLinkConfig,
  type HubLinkConfigInput,
  normalizeConfig,
  resolveSharedSecret,
  socketEndpoint,
} from "./config.js";
import { DeviceConnection } from "./connection.js";
import { isKnownServerEvent } from "./events.js";
import { buildJoinPayload } from "./join.js";
import { consoleLogger, type Logger } from "./logger.js";
import { proxyAgent } from "./proxy.js";
import { type AttemptSettings, transportClass } from "./transport.js";
import { parseUpdateInfo, redactUrl, type UpdateInfo } from "./update-info.js";
import {
  gateProgress,
  INITIAL_PROGRESS_GATE,
  INITIAL_UPDATE_STATE,
  type ProgressGate,
  type StatusPayload,
  type UpdateDecision,
  type UpdateEffect,
  type UpdateEvent,
  type UpdatePhase,
  type UpdaterOutcome,
  type UpdateState,
  updateTransition,
} from "./update-machine.js";
import { fwupVersion, resolveDevpath } from "./updaters/fwup.js";
import { streamingUpdater } from "./updaters/streaming.js";
import type { FwupMessage, Updater } from "./updaters/types.js";

/** The application's hooks (NervesHubLink's Client behaviour). Each is optional. */
export interface ClientCallbacks {
  /** Decide on an update. Default: apply (firmware already running is skipped before asking). */
  updateAvailable(info: UpdateInfo): UpdateDecision | Promise<UpdateDecision>;
  /** Every fwup record of an update (progress, ok, warning, error). */
  fwupMessage(message: FwupMessage): void;
  /** Disconnects, refused joins, channel errors, invalid offers and failed updates (quirk 21). */
  error(error: HubLinkError): void;
  /** Restart the device (after an update, or when the server asks). Default: Power from kv. */
  reboot(): void | Promise<void>;
  /** The server asked the device to identify itself (blink an LED). */
  identify(): void;
  /** Reconnect delays in ms for the next disconnect; undefined for the default jittered list. */
  reconnectBackoff(): number[] | undefined;
  /** The device channel joined. */
  connected(): void;
  /** Default: kv's validation status (`Firmware.isFirmwareValid()`). */
  firmwareValidated(): boolean;
  /** Default: kv's rule (the other slot holds firmware marked not validated). */
  firmwareAutoRevertDetected(): boolean;
}

/** Everything the client reports through `error`: a stable `code` and a secret-free message. */
export class HubLinkError extends DeviceError {
  override name = "HubLinkError";
}

export interface HubLinkOptions extends HubLinkConfigInput {
  /** Firmware metadata, credentials stored on the device, validation state. */
  kv: KV;
  /** Publish state here (paths in the README). */
  table?: PropertyTable;
  /** Default `["hublink"]`. */
  prefix?: PropertyPath;
  /** How updates are installed. Default: `streamingUpdater()` (through @hublink/downloader). */
  updater?: Updater;
  client?: Partial<ClientCallbacks>;
  /** Last say over the configuration (e.g. credentials from a secure element); validated after. */
  configurator?: (config: HubLinkConfig) => HubLinkConfig | Promise<HubLinkConfig>;
  runner?: CommandRunner;
  power?: Power;
  firmware?: Firmware;
  logger?: Logger;
  /** Device clock (Unix ms). Default `Date.now`. */
  clock?: () => number;
  random?: RandomSource;
}

export interface HubLinkStatus {
  connected: boolean;
  socketConnected: boolean;
  identifier: string;
  endpoint: string;
  updater: string;
  update: {
    phase: UpdatePhase;
    firmwareUuid: string | null;
    progress: { stage: string; value: number } | null;
  };
  networkInterface: string | null;
  /** Server minus device clock as last learned from a `date` header. */
  clockOffsetMs: number;
  lastError: { code: string; message: string } | null;
  /** The configuration, secrets redacted. */
  config: unknown;
}

export interface HubLinkEvents {
  /** The device channel joined. */
  connected: () => void;
  disconnected: (reason: string) => void;
  /** An update offer passed parsing. */
  update: (info: UpdateInfo) => void;
  /** A `status_update` went to the server. */
  updateStatus: (payload: StatusPayload) => void;
  progress: (stage: "downloading" | "updating", value: number) => void;
  fwupMessage: (message: FwupMessage) => void;
  error: (error: HubLinkError) => void;
  rebooting: () => void;
  identify: () => void;
  /** A server event this client does not know (logged, ignored). */
  unknownMessage: (topic: string, event: string, payload: unknown) => void;
  /** A reconnect attempt is scheduled. */
  reconnecting: (delayMs: number, attempt: number) => void;
  /** The server refused an upgrade with this HTTP status. */
  refused: (status: number) => void;
}

const SCRIPT_REFUSAL = "Error running script: @hublink/client does not evaluate Elixir scripts";

export class HubLink extends EventEmitter<HubLinkEvents> {
  readonly config: HubLinkConfig;
  readonly identifier: string;
  readonly #options: HubLinkOptions;
  readonly #logger: Logger;
  readonly #clock: () => number;
  readonly #random: RandomSource;
  readonly #runner: CommandRunner;
  readonly #firmware: Firmware;
  readonly #updater: Updater;
  readonly #prefix: PropertyPath;
  readonly #endpoint: string;
  readonly #signingClock: SigningClock = { offsetMs: 0 };
  readonly #credentials: { key: string; secret: string } | undefined;
  readonly #certificate: { cert: string | Buffer; key: string | Buffer } | undefined;
  readonly #fwupVersion: string | undefined;
  #connection: DeviceConnection | undefined;
  #delays: number[] = [];
  #fwupKeys: string[];
  #state: UpdateState = INITIAL_UPDATE_STATE;
  #gate: ProgressGate = INITIAL_PROGRESS_GATE;
  #gateStage: string | undefined;
  #progress: { stage: string; value: number } | null = null;
  #localAddress: string | undefined;
  #networkInterface: string | null = null;
  #lastError: HubLinkError | null = null;
  #abort = new AbortController();
  #timers = new Set<NodeJS.Timeout>();
  #validationPoll: NodeJS.Timeout | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;
  #clockHintShown = false;

  private constructor(
    options: HubLinkOptions,
    config: HubLinkConfig,
    resolved: {
      identifier: string;
      credentials: { key: string; secret: string } | undefined;
      certificate: { cert: string | Buffer; key: string | Buffer } | undefined;
      fwupVersion: string | undefined;
      runner: CommandRunner;
      firmware: Firmware;
    },
  ) {
    super();
    this.#options = options;
    this.config = config;
    this.identifier = resolved.identifier;
    this.#logger = options.logger ?? consoleLogger;
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? cryptoRandom;
    this.#runner = resolved.runner;
    this.#firmware = resolved.firmware;
    this.#updater = options.updater ?? streamingUpdater();
    this.#prefix = options.prefix ?? ["hublink"];
    this.#endpoint = socketEndpoint(config);
    this.#credentials = resolved.credentials;
    this.#certificate = resolved.certificate;
    this.#fwupVersion = resolved.fwupVersion;
    this.#fwupKeys = [...config.fwup.publicKeys];
  }

  /** Validates the options, resolves identity and credentials, and connects (unless `connect: false`). */
  static async start(options: HubLinkOptions): Promise<HubLink> {
    const {
      kv,
      table: _table,
      prefix: _prefix,
      updater: _updater,
      client: _client,
      configurator,
      runner: givenRunner,
      power: _power,
      firmware: givenFirmware,
      logger: _logger,
      clock: _clock,
      random: _random,
      ...configInput
    } = options;
    let config = normalizeConfig(configInput);
    if (configurator) config = normalizeConfig(await configurator(config));
    const runner = givenRunner ?? createCommandRunner();
    const firmware =
      givenFirmware ??
      new Firmware({ kv, runner, ...(options.power ? { power: options.power } : {}) });
    const identifier = config.identifier ?? (await readSerialNumber({ kv, runner }));
    const credentials = config.sharedSecret
      ? resolveSharedSecret(config.sharedSecret, (key) => kv.get(key))
      : undefined;
    const certificate = config.certificate ? await loadCertificate(config, kv) : undefined;
    const version = await fwupVersion(runner, config.fwup.path);
    const client = new HubLink(options, config, {
      identifier,
      credentials,
      certificate,
      fwupVersion: version,
      runner,
      firmware,
    });
    client.#init();
    return client;
  }

  /** The `device` channel is joined. */
  connected(): boolean {
    return this.#connection?.joined ?? false;
  }

  status(): HubLinkStatus {
    return {
      connected: this.connected(),
      socketConnected: this.#connection?.socketConnected ?? false,
      identifier: this.identifier,
      endpoint: this.#endpoint,
      updater: this.#updater.name,
      update: {
        phase: this.#state.phase,
        firmwareUuid: this.#state.info?.firmwareMeta.uuid ?? null,
        progress: this.#progress,
      },
      networkInterface: this.#networkInterface,
      clockOffsetMs: this.#signingClock.offsetMs,
      lastError: this.#lastError
        ? { code: this.#lastError.code, message: this.#lastError.message }
        : null,
      config: redactSecrets(this.config, { extraKeys: ["cert", "productKey"] }),
    };
  }

  /** Drops the socket and connects again (after the back-off's first step). */
  reconnect(): void {
    this.#connection?.reconnect();
  }

  /**
   * Pushes a `status_update` (e.g. `"rescheduled"` with `{ delay_for }`). False when the device
   * channel is not joined. Never waits for an answer (NervesHub sends none).
   */
  sendUpdateStatus(status: string, extra: Record<string, string | number | null> = {}): boolean {
    const payload: StatusPayload = { ...extra, status };
    const sent = this.#push("status_update", payload);
    if (sent) this.emit("updateStatus", payload);
    return sent;
  }

  /** Disconnects, stops an update in progress (its updater is aborted) and clears timers. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort(new HubLinkError("STOPPED", "the client stopped"));
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    clearInterval(this.#validationPoll);
    await this.#connection?.stop();
    await this.#running?.catch(() => undefined);
    this.#put(["connected"], false);
    this.#put(["socket_connected"], false);
  }

  // ---------------------------------------------------------------- set-up

  #init(): void {
    const config = this.config;
    const secure = this.#endpoint.startsWith("wss:");
    const agent = config.proxy ? proxyAgent(config.proxy, secure) : undefined;
    const transport = transportClass({
      attempt: () => this.#attemptSettings(agent),
      refused: (status, headers) => this.#refused(status, headers.date),
      opened: (localAddress) => {
        this.#localAddress = localAddress;
      },
    });
    this.#connection = new DeviceConnection({
      endpoint: this.#endpoint,
      transport,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      joinTimeoutMs: config.joinTimeoutMs,
      rejoinAfterMs: config.rejoinAfterMs,
      reconnectAfterMs: (tries) => this.#reconnectDelay(tries),
      joinParams: () => this.#joinParams(),
      logger: this.#logger,
      onOpen: () => {
        this.#put(["socket_connected"], true);
        this.#delete(["alarms", "disconnected"]);
      },
      onClose: (code, reason) => this.#closed(code, reason),
      onTransportError: () => undefined,
      onJoined: () => this.#joined(),
      onChannelError: (reason) => this.#channelError(reason),
      onChannelClosed: () =>
        this.#reportError("CHANNEL_CLOSED", "the server closed the device channel; joining again"),
      onDeviceMessage: (event, payload) => this.#deviceMessage(event, payload),
      onOtherMessage: (message) => this.#otherMessage(message),
    });
    this.#put(["identifier"], this.identifier);
    this.#put(["connected"], false);
    this.#put(["socket_connected"], false);
    this.#put(["alarms", "disconnected"], { reason: "not connected yet", since: this.#clock() });
    this.#publishUpdate();
    if (this.#autoRevertDetected())
      this.#put(["alarms", "firmware_reverted"], { since: this.#clock() });
    const hint = clockHint(this.#clock());
    if (hint && this.#credentials) {
      this.#clockHintShown = true;
      this.#logger.warn(hint);
    }
    if (config.connect) void this.#startConnecting();
  }

  async #startConnecting(): Promise<void> {
    if (this.config.connectWaitForNetwork) await this.#waitForNetwork();
    if (this.#stopped) return;
    this.#connection?.connect();
  }

  /** Reference §1.8: a plain TCP connection to the host (or proxy) before the first attempt. */
  async #waitForNetwork(): Promise<void> {
    const target = new URL(this.config.proxy ?? this.#endpoint);
    const port =
      Number(target.port) ||
      (target.protocol === "wss:" || target.protocol === "https:" ? 443 : 80);
    const host = target.hostname.replace(/^\[|\]$/g, "");
    let logged = false;
    while (!this.#stopped) {
      const reachable = await new Promise<boolean>((resolve) => {
        const socket = netConnect({ host, port });
        const done = (ok: boolean) => {
          socket.destroy();
          resolve(ok);
        };
        socket.setTimeout(2_000, () => done(false));
        socket.once("connect", () => done(true));
        socket.once("error", () => done(false));
      });
      if (reachable) return;
      if (!logged) {
        this.#logger.info(`waiting for network: ${host}:${port} is not reachable yet`);
        logged = true;
      }
      await new Promise<void>((resolve) =>
        this.#later(resolve, this.config.networkCheckIntervalMs),
      );
    }
  }

  /** One connection attempt's settings: signed now, immediately before connecting (quirk 3). */
  #attemptSettings(agent: AttemptSettings["agent"]): AttemptSettings {
    const config = this.config;
    const headers: Record<string, string> = {};
    if (this.#credentials) {
      const signedAt = signingTime(
        this.#clock(),
        this.#signingClock,
        config.signatureMarginSeconds,
      );
      Object.assign(
        headers,
        signNh1({
          ...this.#credentials,
          identifier: this.identifier,
          signedAt,
          ...(config.sharedSecret?.digest ? { digest: config.sharedSecret.digest } : {}),
          ...(config.sharedSecret?.iterations
            ? { iterations: config.sharedSecret.iterations }
            : {}),
          ...(config.sharedSecret?.keyLength ? { keyLength: config.sharedSecret.keyLength } : {}),
        }),
      );
      this.#logger.debug(`connecting to ${this.#endpoint}, signed at ${signedAt}`);
    }
    return {
      headers,
      ...(config.tls.ca !== undefined ? { ca: config.tls.ca } : {}),
      ...(this.#certificate ? { cert: this.#certificate.cert, key: this.#certificate.key } : {}),
      ...(config.tls.servername !== undefined ? { servername: config.tls.servername } : {}),
      ...(config.tls.rejectUnauthorized !== undefined
        ? { rejectUnauthorized: config.tls.rejectUnauthorized }
        : {}),
      ...(config.tls.minVersion !== undefined ? { minVersion: config.tls.minVersion } : {}),
      perMessageDeflate: config.compress,
      maxRedirects: config.maxRedirects,
      ...(agent ? { agent } : {}),
    };
  }

  /** Quirk 2: learn the server's clock from the `date` of a refusal. */
  #refused(status: number, date: unknown): void {
    this.emit("refused", status);
    const offset = offsetFromDateHeader(date, this.#clock());
    if (offset !== undefined && this.#credentials) {
      this.#signingClock.offsetMs = offset;
      const hint = clockHint(this.#clock(), offset);
      if (hint && !this.#clockHintShown) {
        this.#clockHintShown = true;
        this.#logger.warn(hint);
      }
    }
    const what =
      status === 401
        ? "authentication refused (check the key and secret or certificate, and the device clock)"
        : status === 503
          ? "the server could not reach its platform to authenticate"
          : status === 403
            ? "the server refused the connection (protocol version?)"
            : `HTTP ${status}`;
    this.#reportError("CONNECTION_REFUSED", `connection refused: ${what}`);
  }

  #reconnectDelay(tries: number): number {
    // A new disconnect: ask the application for delays, else a fresh jittered list (Link).
    if (tries <= 1 || this.#delays.length === 0) {
      let custom: number[] | undefined;
      try {
        custom = acceptDelayList(this.#options.client?.reconnectBackoff?.());
      } catch (error) {
        this.#logger.warn(`reconnectBackoff threw: ${(error as Error).message}`);
      }
      this.#delays = custom ?? delayList(this.config.backoff, this.#random);
    }
    const delay = delayFor(this.#delays, tries);
    this.emit("reconnecting", delay, tries);
    return delay;
  }

  // ---------------------------------------------------------------- connection events

  #closed(code: number, reason: string): void {
    this.#put(["connected"], false);
    this.#put(["socket_connected"], false);
    clearInterval(this.#validationPoll);
    if (this.#stopped) return;
    const why = `socket closed (${code}${reason ? ` ${reason}` : ""})`;
    this.#put(["alarms", "disconnected"], { reason: why, since: this.#clock() });
    this.emit("disconnected", why);
    this.#reportError("DISCONNECTED", why);
  }

  #channelError(reason: unknown): void {
    this.#put(["connected"], false);
    clearInterval(this.#validationPoll);
    if (this.#stopped) return;
    const failed = (reason as { failedToJoin?: unknown })?.failedToJoin;
    if (failed !== undefined) {
      this.#reportError("JOIN_FAILED", `joining the device channel failed: ${safeJson(failed)}`);
    } else if ((reason as { source?: unknown })?.source !== "transport") {
      this.#reportError(
        "CHANNEL_ERROR",
        `the device channel errored: ${safeJson(reason)}; rejoining`,
      );
    }
  }

  #joined(): void {
    this.#put(["connected"], true);
    this.#delete(["alarms", "disconnected"]);
    this.#logger.info(`connected to ${this.#endpoint} as ${this.identifier}`);
    this.emit("connected");
    this.#call("connected", () => this.#options.client?.connected?.());
    this.#reportNetworkInterface();
    this.#watchValidation();
  }

  #reportNetworkInterface(): void {
    const ifname = this.#interfaceOf(this.#localAddress);
    if (ifname === undefined) {
      this.#later(() => {
        if (this.connected()) this.#reportNetworkInterface();
      }, this.config.networkInterfaceRetryMs);
      return;
    }
    this.#networkInterface = ifname;
    this.#put(["network_interface"], ifname);
    this.#push("report_network_interface", { interface: ifname });
  }

  /** The interface whose address is `localAddress` (the websocket's, or a download's). */
  #interfaceOf(localAddress: string | undefined): string | undefined {
    const table = this.#options.table;
    const found = table ? interfaceForAddress(table, localAddress) : undefined;
    if (found) return found;
    // Without a table (or before it knows), the kernel's list, like Link's getifaddrs.
    const kernel = {
      match: () =>
        Object.entries(networkInterfaces()).map(
          ([name, addresses]) =>
            [["interface", name, "addresses"], addresses ?? []] as [PropertyPath, unknown],
        ),
    };
    return interfaceForAddress(kernel, localAddress);
  }

  /**
   * @hublink/downloader options from the configuration. TLS and proxy go to the dispatcher each
   * download creates with `createDispatcher` (and closes when it ends, so no idle socket outlives
   * an update); the socket's proxy is the default.
   */
  #downloadOptions(): DownloadOptions {
    const { retry, tls, proxy } = this.config.downloader;
    const downloadProxy = proxy === false ? undefined : (proxy ?? this.config.proxy);
    return {
      retry,
      ...(tls !== undefined ? { tls } : {}),
      ...(downloadProxy !== undefined ? { proxy: downloadProxy } : {}),
      ...(this.#options.table ? { table: this.#options.table } : {}),
    };
  }

  /** Link: after joining unvalidated, poll every 10 s and push `firmware_validated` once. */
  #watchValidation(): void {
    clearInterval(this.#validationPoll);
    if (this.#firmwareValidated()) return;
    this.#validationPoll = setInterval(() => {
      if (!this.#firmwareValidated()) return;
      if (this.#push("firmware_validated", {})) clearInterval(this.#validationPoll);
    }, this.config.validationPollMs);
    this.#validationPoll.unref?.();
  }

  #firmwareValidated(): boolean {
    const custom = this.#options.client?.firmwareValidated;
    try {
      return custom ? custom() : this.#firmware.isFirmwareValid();
    } catch (error) {
      this.#logger.warn(`firmwareValidated threw: ${(error as Error).message}`);
      return false;
    }
  }

  #autoRevertDetected(): boolean {
    const custom = this.#options.client?.firmwareAutoRevertDetected;
    try {
      return custom ? custom() : autoRevertDetected(this.#options.kv.getAll());
    } catch (error) {
      this.#logger.warn(`firmwareAutoRevertDetected threw: ${(error as Error).message}`);
      return false;
    }
  }

  #joinParams(): object {
    return buildJoinPayload({
      activeFirmware: this.#options.kv.getAllActive(),
      fwupVersion: this.#fwupVersion,
      currentlyDownloadingUuid:
        this.#state.phase === "updating" ? (this.#state.info?.firmwareMeta.uuid ?? null) : null,
      firmwareValidated: this.#firmwareValidated(),
      autoRevertDetected: this.#autoRevertDetected(),
      requestFwupPublicKeys: this.config.fwup.requestPublicKeys || this.#fwupKeys.length === 0,
      requestArchivePublicKeys: false,
      params: this.config.params,
    });
  }

  // ---------------------------------------------------------------- server messages

  #deviceMessage(event: string, payload: unknown): void {
    switch (event) {
      case "update": {
        const parsed = parseUpdateInfo(payload);
        if (!parsed.ok) {
          // Invalid offers are reported, never applied; like Link, no status goes to the server.
          this.#reportError(
            "INVALID_UPDATE",
            `invalid update offer ignored: ${parsed.error.message}`,
            parsed.error,
          );
          return;
        }
        this.#logger.info(
          `update offered: ${parsed.value.firmwareMeta.uuid} (${parsed.value.firmwareMeta.version ?? "?"}) from ${redactUrl(parsed.value.firmwareUrl)}`,
        );
        this.emit("update", parsed.value);
        this.#dispatch({
          type: "offer",
          info: parsed.value,
          runningUuid: this.#options.kv.getActive("nerves_fw_uuid"),
          canVerify: this.#updater.canVerify(this.#fwupKeys),
        });
        return;
      }
      case "reboot":
        this.#push("rebooting", {});
        this.emit("rebooting");
        this.#later(() => void this.#reboot(), 0);
        return;
      case "identify":
        this.emit("identify");
        if (this.#options.client?.identify)
          this.#call("identify", () => this.#options.client?.identify?.());
        else this.#logger.info("identify requested by the server");
        return;
      case "fwup_public_keys":
      case "archive_public_keys": {
        const keys = (payload as { keys?: unknown } | null)?.keys;
        const valid = Array.isArray(keys)
          ? keys.filter((key): key is string => typeof key === "string" && key !== "")
          : [];
        // An empty or malformed list never clears keys (NervesHubLink, web PR #464).
        if (valid.length === 0) return;
        // Archive keys matter only to archives (out of scope here, issue 2); they are just logged.
        if (event === "fwup_public_keys") this.#fwupKeys = valid;
        this.#logger.info(`${event}: ${valid.length} key(s) from the server`);
        return;
      }
      case "scripts/run": {
        const ref = (payload as { ref?: unknown } | null)?.ref;
        this.#push("scripts/run", {
          ref: typeof ref === "string" ? ref : null,
          result: "error",
          reason: "unsupported",
          output: SCRIPT_REFUSAL,
          return: "",
        });
        return;
      }
      default:
        if (isKnownServerEvent(event)) {
          this.#logger.info(`"${event}" from the server is not supported by this client; ignored`);
          return;
        }
        this.#logger.info(`unknown message "${event}" on device; ignored`);
        this.emit("unknownMessage", "device", event, payload);
    }
  }

  #otherMessage(message: Message): void {
    if (
      message.event === "phx_reply" ||
      message.event === "phx_close" ||
      message.event === "phx_error"
    )
      return;
    this.#logger.info(`unknown message "${message.event}" on topic "${message.topic}"; ignored`);
    this.emit("unknownMessage", message.topic, message.event, message.payload);
  }

  // ---------------------------------------------------------------- updates

  #dispatch(event: UpdateEvent): void {
    const transition = updateTransition(this.#state, event);
    this.#state = transition.state;
    this.#publishUpdate();
    for (const effect of transition.effects) this.#perform(effect);
  }

  #perform(effect: UpdateEffect): void {
    switch (effect.type) {
      case "status":
        this.sendUpdateStatus(effect.payload.status, effect.payload);
        if (effect.payload.status !== "received") {
          this.#put(["update", "last_result"], {
            ...effect.payload,
            firmware_uuid: this.#state.info?.firmwareMeta.uuid ?? null,
          });
        }
        return;
      case "progress":
        this.#sendProgress(effect.stage, effect.value, true);
        return;
      case "log":
        this.#logger[effect.level](effect.message);
        return;
      case "ask":
        void this.#ask(effect.info);
        return;
      case "apply":
        this.#apply(effect.info);
        return;
      case "completed":
        this.#delete(["alarms", "update_in_progress"]);
        this.#put(["update", "last_result"], {
          status: "completed",
          firmware_uuid: effect.info.firmwareMeta.uuid,
        });
        this.#logger.info(`update to ${effect.info.firmwareMeta.uuid} complete; rebooting`);
        this.#later(() => void this.#reboot(), 0);
        return;
      case "failed":
        this.#delete(["alarms", "update_in_progress"]);
        this.#put(["update", "last_result"], {
          status: "failed",
          reason: effect.reason,
          firmware_uuid: effect.info?.firmwareMeta.uuid ?? null,
        });
        this.#reportError("UPDATE_FAILED", effect.reason);
    }
  }

  async #ask(info: UpdateInfo): Promise<void> {
    let answer: unknown = "apply";
    const callback = this.#options.client?.updateAvailable;
    if (callback) {
      try {
        answer = await callback(info);
      } catch (error) {
        answer = { thrown: error };
      }
    }
    if (this.#stopped) return;
    this.#dispatch({ type: "decision", answer, rescheduleUnit: this.config.rescheduleUnit });
  }

  #apply(info: UpdateInfo): void {
    const updater = this.#updater;
    this.#put(["alarms", "update_in_progress"], {
      firmware_uuid: info.firmwareMeta.uuid,
      since: this.#clock(),
    });
    this.#gate = INITIAL_PROGRESS_GATE;
    this.#gateStage = undefined;
    const run = async (): Promise<UpdaterOutcome> => {
      try {
        return await updater.run({
          info,
          signal: this.#abort.signal,
          fwup: this.config.fwup,
          devpath: resolveDevpath(
            this.config.fwup.devpath,
            this.#options.kv.get("nerves_fw_devpath"),
          ),
          fwupPublicKeys: [...this.#fwupKeys],
          runner: this.#runner,
          dataPath: this.config.dataPath,
          downloadOptions: this.#downloadOptions(),
          progress: (stage, percent) => this.#sendProgress(stage, percent, false),
          downloadStarted: (connection) =>
            this.sendUpdateStatus("started", {
              downloader_network_interface:
                connection.interface ?? this.#interfaceOf(connection.localAddress) ?? null,
            }),
          fwupMessage: (message) => {
            this.emit("fwupMessage", message);
            this.#call("fwupMessage", () => this.#options.client?.fwupMessage?.(message));
          },
          logger: this.#logger,
        });
      } catch (error) {
        return {
          ok: false,
          kind: "unexpected",
          reason: errorMessage(error),
        };
      }
    };
    this.#running = run().then((outcome) => {
      this.#progress = null;
      if (this.#stopped) return;
      this.#dispatch({ type: "finished", outcome });
    });
  }

  #sendProgress(stage: "downloading" | "updating", percent: number, force: boolean): void {
    if (this.#gateStage !== stage) {
      this.#gate = INITIAL_PROGRESS_GATE;
      this.#gateStage = stage;
    }
    const result = gateProgress(this.#gate, percent, this.#clock());
    if (!force && !result.send) return;
    this.#gate = result.gate;
    this.#progress = { stage, value: result.value };
    this.#put(["update", "progress"], this.#progress);
    this.#push("fwup_progress", { stage, value: result.value });
    this.emit("progress", stage, result.value);
  }

  async #reboot(): Promise<void> {
    try {
      const callback = this.#options.client?.reboot;
      if (callback) {
        await callback();
        return;
      }
      const power =
        this.#options.power ??
        new Power({ strategy: [systemdPower(this.#runner), signalInitPower()] });
      await power.reboot();
    } catch (error) {
      this.#reportError("REBOOT_FAILED", `reboot failed: ${(error as Error).message}`, error);
    }
  }

  // ---------------------------------------------------------------- helpers

  #push(event: string, payload: object): boolean {
    const sent = this.#connection?.push(event, payload) ?? false;
    if (!sent) this.#logger.debug(`not connected: "${event}" not sent`);
    return sent;
  }

  #reportError(code: string, message: string, cause?: unknown): void {
    const error = new HubLinkError(code, message, cause === undefined ? undefined : { cause });
    this.#lastError = error;
    this.#logger.warn(message);
    this.emit("error", error);
    this.#call("error", () => this.#options.client?.error?.(error));
  }

  /** Runs an application callback; a throw is logged, never crashes the client. */
  #call(name: string, callback: () => unknown): void {
    try {
      const result = callback();
      if (result instanceof Promise)
        result.catch((error) =>
          this.#logger.warn(`${name} callback failed: ${(error as Error).message}`),
        );
    } catch (error) {
      this.#logger.warn(`${name} callback threw: ${(error as Error).message}`);
    }
  }

  #later(callback: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, ms);
    this.#timers.add(timer);
  }

  #publishUpdate(): void {
    this.#put(["update", "status"], this.#state.phase);
    this.#put(["update", "firmware_uuid"], this.#state.info?.firmwareMeta.uuid ?? null);
    if (this.#state.phase === "idle") this.#delete(["update", "progress"]);
  }

  #put(path: PropertyPath, value: unknown): void {
    this.#options.table?.put([...this.#prefix, ...path], value);
  }

  #delete(path: PropertyPath): void {
    this.#options.table?.delete([...this.#prefix, ...path]);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Certificate and key: configured PEM, configured files, KV, then `<dataPath>/cert.pem`/`key.pem`. */
async function loadCertificate(
  config: HubLinkConfig,
  kv: KV,
): Promise<{ cert: string | Buffer; key: string | Buffer }> {
  const settings = config.certificate ?? {};
  const read = async (
    inline: string | Buffer | undefined,
    path: string | undefined,
    kvKey: string,
    fallback: string,
    field: string,
  ) => {
    if (inline !== undefined) return inline;
    if (path !== undefined) return readFile(path);
    const stored = kv.get(kvKey);
    if (stored) return stored;
    try {
      return await readFile(join(config.dataPath, fallback));
    } catch {
      throw new HubLinkError(
        "NO_CERTIFICATE",
        `certificate.${field}: none configured, no ${kvKey} in KV, and ${join(config.dataPath, fallback)} is unreadable`,
      );
    }
  };
  return {
    cert: await read(settings.cert, settings.certPath, "nerves_hub_cert", "cert.pem", "cert"),
    key: await read(settings.key, settings.keyPath, "nerves_hub_key", "key.pem", "key"),
  };
}
