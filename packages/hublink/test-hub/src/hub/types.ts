// Public types of the hub's control API.

import type { FirmwareMetadata, FirmwareValidationStatus } from "../device/join.js";
import type { FirmwareServerOptions, ServedFile } from "../http/firmware-server.js";
import type { JsonValue } from "../phoenix/frame.js";
import type { UpdatePayload } from "../update-payload.js";

/** Extensions the server knows (`NervesHub.Extensions.list/0`). */
export type ExtensionName = "health" | "geo" | "local_shell" | "logging" | "network_identity";

export const EXTENSION_NAMES: readonly ExtensionName[] = [
  "health",
  "geo",
  "local_shell",
  "logging",
  "network_identity",
];

/** An access key and its secret. */
export interface SharedSecretCredentials {
  /** `nhp_…` for a product, `nhd_…` for a device. */
  key: string;
  secret: string;
}

export interface ProductOptions {
  name: string;
  /**
   * Product shared secrets (`nhp_` keys). `true` creates one with a random key and secret (the
   * server's format: prefix + 43 characters of unpadded base64 of 32 random bytes).
   */
  sharedSecrets?: boolean | Array<Partial<SharedSecretCredentials>>;
  /** Extensions enabled in the product's settings. Default none. */
  extensions?: ExtensionName[];
}

export interface DeviceOptions {
  identifier: string;
  /** Product name; must exist. */
  product: string;
  /** Device shared secrets (`nhd_` keys); `true` creates one. */
  sharedSecrets?: boolean | Array<Partial<SharedSecretCredentials>>;
  /** Device certificates on file (PEM or DER). */
  certificates?: Array<string | Uint8Array>;
  /** Per-device extension settings; `false` turns a product extension off for this device. */
  extensions?: Partial<Record<ExtensionName, boolean>>;
  /** Code sent as `scripts/run` with ref `connecting_code` after every join. */
  connectingCode?: string;
  /** `updates_enabled` (default true): deployments and archives skip devices with it off. */
  updatesEnabled?: boolean;
}

export interface SignerOptions {
  /** The signer (CA) certificate, PEM or DER. */
  certificate: string | Uint8Array;
  /** Just-in-time provisioning: devices this CA signed that are unknown join this product. */
  jitpProduct?: string;
  /** Check the signer's own validity dates. Default false (the server's default). */
  checkExpiration?: boolean;
}

export interface TestHubTlsOptions {
  /** Server key and certificate (PEM). */
  key: string | Buffer;
  cert: string | Buffer;
  /** Extra chain certificates sent with the server certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
  /**
   * Allow TLS 1.3. Default false: the server pins TLS 1.2 unless `DEVICE_ENABLE_TLS_13=true`
   * (nerves_hub_web config/runtime.exs).
   */
  allowTls13?: boolean;
}

export interface TestHubOptions {
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Default 0: the OS picks a free port (read `hub.port`). */
  port?: number;
  /** Serve `wss` with client-certificate authentication. Default plain `ws`. */
  tls?: TestHubTlsOptions;
  /** The server's clock (Unix ms) for signature ages. Default `Date.now`. */
  clock?: () => number;
  /** Shared-secret authentication: enabled (default true) and the signature lifetime (90 s). */
  sharedSecrets?: { enabled?: boolean; maxAgeSeconds?: number };
  /** Close a socket after this long without an inbound frame. Default 180,000 ms. */
  idleTimeoutMs?: number;
  /** Phoenix `max_channels_per_transport`. Default 100. */
  maxChannelsPerSocket?: number;
  products?: ProductOptions[];
  devices?: DeviceOptions[];
  signers?: SignerOptions[];
  /** Organisation firmware signing keys (base64 Ed25519) pushed on `on_connect` requests. */
  signingKeys?: string[];
  /** Start a firmware HTTP server (default true) with these options. */
  firmwareServer?: boolean | FirmwareServerOptions;
  /** `DEVICE_ENDPOINT_REDIRECT`. Default `https://docs.nerves-hub.org/`. */
  redirectLocation?: string;
  /** Health check interval after `health:attached`. Default 60 minutes. */
  healthIntervalMinutes?: number;
  /** Geo location request interval; 0 (default) asks once. */
  geoIntervalMinutes?: number;
  /** Analytics on: the server-only `logging` extension can attach. Default false. */
  analyticsEnabled?: boolean;
  /**
   * Payload of `extensions:get`: `{}` as in the examined server (default), or the later form
   * `{"extensions": {"health": ["0.0.1"], ...}}` (nerves_hub_web PR #2963, quirk 16).
   */
  advertiseExtensionVersions?: boolean;
  /** Deployment orchestrator tick, ms. Default 3,000 (the server's rate-limit tick). */
  orchestratorIntervalMs?: number;
  /** Penalty after `ignored` or `failed` for a deployment update, minutes. Default 60. */
  penaltyTimeoutMinutes?: number;
}

