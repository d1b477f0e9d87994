// The test hub: a NervesHub device endpoint on loopback with a control API for tests.
//
// The connection path follows nerves-hub/nerves_hub_web lib/nerves_hub_web/device_endpoint.ex,
// lib/nerves_hub_web/channels/device_socket.ex (`connect/3` order: client certificate, then any
// `x-` header, else `:no_auth`; `socket_and_assigns/2` kicks older sockets of the same device;
// `authenticate/2` turns a raise into `:platform_unavailable`) and phoenixframework/phoenix
// lib/phoenix/socket.ex (`__info__/2`: the `disconnect` broadcast closes with 1001; a drain
// closes with 1012). See the README's conformance table for every behaviour and its source.

import { randomBytes } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { DeviceError, ValidationError } from "@runtime/errors";
import { EventEmitter } from "eventemitter3";
import { WebSocketServer } from "ws";
import { type CertificateVerdict, decideCertificate } from "../auth/certificates.js";
import {
  collectXHeaders,
  DEFAULT_REDIRECT_LOCATION,
  type HubHttpResponse,
  invalidAuthResponse,
  negotiateSerializer,
  noAuthResponse,
  plainResponse,
  platformUnavailableResponse,
  redirectResponse,
  SOCKET_PATHS,
  STATUS_PATHS,
  serializeResponse,
  statusResponse,
} from "../auth/connect.js";
import { verifySharedSecret } from "../auth/shared-secret.js";
import { decideDeviceJoin, deviceApi, sameFirmware } from "../device/join.js";
import { FirmwareServer } from "../http/firmware-server.js";
import type { JsonValue } from "../phoenix/frame.js";
import { buildUpdatePayload, firmwareMetadata, type UpdatePayload } from "../update-payload.js";
import {
  type ChannelContext,
  ConsoleChannel,
  DeviceChannel,
  decideExtensionsJoin,
  ExtensionsChannel,
} from "./channels.js";
import { type DeviceState, Registry, snapshotDevice } from "./registry.js";
import { type Channel, DeviceSocket, type JoinOutcome, type SocketHost } from "./socket.js";
import type {
  ArchivePayload,
  ConnectionSnapshot,
  Deployment,
  DeviceOptions,
  DeviceSnapshot,
  DisconnectOptions,
  ExtensionName,
  HubFirmware,
  MessageFilter,
  ProductOptions,
  RecordedMessage,
  Rejection,
  RestartOptions,
  SharedSecretCredentials,
  SignerOptions,
  TestHubEvents,
  TestHubOptions,
  UpdateStatusRecord,
  WaitOptions,
} from "./types.js";

const DEFAULT_TIMEOUT_MS = 10_000;
const ROUTED_TOPICS = new Set(["device", "console", "extensions"]);

interface PendingScript {
  identifier: string;
  resolve: (output: string) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const copy = { ...headers };
  const signature = copy["x-nh-signature"];
  if (signature !== undefined) {
    // Keep the signed payload (it shows the signing time), drop the MAC.
    const parts = signature.split(".");
    copy["x-nh-signature"] = parts.length === 3 ? `${parts[0]}.${parts[1]}.****` : "****";
  }
  return copy;
}

function lowerCaseHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    headers[request.rawHeaders[index]!.toLowerCase()] = request.rawHeaders[index + 1]!;
  }
  return headers;
}

function matches(message: RecordedMessage, filter: MessageFilter): boolean {
  const direction = filter.direction ?? "in";
  if (direction !== "both" && message.direction !== direction) return false;
  if (filter.identifier !== undefined && message.identifier !== filter.identifier) return false;
  if (filter.connectionId !== undefined && message.connectionId !== filter.connectionId) {
    return false;
  }
  if (filter.topic !== undefined && message.topic !== filter.topic) return false;
  if (filter.event !== undefined && message.event !== filter.event) return false;
  if (filter.after !== undefined && message.sequence <= filter.after) return false;
  return filter.where ? filter.where(message) : true;
}

function describeFilter(filter: object): string {
  return JSON.stringify(filter, (key, value) => (key === "where" ? "<function>" : value));
}

interface Authenticated {
  device: DeviceState;
  auth: "shared_secret" | "certificate";
}

/**
 * A NervesHub-compatible device endpoint for tests. Start one with {@link TestHub.start}; point
 * a device client at {@link TestHub.socketUrl}; drive and inspect it with the methods below.
 */
export class TestHub extends EventEmitter<TestHubEvents> {
  readonly #options: TestHubOptions;
  readonly #registry = new Registry();
  readonly #clock: () => number;
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<DeviceSocket>();
  readonly #current = new Map<string, DeviceSocket>();
  /** The last socket of each device, kept inspectable after it closed. */
  readonly #closedSockets = new Map<string, DeviceSocket>();
  readonly #tcp = new Set<Socket>();
  readonly #certificateVerdicts = new WeakMap<Socket, CertificateVerdict>();
  readonly #messages: RecordedMessage[] = [];
  readonly #rejections: Rejection[] = [];
  readonly #deployments = new Map<number, Deployment>();
  readonly #scripts = new Map<string, PendingScript>();
  readonly #firmwareServer: FirmwareServer | undefined;
  #signingKeys: string[];
  #server: Server | undefined;
  #port: number;
  #sequence = 0;
  #nextSocketId = 1;
  #nextDeploymentId = 1;
  #platformAvailable = true;
  #socketRedirect: { location: string; status: number; remaining: number } | undefined;
  #orchestrator: NodeJS.Timeout | undefined;
  #stopped = false;