/** A firmware the hub knows and serves. */
export interface HubFirmware {
  metadata: FirmwareMetadata;
  file: ServedFile;
  /** The `update` payload for this firmware (manual push: `deployment_id` null). */
  updatePayload(options?: { deploymentId?: number | null }): UpdatePayload;
}

export interface InflightUpdate {
  firmwareUuid: string | null;
  deploymentId: number | null;
  /** The server's in-flight status: `requested`, then what the device reports. */
  status: string;
  progress: number | null;
  startedAtMs: number;
}

export interface UpdateStatusRecord {
  status: string;
  /** The whole message payload as the device sent it (e.g. `delay_for` kept raw, quirk 1). */
  payload: JsonValue;
  event: "status_update" | "fwup_progress" | "update_progress";
  atMs: number;
}

export type ExtensionStatus = "attached" | "detached";

export interface DeviceSnapshot {
  identifier: string;
  product: string;
  /** A socket is open for this device. */
  connected: boolean;
  /** Its `device` channel is joined. */
  joined: boolean;
  connectionId: number | null;
  /** The last `device` join payload. */
  joinParams: Record<string, JsonValue> | null;
  /** After the server's sanitising (`"1.0.0"` when missing or invalid). */
  deviceApiVersion: string | null;
  firmwareMetadata: FirmwareMetadata | null;
  firmwareValidation: FirmwareValidationStatus;
  firmwareAutoRevertDetected: boolean;
  /** From `report_network_interface`, as reported (e.g. `eth0`). */
  networkInterface: string | null;
  connectionTypes: JsonValue | null;
  inflightUpdate: InflightUpdate | null;
  updatesEnabled: boolean;
  updatesBlockedUntilMs: number | null;
  /** Every `status_update` / progress message, oldest first. */
  updateStatuses: UpdateStatusRecord[];
  /** Firmware changes seen at join (`firmware_update_successful`). */
  firmwareHistory: Array<{ previousUuid: string | null; uuid: string; atMs: number }>;
  consoleVersion: string | null;
  /** Extensions the device reported at the last `extensions` join, with their state. */
  extensions: Record<string, { version: JsonValue; attach: boolean; status: ExtensionStatus }>;
  lastHealthReport: JsonValue | null;
  location: JsonValue | null;
  networkIdentities: JsonValue | null;
}

export interface ChannelSnapshot {
  topic: string;
  joinRef: JsonValue;
  payload: JsonValue | Uint8Array;
  joinedAtMs: number;
}

export interface ConnectionSnapshot {
  id: number;
  identifier: string;
  product: string;
  auth: "shared_secret" | "certificate";
  /** `/socket/websocket` or `/device-socket/websocket`. */
  path: string;
  vsn: string;
  /** permessage-deflate was negotiated. */
  compression: boolean;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** Upgrade request headers, lower-case names (the signature is redacted). */
  requestHeaders: Record<string, string>;
  openedAtMs: number;
  closedAtMs: number | null;
  closeCode: number | null;
  /** Why the hub closed it (`kicked`, `idle_timeout`, `drain`, `dropped`, …) or `remote`. */
  closeReason: string | null;
  channels: Record<string, ChannelSnapshot>;
}

export interface RecordedMessage {
  /** Hub-wide order, starting at 1. */
  sequence: number;
  connectionId: number;
  identifier: string;
  /** `in`: device to hub. `out`: hub to device. */
  direction: "in" | "out";
  joinRef: JsonValue;
  ref: JsonValue;
  topic: string;
  event: string;
  payload: JsonValue | Uint8Array;
  /** Came or went as a binary frame. */
  binary: boolean;
  atMs: number;
}

export interface Rejection {
  atMs: number;
  path: string;
  /** HTTP status sent, or `tls` when the TLS connection was dropped over the certificate. */
  status: number | "tls";
  /** Why (`no_auth`, `expired`, `unknown_key`, `unknown_ca`, `vsn`, …). */
  reason: string;
  detail: string;
  identifier?: string;
  key?: string;
  /** `x-` headers of the request (the signature is redacted). */
  headers: Record<string, string>;
}

/** Selects recorded messages. Every given field must match. */
export interface MessageFilter {
  identifier?: string;
  connectionId?: number;
  /** Default `in` (what devices sent). */
  direction?: "in" | "out" | "both";
  topic?: string;
  event?: string;
  /** Only messages with a sequence number above this (see `hub.cursor()`). */
  after?: number;
  where?: (message: RecordedMessage) => boolean;
}

export interface WaitOptions {
  /** Default 10,000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface DisconnectOptions {
  /**
   * WebSocket close code. Default 1001 (what the server's `disconnect` broadcast sends). Ignored
   * with `abrupt`.
   */
  code?: number;
  /** Destroy the TCP connection without a close frame (a network failure). */
  abrupt?: boolean;
}

export interface RestartOptions {
  /** Time between closing and listening again. Default 0. */
  downtimeMs?: number;
  /**
   * How sockets end: `drain` (default) closes each with 1012 like a deploy; `abrupt` destroys
   * them without a close frame.
   */
  mode?: "drain" | "abrupt";
}

export interface Deployment {
  id: number;
  product: string;
  firmware: HubFirmware;
  /** Only these devices (default every device of the product). */
  identifiers?: string[];
  /** An archive to send after join (`archive` message). */
  archive?: ArchivePayload;
  /** Code prepended to each device's connecting code. */
  connectingCode?: string;
}

/** The `archive` message payload. */
export interface ArchivePayload {
  size: number;
  uuid: string;
  version: string;
  description: string | null;
  platform: string | null;
  architecture: string | null;
  /** ISO-8601 without zone (the server sends `NaiveDateTime.to_iso8601`). */
  uploaded_at: string;
  url: string;
}

export interface TestHubEvents {
  /** A device socket opened (authenticated, upgraded). */
  connected: (connection: ConnectionSnapshot) => void;
  /** A channel was joined (after the reply went out). */
  joined: (connection: ConnectionSnapshot, topic: string, payload: JsonValue | Uint8Array) => void;
  /** A socket closed. */
  disconnected: (connection: ConnectionSnapshot) => void;
  /** A newer socket of the same device replaced this one (closed with 1001). */
  kicked: (connection: ConnectionSnapshot) => void;
  /** Every frame, both directions. */
  message: (message: RecordedMessage) => void;
  /** A connection attempt refused. */
  rejected: (rejection: Rejection) => void;
  /** A device joined with firmware different from what was on record. */
  firmwareChanged: (change: {
    identifier: string;
    previous: FirmwareMetadata | null;
    current: FirmwareMetadata;
  }) => void;
  /** A `status_update`, `fwup_progress` or `update_progress` arrived. */
  updateStatus: (identifier: string, record: UpdateStatusRecord) => void;
}