  private constructor(options: TestHubOptions, firmwareServer: FirmwareServer | undefined) {
    super();
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#port = options.port ?? 0;
    this.#signingKeys = [...(options.signingKeys ?? [])];
    this.#firmwareServer = firmwareServer;
    // permessage-deflate is offered (the endpoint has `compress: true`); every message is
    // compressed once negotiated, like Bandit.
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: { threshold: 0 },
      maxPayload: 8_000_000,
    });
    for (const product of options.products ?? []) this.#registry.addProduct(product);
    for (const device of options.devices ?? []) this.#registry.addDevice(device);
    for (const signer of options.signers ?? []) this.#registry.addSigner(signer);
  }

  /** Starts a hub (and, unless `firmwareServer: false`, its firmware HTTP server). */
  static async start(options: TestHubOptions = {}): Promise<TestHub> {
    const firmwareOptions = options.firmwareServer ?? true;
    const firmwareServer =
      firmwareOptions === false
        ? undefined
        : await FirmwareServer.start({
            host: options.host ?? "127.0.0.1",
            ...(typeof firmwareOptions === "object" ? firmwareOptions : {}),
          });
    try {
      const hub = new TestHub(options, firmwareServer);
      await hub.#listen();
      return hub;
    } catch (error) {
      await firmwareServer?.stop();
      throw error;
    }
  }

  // ---------------------------------------------------------------- addresses

  /** `ws://127.0.0.1:PORT` or `wss://…` — the `host` a client is configured with. */
  get url(): string {
    const host = this.#options.host ?? "127.0.0.1";
    const shown = host.includes(":") ? `[${host}]` : host;
    return `${this.#options.tls ? "wss" : "ws"}://${shown}:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  /**
   * The full socket URL without the query: `/device-socket/websocket` (where Link's shared-secret
   * configurator connects) or `/socket/websocket` (certificates). Either works for either auth.
   */
  socketUrl(path: "/device-socket" | "/socket" = "/device-socket"): string {
    return `${this.url}${path}/websocket`;
  }

  /** The firmware HTTP server. Throws when the hub was started with `firmwareServer: false`. */
  get firmware(): FirmwareServer {
    if (!this.#firmwareServer) {
      throw new DeviceError("NO_FIRMWARE_SERVER", "this hub was started without a firmware server");
    }
    return this.#firmwareServer;
  }

  // ---------------------------------------------------------------- configuration

  /** Adds a product (and its `nhp_` shared secrets). Returns the credentials created. */
  addProduct(options: ProductOptions): { name: string; sharedSecrets: SharedSecretCredentials[] } {
    return this.#registry.addProduct(options);
  }

  /** Adds a device (certificates, `nhd_` shared secrets, extension settings). */
  addDevice(options: DeviceOptions): {
    identifier: string;
    sharedSecrets: SharedSecretCredentials[];
  } {
    return this.#registry.addDevice(options);
  }

  /** Registers a signer CA for certificate authentication. */
  addSigner(options: SignerOptions): void {
    this.#registry.addSigner(options);
  }

  /** Organisation firmware signing keys sent to devices that join with `on_connect`. */
  setSigningKeys(keys: string[]): void {
    this.#signingKeys = [...keys];
  }

  /** Turns extensions on for a product. */
  enableExtensions(product: string, extensions: ExtensionName[]): void {
    if (!this.#registry.products.has(product)) {
      throw new ValidationError({ path: "product", value: product, reason: "no such product" });
    }
    this.#registry.addProduct({ name: product, extensions });
  }

  /**
   * Serves a firmware file and remembers its metadata (so devices reporting only its uuid
   * resolve to it, and so it can be offered). `path` defaults to `/firmware/<uuid>.fw`.
   */
  addFirmware(options: {
    data: Uint8Array | string;
    meta: Parameters<typeof firmwareMetadata>[0];
    path?: string;
  }): HubFirmware {
    const metadata = firmwareMetadata(options.meta);
    const file = this.firmware.serve(options.path ?? `/firmware/${metadata.uuid}.fw`, options.data);
    const firmware: HubFirmware = {
      metadata,
      file,
      updatePayload: (payloadOptions = {}) =>
        buildUpdatePayload({
          url: file.url,
          meta: metadata,
          checksums: file,
          deploymentId: payloadOptions.deploymentId ?? null,
        }),
    };
    this.#registry.firmware.set(metadata.uuid, firmware);
    return firmware;
  }

  /**
   * A deployment: joined devices of `product` running other firmware are offered `firmware`
   * (right after join, then on every orchestrator tick while eligible: updates enabled, not in
   * the penalty box, no update in flight). Returns the deployment (its `id` is the
   * `deployment_id` of the payloads).
   */
  deploy(options: Omit<Deployment, "id"> & { id?: number }): Deployment {
    if (!this.#registry.products.has(options.product)) {
      throw new ValidationError({
        path: "product",
        value: options.product,
        reason: "no such product",
      });
    }
    const id = options.id ?? this.#nextDeploymentId++;
    const deployment: Deployment = { ...options, id };
    this.#deployments.set(id, deployment);
    this.#startOrchestrator();
    this.#orchestrate();
    return deployment;
  }

  /**
   * Runs one orchestrator pass now (it also runs after every join and every
   * `orchestratorIntervalMs`): each eligible joined device is sent its deployment's `update`
   * before this returns.
   */
  orchestrate(): void {
    this.#orchestrate();
  }

  /** Ends a deployment. */
  removeDeployment(id: number): void {
    this.#deployments.delete(id);
    if (this.#deployments.size === 0) this.#stopOrchestrator();
  }

  /** The next `count` `device` joins of this device fail with `{"error": "could not connect"}`. */
  failNextJoins(identifier: string, count = 1): void {
    this.#device(identifier).failJoins = count;
  }

  /** `false`: authentication answers 503 (shared secret) or drops TLS (certificate). */
  setPlatformAvailable(available: boolean): void {
    this.#platformAvailable = available;
  }

  /**
   * Answers socket upgrades with a redirect (a load balancer's doing, not the server's), `times`
   * times (default unlimited); `null` stops.
   */
  redirectSockets(
    redirect: { location: string; status?: 301 | 302 | 303 | 307 | 308; times?: number } | null,
  ): void {
    this.#socketRedirect = redirect
      ? {
          location: redirect.location,
          status: redirect.status ?? 302,
          remaining: redirect.times ?? Number.POSITIVE_INFINITY,
        }
      : undefined;
  }

  // ---------------------------------------------------------------- inspection

  /** Every device the hub knows. */
  devices(): DeviceSnapshot[] {
    return [...this.#registry.devices.values()].map((device) => this.#snapshot(device));
  }

  device(identifier: string): DeviceSnapshot | undefined {
    const device = this.#registry.devices.get(identifier);
    return device ? this.#snapshot(device) : undefined;
  }

  /** Open sockets. */
  connections(): ConnectionSnapshot[] {
    return [...this.#sockets].filter((socket) => socket.open).map((socket) => socket.snapshot());
  }

  /** The device's current socket, if open. */
  connection(identifier: string): ConnectionSnapshot | undefined {
    const socket = this.#current.get(identifier);
    return socket?.open ? socket.snapshot() : undefined;
  }

  /** Recorded frames (default: what devices sent), oldest first. */
  messages(filter: MessageFilter = {}): RecordedMessage[] {
    return this.#messages
      .filter((message) => matches(message, filter))
      .map((m) => structuredClone(m));
  }

  /** The sequence number of the last recorded frame: pass it as `after` to see only newer ones. */
  cursor(): number {
    return this.#sequence;
  }

  /** Refused connection attempts, oldest first. */
  rejections(): Rejection[] {
    return structuredClone(this.#rejections);
  }

  // ---------------------------------------------------------------- waiting

  #waitFor<T>(
    probe: () => T | undefined,
    events: Array<keyof TestHubEvents>,
    options: WaitOptions,
    description: string,
  ): Promise<T> {
    const found = probe();
    if (found !== undefined) return Promise.resolve(found);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const onAbort = () => {
        cleanup();
        reject(options.signal?.reason ?? new DeviceError("ABORTED", `${description}: aborted`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new DeviceError("TIMEOUT", `${description}: nothing within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        for (const event of events) this.off(event, check);
        options.signal?.removeEventListener("abort", onAbort);
      };
      for (const event of events) this.on(event, check);
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Resolves with the device's socket once it is open (`state: "connected"`) or its `device`
   * channel is joined (`"joined"`, the default).
   */
  waitForDevice(
    identifier: string,
    options: WaitOptions & { state?: "connected" | "joined" } = {},
  ): Promise<ConnectionSnapshot> {
    const state = options.state ?? "joined";
    return this.#waitFor(
      () => {
        const socket = this.#current.get(identifier);
        if (!socket?.open) return undefined;
        if (state === "joined" && !socket.channels.has("device")) return undefined;
        return socket.snapshot();
      },
      ["connected", "joined"],
      options,
      `waitForDevice(${identifier}, ${state})`,
    );
  }

  /** Resolves once the device has no open socket (with the last socket's snapshot). */
  waitForDisconnect(identifier: string, options: WaitOptions = {}): Promise<ConnectionSnapshot> {
    return this.#waitFor(
      () => {
        const socket = this.#current.get(identifier);
        if (socket?.open) return undefined;
        return (socket ?? this.#closedSockets.get(identifier))?.snapshot();
      },
      ["disconnected"],
      options,
      `waitForDisconnect(${identifier})`,
    );
  }

  /** Resolves with the first recorded frame (already recorded or future) matching `filter`. */
  waitForMessage(filter: MessageFilter, options: WaitOptions = {}): Promise<RecordedMessage> {
    return this.#waitFor(
      () => {
        const found = this.#messages.find((message) => matches(message, filter));
        return found ? structuredClone(found) : undefined;
      },
      ["message"],
      options,
      `waitForMessage(${describeFilter(filter)})`,
    );
  }

  /** Like `waitForMessage` but only frames recorded after this call. */
  nextMessage(filter: MessageFilter, options: WaitOptions = {}): Promise<RecordedMessage> {
    const after = Math.max(this.#sequence, filter.after ?? 0);
    return this.waitForMessage({ ...filter, after }, options);
  }

  /** Resolves with the first refused attempt (recorded or future) matching `filter`. */
  waitForRejection(
    filter: { reason?: string; status?: number | "tls"; identifier?: string; after?: number } = {},
    options: WaitOptions = {},
  ): Promise<Rejection> {
    return this.#waitFor(
      () => {
        const found = this.#rejections.find(
          (rejection, index) =>
            (filter.after === undefined || index >= filter.after) &&
            (filter.reason === undefined || rejection.reason === filter.reason) &&
            (filter.status === undefined || rejection.status === filter.status) &&
            (filter.identifier === undefined || rejection.identifier === filter.identifier),
        );
        return found ? structuredClone(found) : undefined;
      },
      ["rejected"],
      options,
      `waitForRejection(${describeFilter(filter)})`,
    );
  }

  /** Resolves with the first update status (recorded or future) of the device with this status. */
  waitForUpdateStatus(
    identifier: string,
    status: string,
    options: WaitOptions = {},
  ): Promise<UpdateStatusRecord> {
    return this.#waitFor(
      () => {
        const found = this.#registry.devices
          .get(identifier)
          ?.updateStatuses.find((record) => record.status === status);
        return found ? structuredClone(found) : undefined;
      },
      ["updateStatus"],
      options,
      `waitForUpdateStatus(${identifier}, ${status})`,
    );
  }

  // ---------------------------------------------------------------- pushing

  #device(identifier: string): DeviceState {
    const device = this.#registry.devices.get(identifier);
    if (!device) {
      throw new ValidationError({
        path: "identifier",
        value: identifier,
        reason: "unknown device",
      });
    }
    return device;
  }

  #joinedSocket(identifier: string, topic: string): DeviceSocket {
    this.#device(identifier);
    const socket = this.#current.get(identifier);
    if (!socket?.open || !socket.channels.has(topic)) {
      throw new DeviceError(
        "NOT_JOINED",
        `${identifier} has not joined ${topic} (a real server's message would be lost)`,
      );
    }
    return socket;
  }

  /**
   * Sends an event to a device. On `device` it goes the way the server's broadcasts go
   * (fastlane: `[null, null, "device", event, payload]`); on `console` and `extensions` as a
   * channel push (`[join_ref, null, topic, event, payload]`). Throws `NOT_JOINED` when the device
   * has not joined that topic.
   */
  push(
    identifier: string,
    event: string,
    payload: JsonValue = {},
    options: { topic?: "device" | "console" | "extensions"; asChannelPush?: boolean } = {},
  ): void {
    const topic = options.topic ?? "device";
    const socket = this.#joinedSocket(identifier, topic);
    if (topic === "device" && !options.asChannelPush)
      socket.send(null, null, "device", event, payload);
    else socket.pushOnChannel(topic, event, payload);
  }

  /**
   * Offers an update the way a manual push from the UI does: an in-flight update is recorded, the
   * device's automatic updates are turned off (`Updates.disable_updates/2`), and `update` is sent.
   * Pass a firmware from `addFirmware` or a ready payload.
   */
  pushUpdate(identifier: string, update: HubFirmware | UpdatePayload): UpdatePayload {
    const payload = "updatePayload" in update ? update.updatePayload() : update;
    this.#joinedSocket(identifier, "device");
    const device = this.#device(identifier);
    device.updatesEnabled = false;
    device.inflightUpdate = {
      firmwareUuid: payload.firmware_meta?.uuid ?? null,
      deploymentId: payload.deployment_id,
      status: "requested",
      progress: null,
      startedAtMs: this.#clock(),
    };
    this.push(identifier, "update", payload as unknown as JsonValue);
    return payload;
  }

  /** `reboot` (the device answers `rebooting`). */
  reboot(identifier: string): void {
    this.push(identifier, "reboot", {});
  }

  /** `identify` (blink an LED). */
  identify(identifier: string): void {
    this.push(identifier, "identify", {});
  }

  /** `archive` with this payload. */
  pushArchive(identifier: string, archive: ArchivePayload): void {
    this.push(identifier, "archive", archive as unknown as JsonValue);
  }

  /** `extensions:get` (what the server sends after join to devices with API ≥ 2.2.0). */
  requestExtensions(identifier: string): void {
    this.push(identifier, "extensions:get", this.#extensionsGetPayload(this.#device(identifier)));
  }

  /**
   * Runs a script the way the UI does (`scripts/run` with a random ref) and resolves with the
   * output the server would show (`output` + "\n" + `return`, trimmed). Rejects with
   * `INCOMPATIBLE_VERSION` for devices below API 2.1.0 and `TIMEOUT` after 15 s (the server drops
   * the ref then).
   */
  runScript(
    identifier: string,
    text: string,
    options: { timeoutMs?: number } = {},
  ): Promise<string> {
    const socket = this.#joinedSocket(identifier, "device");
    const device = this.#device(identifier);
    if (!deviceApi.scripts(device.deviceApiVersion ?? "1.0.0")) {
      return Promise.reject(
        new DeviceError("INCOMPATIBLE_VERSION", `${identifier} has device API < 2.1.0`),
      );
    }
    const ref = randomBytes(4).toString("base64").replace(/=+$/, "");
    const timeoutMs = options.timeoutMs ?? 15_000;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#scripts.delete(ref);
        reject(new DeviceError("TIMEOUT", `script ${ref} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#scripts.set(ref, { identifier, resolve, reject, timer });
      socket.pushOnChannel("device", "scripts/run", { text, ref });
    });
  }

  /** Closes a channel from the server (`phx_close`; Link does not rejoin after it). */
  closeChannel(identifier: string, topic: "device" | "console" | "extensions"): void {
    this.#joinedSocket(identifier, topic).closeChannel(topic, "close");
  }

  /** Crashes a channel (`phx_error` `{"reason": "channel_crash"}`; Link rejoins after 5 s). */
  crashChannel(identifier: string, topic: "device" | "console" | "extensions"): void {
    this.#joinedSocket(identifier, topic).closeChannel(topic, "crash");
  }

  /** Closes the device's socket; resolves once it is closed. */
  async disconnect(identifier: string, options: DisconnectOptions = {}): Promise<void> {
    const socket = this.#current.get(identifier);
    if (!socket?.open) return;
    const closed = this.waitForDisconnect(identifier);
    if (options.abrupt) socket.destroy("dropped");
    else socket.close(options.code ?? 1001, "dropped");
    await closed;
  }

  /** Closes every device socket; resolves once all are closed. */
  async disconnectAll(options: DisconnectOptions = {}): Promise<void> {
    await Promise.all([...this.#current.keys()].map((id) => this.disconnect(id, options)));
  }

  /**
   * Restarts the endpoint: every socket ends (`drain`: close 1012 like a deploy; `abrupt`: no
   * close frame), the listener closes, and after `downtimeMs` listens again on the same port.
   * Registry, recordings and deployments survive, as they would in the database.
   */
  async restart(options: RestartOptions = {}): Promise<void> {
    await this.#close(options.mode ?? "drain");
    if (options.downtimeMs) await new Promise((resolve) => setTimeout(resolve, options.downtimeMs));
    await this.#listen();
  }

  /** Stops everything (hub and firmware server). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopOrchestrator();
    for (const pending of this.#scripts.values()) {
      clearTimeout(pending.timer);
      pending.reject(new DeviceError("STOPPED", "the hub stopped"));
    }
    this.#scripts.clear();
    await this.#close("drain");
    this.#wss.close();
    await this.#firmwareServer?.stop();
  }

  // ---------------------------------------------------------------- listening

  async #listen(): Promise<void> {
    const tls = this.#options.tls;
    const handler = (request: IncomingMessage, response: ServerResponse) =>
      this.#handleRequest(request, response);
    const server = tls
      ? createHttpsServer(
          {
            key: tls.key,
            cert: tls.cert,
            ...(tls.ca ? { ca: tls.ca } : {}),
            // verify_peer with fail_if_no_peer_cert: false — certificates are asked for but the
            // decision is the hub's (see #verifyTlsClient), so clients without one get through.
            requestCert: true,
            rejectUnauthorized: false,
            minVersion: "TLSv1.2",
            maxVersion: tls.allowTls13 ? "TLSv1.3" : "TLSv1.2",
          },
          handler,
        )
      : createHttpServer(handler);
    server.on("connection", (socket: Socket) => {
      this.#tcp.add(socket);
      socket.once("close", () => this.#tcp.delete(socket));
    });
    if (tls) server.on("secureConnection", (socket: TLSSocket) => this.#verifyTlsClient(socket));
    server.on("upgrade", (request: IncomingMessage, socket: Socket, head: Buffer) =>
      this.#handleUpgrade(request, socket, head),
    );
    server.on("clientError", (_error, socket: Socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, this.#options.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async #close(mode: "drain" | "abrupt"): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const closed = server
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : undefined;
    const sockets = [...this.#sockets].filter((socket) => socket.open);
    const gone = sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.closedAtMs !== null) return resolve();
          const check = (snapshot: ConnectionSnapshot) => {
            if (snapshot.id !== socket.id) return;
            this.off("disconnected", check);
            resolve();
          };
          this.on("disconnected", check);
        }),
    );
    for (const socket of sockets) {
      if (mode === "drain") socket.close(1012, "drain");
      else socket.destroy("restart");
    }
    await Promise.all(gone);
    for (const tcp of this.#tcp) tcp.destroy();
    await closed;
  }

  // ---------------------------------------------------------------- HTTP side

  #reject(
    request: IncomingMessage,
    status: number | "tls",
    reason: string,
    detail: string,
    extra: { identifier?: string; key?: string } = {},
  ): void {
    const rejection: Rejection = {
      atMs: this.#clock(),
      path: new URL(request.url ?? "/", "http://hub").pathname,
      status,
      reason,
      detail,
      headers: redactHeaders(collectXHeaders(request.rawHeaders)),
      ...extra,
    };
    this.#rejections.push(rejection);
    this.emit("rejected", rejection);
  }

  #verifyTlsClient(socket: TLSSocket): void {
    const peer = socket.getPeerCertificate(true);
    if (!peer?.raw) return; // no certificate: headers decide later
    const fail = (reason: string) => {
      const rejection: Rejection = {
        atMs: this.#clock(),
        path: "",
        status: "tls",
        reason,
        detail: "client certificate refused; the TLS connection was dropped",
        headers: {},
      };
      this.#rejections.push(rejection);
      this.emit("rejected", rejection);
      socket.destroy();
    };
    if (!this.#platformAvailable) {
      fail("platform_unavailable");
      return;
    }
    const verdict = decideCertificate(peer.raw, this.#registry, this.#clock());
    if (!verdict.ok) {
      fail(verdict.reason);
      return;
    }
    if (verdict.via === "jitp" && verdict.jitpProduct !== undefined) {
      this.#registry.createDevice(verdict.identifier, verdict.jitpProduct);
    }
    if (verdict.via !== "known_certificate") this.#registry.recordCertificate(verdict.certificate);
    this.#certificateVerdicts.set(socket, verdict);
  }

  /** Routing and refusals shared by plain requests and upgrades. */
  #decide(
    request: IncomingMessage,
  ):
    | { kind: "respond"; response: HubHttpResponse }
    | { kind: "socket"; path: string; vsn: string; authenticated: Authenticated } {
    const url = new URL(request.url ?? "/", "http://hub");
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/$/, "") : url.pathname;
    if ((STATUS_PATHS as readonly string[]).includes(path)) {
      return { kind: "respond", response: statusResponse() };
    }
    if (!(SOCKET_PATHS as readonly string[]).includes(path)) {
      return {
        kind: "respond",
        response: redirectResponse(this.#options.redirectLocation ?? DEFAULT_REDIRECT_LOCATION),
      };
    }
    if (this.#socketRedirect && this.#socketRedirect.remaining > 0) {
      this.#socketRedirect.remaining -= 1;
      const { location, status } = this.#socketRedirect;
      this.#reject(request, status, "redirected", `socket redirected to ${location}`);
      return { kind: "respond", response: redirectResponse(location, status) };
    }
    if (request.method !== "GET") {
      this.#reject(request, 400, "method", `${request.method} is not GET`);
      return { kind: "respond", response: plainResponse(400) };
    }
    const vsn = url.searchParams.getAll("vsn").at(-1);
    if (negotiateSerializer(vsn) === undefined) {
      this.#reject(request, 403, "vsn", `no serializer for vsn ${JSON.stringify(vsn ?? null)}`);
      return { kind: "respond", response: plainResponse(403) };
    }
    const authenticated = this.#authenticate(request);
    if ("response" in authenticated) return { kind: "respond", response: authenticated.response };
    return { kind: "socket", path, vsn: vsn!, authenticated };
  }

  #authenticate(request: IncomingMessage): Authenticated | { response: HubHttpResponse } {
    const tlsSocket = request.socket as TLSSocket;
    const verdict = this.#certificateVerdicts.get(tlsSocket);
    if (verdict?.ok) {
      return { device: this.#registry.devices.get(verdict.identifier)!, auth: "certificate" };
    }
    const xHeaders = collectXHeaders(request.rawHeaders);
    if (Object.keys(xHeaders).length === 0) {
      this.#reject(request, 401, "no_auth", "no certificate and no x- header");
      return { response: noAuthResponse() };
    }
    if (!this.#platformAvailable) {
      this.#reject(request, 503, "platform_unavailable", "the hub was told the platform is down");
      return { response: platformUnavailableResponse() };
    }
    const shared = this.#options.sharedSecrets ?? {};
    const result = verifySharedSecret({
      headers: xHeaders,
      lookup: (key) => this.#registry.keys.get(key),
      nowMs: this.#clock(),
      ...(shared.maxAgeSeconds !== undefined ? { maxAgeSeconds: shared.maxAgeSeconds } : {}),
      ...(shared.enabled !== undefined ? { enabled: shared.enabled } : {}),
    });
    const key = xHeaders["x-nh-key"];
    if (!result.ok) {
      this.#reject(request, result.status, result.reason, result.detail, key ? { key } : {});
      return {
        response: result.status === 503 ? platformUnavailableResponse() : invalidAuthResponse(),
      };
    }
    const record = this.#registry.keys.get(result.key)!;
    let device = this.#registry.devices.get(result.identifier);
    if (result.kind === "product") {
      // get_or_create_device/2: a new identifier registers a device in the product; one taken by
      // another product is a "duplicate identifier".
      if (device && device.product !== record.product) {
        this.#reject(request, 401, "duplicate_identifier", "identifier taken in another product", {
          identifier: result.identifier,
          key: result.key,
        });
        return { response: invalidAuthResponse() };
      }
      device ??= this.#registry.createDevice(result.identifier, record.product);
    }
    if (!device) {
      this.#reject(request, 401, "bad_identifier", "device key of a removed device", {
        identifier: result.identifier,
      });
      return { response: invalidAuthResponse() };
    }
    return { device, auth: "shared_secret" };
  }

  #handleRequest(request: IncomingMessage, response: ServerResponse): void {
    const decision = this.#decide(request);
    // An authenticated request that is not a websocket upgrade: WebSockAdapter refuses it.
    const answer =
      decision.kind === "respond"
        ? decision.response
        : plainResponse(400, "'connection' header must contain 'upgrade', got []");
    response.writeHead(answer.status, answer.headers);
    response.end(answer.body);
  }

  #handleUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    const decision = this.#decide(request);
    if (decision.kind === "respond") {
      socket.end(serializeResponse(decision.response, this.#clock()));
      return;
    }
    const { device, auth } = decision.authenticated;
    // socket_and_assigns/2: "disconnect devices using the same identifier" — from the new
    // connection, before it is even upgraded.
    const older = this.#current.get(device.identifier);
    if (older?.open) {
      older.close(1001, "kicked");
      this.emit("kicked", older.snapshot());
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) => {
      const connection = new DeviceSocket(ws, this.#socketHost, {
        id: this.#nextSocketId++,
        identifier: device.identifier,
        product: device.product,
        auth,
        path: decision.path,
        vsn: decision.vsn,
        requestHeaders: redactHeaders(lowerCaseHeaders(request)),
        remoteAddress: request.socket.remoteAddress,
        remotePort: request.socket.remotePort,
        idleTimeoutMs: this.#options.idleTimeoutMs ?? 180_000,
        maxChannels: this.#options.maxChannelsPerSocket ?? 100,
      });
      this.#sockets.add(connection);
      this.#current.set(device.identifier, connection);
      this.emit("connected", connection.snapshot());
    });
  }

  // ---------------------------------------------------------------- channels

  readonly #socketHost: SocketHost = {
    now: () => this.#clock(),
    record: (connection, direction, frame) => {
      const message: RecordedMessage = {
        sequence: ++this.#sequence,
        connectionId: connection.id,
        identifier: connection.identifier,
        direction,
        atMs: this.#clock(),
        ...frame,
      };
      this.#messages.push(message);
      this.emit("message", message);
    },
    routes: (topic) => ROUTED_TOPICS.has(topic),
    join: (connection, topic, payload, joinRef) => this.#join(connection, topic, payload, joinRef),
    joined: (connection, channel) => {
      this.emit("joined", connection.snapshot(), channel.topic, channel.payload);
    },
    closed: (connection) => {
      if (this.#current.get(connection.identifier) === connection) {
        this.#current.delete(connection.identifier);
      }
      this.#sockets.delete(connection);
      this.#closedSockets.set(connection.identifier, connection);
      this.emit("disconnected", connection.snapshot());
    },
  };

  #join(
    connection: DeviceSocket,
    topic: string,
    payload: JsonValue | Uint8Array,
    joinRef: JsonValue,
  ): JoinOutcome {
    const device = this.#registry.devices.get(connection.identifier)!;
    const context = this.#contextFor();
    if (topic === "device") return this.#joinDevice(connection, device, payload, joinRef, context);
    if (topic === "console") {
      return {
        ok: true,
        response: {},
        channel: new ConsoleChannel(joinRef, payload, device, context),
      };
    }
    const decision = decideExtensionsJoin(
      payload,
      this.#registry.allowedExtensions(device),
      this.#options.analyticsEnabled ?? false,
    );
    if (!decision.ok) return { ok: false, response: { reason: "join crashed" } };
    device.extensions = new Map(
      [...decision.reported].map(([name, entry]) => [
        name,
        { ...entry, status: "detached" as const },
      ]),
    );
    const channel: Channel = new ExtensionsChannel(
      joinRef,
      payload,
      device,
      context,
      (event, body) => connection.pushOnChannel("extensions", event, body),
    );
    return { ok: true, response: decision.attach, channel };
  }

  #contextFor(): ChannelContext {
    const options = this.#options;
    return {
      now: () => this.#clock(),
      penaltyTimeoutMinutes: options.penaltyTimeoutMinutes ?? 60,
      healthIntervalMinutes: options.healthIntervalMinutes ?? 60,
      geoIntervalMinutes: options.geoIntervalMinutes ?? 0,
      analyticsEnabled: options.analyticsEnabled ?? false,
      allowedExtensions: (device) => this.#registry.allowedExtensions(device),
      recordUpdateStatus: (device, record) => {
        device.updateStatuses.push(record);
        this.emit("updateStatus", device.identifier, { ...record });
      },
      scriptResult: (device, ref, output) => {
        const pending = this.#scripts.get(ref);
        if (!pending || pending.identifier !== device.identifier) return;
        this.#scripts.delete(ref);
        clearTimeout(pending.timer);
        pending.resolve(output);
      },
    };
  }

  #joinDevice(
    connection: DeviceSocket,
    device: DeviceState,
    payload: JsonValue | Uint8Array,
    joinRef: JsonValue,
    context: ChannelContext,
  ): JoinOutcome {
    const decision = decideDeviceJoin(payload, (uuid) =>
      this.#registry.firmwareByUuid(device.product, uuid),
    );
    if (!decision.ok) {
      return decision.reply === "join crashed"
        ? { ok: false, response: { reason: "join crashed" } }
        : { ok: false, response: { error: "could not connect" } };
    }
    if (device.failJoins > 0) {
      device.failJoins -= 1;
      return { ok: false, response: { error: "could not connect" } };
    }
    const now = this.#clock();
    device.joinParams = structuredClone(payload as Record<string, JsonValue>);
    device.deviceApiVersion = decision.deviceApiVersion;
    device.firmwareValidation = decision.validation;
    device.firmwareAutoRevertDetected = decision.autoRevertDetected;
    const previous = device.firmwareMetadata;
    const reported = decision.firmwareMetadata;
    if (reported !== null && !sameFirmware(previous, reported)) {
      // firmware_update_successful/2: the in-flight update is done, whatever it was.
      device.firmwareMetadata = reported;
      device.inflightUpdate = null;
      device.firmwareHistory.push({
        previousUuid: previous?.uuid ?? null,
        uuid: reported.uuid,
        atMs: now,
      });
      this.emit("firmwareChanged", {
        identifier: device.identifier,
        previous: structuredClone(previous),
        current: structuredClone(reported),
      });
    }
    if (!decision.keepInflightUpdate) device.inflightUpdate = null;
    const channel = new DeviceChannel(joinRef, payload, device, context);
    return {
      ok: true,
      response: {},
      channel,
      afterJoin: () => this.#afterDeviceJoin(connection, device, decision),
    };
  }

  #extensionsGetPayload(device: DeviceState): JsonValue {
    if (!this.#options.advertiseExtensionVersions) return {};
    const extensions: Record<string, JsonValue> = {};
    for (const name of [...this.#registry.allowedExtensions(device)].sort()) {
      if (name === "logging" && !this.#options.analyticsEnabled) continue;
      extensions[name] = ["0.0.1"];
    }
    return { extensions };
  }

  #deploymentsFor(device: DeviceState): Deployment[] {
    return [...this.#deployments.values()].filter(
      (deployment) =>
        deployment.product === device.product &&
        (deployment.identifiers === undefined ||
          deployment.identifiers.includes(device.identifier)),
    );
  }

  #inPenaltyBox(device: DeviceState): boolean {
    return device.updatesBlockedUntilMs !== null && device.updatesBlockedUntilMs > this.#clock();
  }

  /** after_join/2, then the connecting code: the server's order of pushes after a join. */
  #afterDeviceJoin(
    connection: DeviceSocket,
    device: DeviceState,
    decision: Extract<ReturnType<typeof decideDeviceJoin>, { ok: true }>,
  ): void {
    const api = decision.deviceApiVersion;
    if (this.#signingKeys.length > 0) {
      if (decision.requestedFwupPublicKeys) {
        connection.send(null, null, "device", "fwup_public_keys", { keys: this.#signingKeys });
      }
      if (decision.requestedArchivePublicKeys) {
        connection.send(null, null, "device", "archive_public_keys", { keys: this.#signingKeys });
      }
    }
    const deployments = this.#deploymentsFor(device);
    const archive = deployments.find((deployment) => deployment.archive)?.archive;
    if (
      archive &&
      device.updatesEnabled &&
      !this.#inPenaltyBox(device) &&
      deviceApi.archives(api)
    ) {
      connection.send(null, null, "device", "archive", archive as unknown as JsonValue);
    }
    if (deviceApi.extensions(api)) {
      connection.send(null, null, "device", "extensions:get", this.#extensionsGetPayload(device));
    }
    const code = [deployments.find((d) => d.connectingCode)?.connectingCode, device.connectingCode]
      .filter((part): part is string => typeof part === "string" && part.length > 0)
      .join("\n");
    if (code !== "") {
      if (deviceApi.scripts(api)) {
        connection.pushOnChannel("device", "scripts/run", { text: code, ref: "connecting_code" });
      } else {
        // Older devices get it typed into the console, if one is joined.
        connection.pushOnChannel("console", "dn", { data: `${code}\n\r` });
      }
    }
    // announce_online/1: the orchestrator hears about the device; its offer comes after.
    setImmediate(() => this.#orchestrate(device.identifier));
  }

  // ---------------------------------------------------------------- deployments

  #startOrchestrator(): void {
    if (this.#orchestrator || this.#stopped) return;
    this.#orchestrator = setInterval(
      () => this.#orchestrate(),
      this.#options.orchestratorIntervalMs ?? 3_000,
    );
    this.#orchestrator.unref?.();
  }

  #stopOrchestrator(): void {
    clearInterval(this.#orchestrator);
    this.#orchestrator = undefined;
  }

  /** One orchestrator pass: offer each eligible joined device its deployment's firmware. */
  #orchestrate(onlyIdentifier?: string): void {
    for (const deployment of this.#deployments.values()) {
      for (const [identifier, socket] of this.#current) {
        if (onlyIdentifier !== undefined && identifier !== onlyIdentifier) continue;
        if (!socket.open || !socket.channels.has("device")) continue;
        const device = this.#registry.devices.get(identifier);
        if (!device || device.product !== deployment.product) continue;
        if (deployment.identifiers && !deployment.identifiers.includes(identifier)) continue;
        const eligible =
          device.updatesEnabled &&
          !this.#inPenaltyBox(device) &&
          device.inflightUpdate === null &&
          device.firmwareMetadata?.uuid !== deployment.firmware.metadata.uuid;
        if (!eligible) continue;
        const payload = deployment.firmware.updatePayload({ deploymentId: deployment.id });
        device.inflightUpdate = {
          firmwareUuid: deployment.firmware.metadata.uuid,
          deploymentId: deployment.id,
          status: "requested",
          progress: null,
          startedAtMs: this.#clock(),
        };
        socket.send(null, null, "device", "update", payload as unknown as JsonValue);
      }
    }
  }

  #snapshot(device: DeviceState): DeviceSnapshot {
    const socket = this.#current.get(device.identifier);
    return snapshotDevice(
      device,
      socket?.open ? { id: socket.id, joined: socket.channels.has("device") } : undefined,
    );
  }
}
