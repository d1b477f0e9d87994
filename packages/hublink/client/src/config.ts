// Configuration: one typed options object, validated (errors name the field), with defaults.
// Pure. NervesHubLink's configuration surface (reference §10.1) is the model; names are ours.
import {
  DEFAULT_RETRY_CONFIG,
  type DownloadOptions,
  download,
  normalizeRetryConfig,
  type ProxyOptions,
  type RetryConfig,
  type TlsOptions,
} from "@hublink/downloader";
import { fieldPath, ValidationError, type ValidationIssue } from "@runtime/errors";
import type { Nh1Digest } from "./auth/nh1.js";
import type { BackoffOptions } from "./backoff.js";
import type { RescheduleUnit } from "./update-machine.js";

type Pem = string | Buffer;

/**
 * Shared-secret authentication (NH1). A device key (`key`/`secret`, `nhd_…`) wins over a product
 * key (`productKey`/`productSecret`, `nhp_…`); values in the KV store (`nh_shared_key`,
 * `nh_shared_secret`, `nh_shared_product_key`, `nh_shared_product_secret`) win over these.
 */
export interface SharedSecretSettings {
  productKey?: string;
  productSecret?: string;
  key?: string;
  secret?: string;
  /** PBKDF2 digest. Default `sha256`. */
  digest?: Nh1Digest;
  /** Default 1000. */
  iterations?: number;
  /** Default 32. */
  keyLength?: number;
}

/**
 * Client-certificate authentication. PEM text or buffers, or file paths; when none is given the
 * KV store (`nerves_hub_cert`, `nerves_hub_key`) and then `<dataPath>/cert.pem`/`key.pem` are used.
 */
export interface CertificateSettings {
  cert?: Pem;
  key?: Pem;
  certPath?: string;
  keyPath?: string;
}

export interface TlsSettings {
  /** Trusted CA certificates (PEM). Default: Node's bundled CA list. */
  ca?: Pem | Pem[];
  /** SNI / name checked in the server certificate. Default: the host. */
  servername?: string;
  /** Default true. Turn off only in a test. */
  rejectUnauthorized?: boolean;
  /** Default `TLSv1.2` (what NervesHub serves unless TLS 1.3 is turned on). */
  minVersion?: "TLSv1.2" | "TLSv1.3";
}

/**
 * Firmware downloads through `@hublink/downloader` (NervesHubLink's `retry_config`,
 * `downloader_ssl` and `downloader_http_opts`).
 */
export interface DownloaderSettings {
  /**
   * NervesHubLink's `retry_config` knobs, camel-cased, durations in ms: `maxDisconnects` 10,
   * `idleTimeout` 60 000, `maxTimeout` 86 400 000, `timeBetweenRetries` 15 000,
   * `worstCaseDownloadSpeed` 30 000 (bits/s, as Link computes it), `worstCaseMinimumTimeout`
   * 300 000.
   */
  retry: RetryConfig;
  /**
   * TLS for the firmware host (Link's `downloader_ssl`). Default: Node's CA list. The socket's
   * `tls` is not used: firmware comes from another host (presigned storage URLs).
   */
  tls: TlsOptions | undefined;
  /** HTTP proxy for downloads (CONNECT). Default (undefined): `proxy`; `false`: none. */
  proxy: string | ProxyOptions | false | undefined;
}

export interface FwupSettings {
  /** The fwup executable. Default `fwup`. */
  path: string;
  /** Base64 Ed25519 public keys, one `--public-key` each (fwup takes at most 10). */
  publicKeys: string[];
  /** `-d`. Default: KV `nerves_fw_devpath`, else `/dev/mmcblk0`. */
  devpath: string | undefined;
  /** `--task`. Default `upgrade`. */
  task: string;
  /** Extra environment variables for fwup. */
  env: Record<string, string>;
  /** Extra arguments, e.g. `["--unsafe"]`. */
  extraOptions: string[];
  /** Ask the server for the organisation's keys at every join, even with keys configured. */
  requestPublicKeys: boolean;
  /** Kill fwup after this long. Default 60 minutes. */
  timeoutMs: number;
}

/** The validated configuration the configurator hook receives and returns. */
export interface HubLinkConfig {
  /** `wss://host[:port][/path]` (a bare host becomes `wss://host`). */
  host: string;
  sharedSecret: SharedSecretSettings | undefined;
  certificate: CertificateSettings | undefined;
  tls: TlsSettings;
  /** Device identifier signed into shared-secret tokens. Default: the serial number from kv. */
  identifier: string | undefined;
  /** Where the client keeps files. Default `/data/nerves-hub`. */
  dataPath: string;
  heartbeatIntervalMs: number;
  /** Delay before rejoining a channel that errored or was refused. Default 5000 (Link). */
  rejoinAfterMs: number;
  /** Join (and other reply) timeout. Default 10,000. */
  joinTimeoutMs: number;
  /** Offer permessage-deflate. Default true. */
  compress: boolean;
  /** HTTP proxy (`http://host:port`) for the websocket (CONNECT). */
  proxy: string | undefined;
  /** Connect at start. Default true. */
  connect: boolean;
  /** Before the first connect, wait until a TCP connection to the host succeeds. Default true. */
  connectWaitForNetwork: boolean;
  networkCheckIntervalMs: number;
  /** Extra `device` join parameters. */
  params: Record<string, string>;
  backoff: Required<BackoffOptions>;
  /** Websocket redirects followed within one attempt. Default 5 (then back off and retry). */
  maxRedirects: number;
  fwup: FwupSettings;
  downloader: DownloaderSettings;
  /** Unit of `delay_for` sent for a reschedule (quirk 1). Default `milliseconds`. */
  rescheduleUnit: RescheduleUnit;
  /** Poll for validation after joining unvalidated. Default 10,000 (Link). */
  validationPollMs: number;
  /** Retry naming the network interface when unknown. Default 60,000 (Link). */
  networkInterfaceRetryMs: number;
  /** Seconds subtracted from the signing time (quirk 2). Default 1. */
  signatureMarginSeconds: number;
}

/** What {@link HubLink.start} takes: every field of {@link HubLinkConfig} optional but `host`. */
export type HubLinkConfigInput = Partial<
  Omit<HubLinkConfig, "fwup" | "backoff" | "tls" | "downloader">
> & {
  host: string;
  fwup?: Partial<FwupSettings>;
  backoff?: BackoffOptions;
  tls?: TlsSettings;
  downloader?: {
    retry?: Partial<RetryConfig>;
    tls?: TlsOptions;
    proxy?: string | ProxyOptions | false;
  };
};

export const DEFAULTS = {
  dataPath: "/data/nerves-hub",
  heartbeatIntervalMs: 30_000,
  rejoinAfterMs: 5_000,
  joinTimeoutMs: 10_000,
  networkCheckIntervalMs: 3_000,
  maxRedirects: 5,
  validationPollMs: 10_000,
  networkInterfaceRetryMs: 60_000,
  fwupTimeoutMs: 60 * 60_000,
} as const;

const CONFIG_KEYS = new Set<string>([
  "host",
  "sharedSecret",
  "certificate",
  "tls",
  "identifier",
  "dataPath",
  "heartbeatIntervalMs",
  "rejoinAfterMs",
  "joinTimeoutMs",
  "compress",
  "proxy",
  "connect",
  "connectWaitForNetwork",
  "networkCheckIntervalMs",
  "params",
  "backoff",
  "maxRedirects",
  "fwup",
  "downloader",
  "rescheduleUnit",
  "validationPollMs",
  "networkInterfaceRetryMs",
  "signatureMarginSeconds",
]);

const ED25519_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
  );
}

function isPem(value: unknown): value is Pem {
  return (typeof value === "string" && value.trim() !== "") || Buffer.isBuffer(value);
}

class Checker {
  readonly issues: ValidationIssue[] = [];
  add(path: string, value: unknown, reason: string): void {
    this.issues.push({ path, value, reason });
  }
  int(path: string, value: unknown, fallback: number, minimum = 0): number {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < minimum) {
      this.add(path, value, `must be an integer ≥ ${minimum}`);
      return fallback;
    }
    return value;
  }
  bool(path: string, value: unknown, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== "boolean") {
      this.add(path, value, "must be a boolean");
      return fallback;
    }
    return value;
  }
  text(path: string, value: unknown): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value.trim() === "") {
      this.add(path, value, "must be a non-empty string");
      return undefined;
    }
    return value;
  }
  stringMap(path: string, value: unknown): Record<string, string> {
    if (value === undefined) return {};
    if (!isObject(value)) {
      this.add(path, value, "must be an object of strings");
      return {};
    }
    const result: Record<string, string> = {};
    for (const [name, item] of Object.entries(value)) {
      if (typeof item !== "string") this.add(fieldPath(path, name), item, "must be a string");
      else result[name] = item;
    }
    return result;
  }
  unknownKeys(path: string, value: Record<string, unknown>, known: Iterable<string>): void {
    const allowed = new Set(known);
    for (const name of Object.keys(value)) {
      if (!allowed.has(name))
        this.add(path === "" ? name : fieldPath(path, name), value[name], "is not a known option");
    }
  }
}

/** `wss://…` base of the socket URL, or an issue. */
export function normalizeHost(host: unknown, checker: Checker): string {
  if (typeof host !== "string" || host.trim() === "") {
    checker.add("host", host, "must be a host name or a ws(s):// URL");
    return "";
  }
  const text = host.includes("://") ? host : `wss://${host}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    checker.add("host", host, "must be a host name or a ws(s):// URL");
    return "";
  }
  const protocols: Record<string, string> = {
    "ws:": "ws:",
    "wss:": "wss:",
    "http:": "ws:",
    "https:": "wss:",
  };
  const protocol = protocols[url.protocol];
  if (!protocol) {
    checker.add("host", host, "must use wss:// (or ws:// for tests)");
    return "";
  }
  if (url.search !== "" || url.hash !== "") {
    checker.add("host", host, "must not have a query or fragment");
    return "";
  }
  const path = url.pathname.replace(/\/+$/, "").replace(/\/websocket$/, "");
  return `${protocol}//${url.host}${path}`;
}

function checkTls(value: unknown, checker: Checker): TlsSettings {
  if (value === undefined) return {};
  if (!isObject(value)) {
    checker.add("tls", value, "must be an object");
    return {};
  }
  checker.unknownKeys("tls", value, ["ca", "servername", "rejectUnauthorized", "minVersion"]);
  const tls: TlsSettings = {};
  if (value.ca !== undefined) {
    const list = Array.isArray(value.ca) ? value.ca : [value.ca];
    if (list.length === 0 || !list.every(isPem))
      checker.add("tls.ca", value.ca, "must be PEM text, a Buffer or a list of them");
    else tls.ca = value.ca as Pem | Pem[];
  }
  const servername = checker.text("tls.servername", value.servername);
  if (servername !== undefined) tls.servername = servername;
  if (value.rejectUnauthorized !== undefined)
    tls.rejectUnauthorized = checker.bool("tls.rejectUnauthorized", value.rejectUnauthorized, true);
  if (value.minVersion !== undefined) {
    if (value.minVersion !== "TLSv1.2" && value.minVersion !== "TLSv1.3")
      checker.add("tls.minVersion", value.minVersion, 'must be "TLSv1.2" or "TLSv1.3"');
    else tls.minVersion = value.minVersion;
  }
  return tls;
}

function checkSharedSecret(value: unknown, checker: Checker): SharedSecretSettings | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    checker.add("sharedSecret", value, "must be an object");
    return undefined;
  }
  checker.unknownKeys("sharedSecret", value, [
    "productKey",
    "productSecret",
    "key",
    "secret",
    "digest",
    "iterations",
    "keyLength",
  ]);
  const settings: SharedSecretSettings = {};
  for (const name of ["productKey", "productSecret", "key", "secret"] as const) {
    const text = checker.text(fieldPath("sharedSecret", name), value[name]);
    if (text !== undefined) settings[name] = text;
  }
  if (settings.productKey !== undefined && !settings.productKey.startsWith("nhp_")) {
    checker.add("sharedSecret.productKey", settings.productKey, 'must start with "nhp_"');
  }
  if (
    settings.productKey !== undefined &&
    settings.productSecret === undefined &&
    settings.key === undefined
  ) {
    checker.add("sharedSecret.productSecret", undefined, "is required with productKey");
  }
  if (settings.key !== undefined && settings.secret === undefined) {
    checker.add("sharedSecret.secret", undefined, "is required with key");
  }
  if (value.digest !== undefined) {
    if (value.digest !== "sha256" && value.digest !== "sha384" && value.digest !== "sha512") {
      checker.add("sharedSecret.digest", value.digest, 'must be "sha256", "sha384" or "sha512"');
    } else settings.digest = value.digest;
  }
  if (value.iterations !== undefined)
    settings.iterations = checker.int("sharedSecret.iterations", value.iterations, 1000, 1);
  if (value.keyLength !== undefined)
    settings.keyLength = checker.int("sharedSecret.keyLength", value.keyLength, 32, 16);
  return settings;
}

function checkCertificate(value: unknown, checker: Checker): CertificateSettings | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    checker.add("certificate", value, "must be an object");
    return undefined;
  }
  checker.unknownKeys("certificate", value, ["cert", "key", "certPath", "keyPath"]);
  const settings: CertificateSettings = {};
  for (const name of ["cert", "key"] as const) {
    if (value[name] === undefined) continue;
    if (!isPem(value[name]))
      checker.add(fieldPath("certificate", name), value[name], "must be PEM text or a Buffer");
    else settings[name] = value[name] as Pem;
  }
  for (const name of ["certPath", "keyPath"] as const) {
    const text = checker.text(fieldPath("certificate", name), value[name]);
    if (text !== undefined) settings[name] = text;
  }
  if (settings.cert !== undefined && settings.certPath !== undefined)
    checker.add("certificate.certPath", settings.certPath, "give cert or certPath, not both");
  if (settings.key !== undefined && settings.keyPath !== undefined)
    checker.add("certificate.keyPath", settings.keyPath, "give key or keyPath, not both");
  return settings;
}

function checkFwup(value: unknown, checker: Checker): FwupSettings {
  const fwup: FwupSettings = {
    path: "fwup",
    publicKeys: [],
    devpath: undefined,
    task: "upgrade",
    env: {},
    extraOptions: [],
    requestPublicKeys: false,
    timeoutMs: DEFAULTS.fwupTimeoutMs,
  };
  if (value === undefined) return fwup;
  if (!isObject(value)) {
    checker.add("fwup", value, "must be an object");
    return fwup;
  }
  checker.unknownKeys("fwup", value, Object.keys(fwup));
  fwup.path = checker.text("fwup.path", value.path) ?? fwup.path;
  if (value.publicKeys !== undefined) {
    if (!Array.isArray(value.publicKeys))
      checker.add(
        "fwup.publicKeys",
        value.publicKeys,
        "must be a list of base64 Ed25519 public keys",
      );
    else {
      value.publicKeys.forEach((key, index) => {
        if (typeof key !== "string" || !ED25519_BASE64.test(key)) {
          checker.add(
            fieldPath("fwup", "publicKeys", index),
            key,
            "must be a base64 Ed25519 public key (44 characters)",
          );
        } else fwup.publicKeys.push(key);
      });
      if (value.publicKeys.length > 10)
        checker.add(
          "fwup.publicKeys",
          value.publicKeys.length,
          "fwup takes at most 10 public keys",
        );
    }
  }
  fwup.devpath = checker.text("fwup.devpath", value.devpath);
  fwup.task = checker.text("fwup.task", value.task) ?? fwup.task;
  fwup.env = checker.stringMap("fwup.env", value.env);
  if (value.extraOptions !== undefined) {
    if (
      !Array.isArray(value.extraOptions) ||
      !value.extraOptions.every((item) => typeof item === "string")
    ) {
      checker.add("fwup.extraOptions", value.extraOptions, "must be a list of strings");
    } else fwup.extraOptions = [...value.extraOptions];
  }
  fwup.requestPublicKeys = checker.bool("fwup.requestPublicKeys", value.requestPublicKeys, false);
  fwup.timeoutMs = checker.int("fwup.timeoutMs", value.timeoutMs, fwup.timeoutMs, 1);
  return fwup;
}

/** Any well-formed URL: the downloader's own check never connects to it. */
const VALIDATION_URL = "http://downloader-settings.invalid/";

function checkDownloader(value: unknown, checker: Checker): DownloaderSettings {
  const settings: DownloaderSettings = {
    retry: { ...DEFAULT_RETRY_CONFIG },
    tls: undefined,
    proxy: undefined,
  };
  if (value === undefined) return settings;
  if (!isObject(value)) {
    checker.add("downloader", value, "must be an object");
    return settings;
  }
  checker.unknownKeys("downloader", value, ["retry", "tls", "proxy"]);
  const options: DownloadOptions = {};
  if (value.retry !== undefined) options.retry = value.retry as Partial<RetryConfig>;
  if (value.tls !== undefined) options.tls = value.tls as TlsOptions;
  if (value.proxy !== undefined && value.proxy !== false)
    options.proxy = value.proxy as string | ProxyOptions;
  // The downloader checks its own options when a download is made (nothing connects before it is
  // read); doing that here reports bad settings at start, under `downloader.`.
  try {
    download(VALIDATION_URL, options);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    for (const issue of error.issues)
      checker.add(fieldPath("downloader", issue.path), issue.value, issue.reason);
    return settings;
  }
  settings.retry = normalizeRetryConfig(options.retry);
  settings.tls = options.tls;
  settings.proxy = value.proxy as DownloaderSettings["proxy"];
  return settings;
}

function checkBackoff(value: unknown, checker: Checker): Required<BackoffOptions> {
  const backoff = { minMs: 1000, maxMs: 60_000, jitter: 0.5 };
  if (value === undefined) return backoff;
  if (!isObject(value)) {
    checker.add("backoff", value, "must be an object");
    return backoff;
  }
  checker.unknownKeys("backoff", value, ["minMs", "maxMs", "jitter"]);
  backoff.minMs = checker.int("backoff.minMs", value.minMs, backoff.minMs, 1);
  backoff.maxMs = checker.int("backoff.maxMs", value.maxMs, backoff.maxMs, 1);
  if (backoff.maxMs < backoff.minMs)
    checker.add("backoff.maxMs", backoff.maxMs, "must be ≥ backoff.minMs");
  if (value.jitter !== undefined) {
    if (
      typeof value.jitter !== "number" ||
      !Number.isFinite(value.jitter) ||
      value.jitter < 0 ||
      value.jitter > 10
    ) {
      checker.add("backoff.jitter", value.jitter, "must be a number from 0 to 10");
    } else backoff.jitter = value.jitter;
  }
  return backoff;
}

/**
 * Validates and completes a configuration. Throws one {@link ValidationError} (code
 * `INVALID_CONFIG`) listing every problem, each naming its field; secrets are never shown.
 */
export function normalizeConfig(input: unknown): HubLinkConfig {
  const checker = new Checker();
  if (!isObject(input))
    throw new ValidationError({ path: "", value: input, reason: "must be an object" });
  checker.unknownKeys("", input, CONFIG_KEYS);
  const host = normalizeHost(input.host, checker);
  const sharedSecret = checkSharedSecret(input.sharedSecret, checker);
  const certificate = checkCertificate(input.certificate, checker);
  if (
    sharedSecret === undefined &&
    certificate === undefined &&
    !checker.issues.some(
      (issue) => issue.path.startsWith("sharedSecret") || issue.path.startsWith("certificate"),
    )
  ) {
    checker.add(
      "sharedSecret",
      undefined,
      "give sharedSecret or certificate settings (either may be {} to read them from KV)",
    );
  }
  if (sharedSecret !== undefined && certificate !== undefined) {
    checker.add("certificate", "(given)", "give sharedSecret or certificate, not both");
  }
  let proxy: string | undefined;
  if (input.proxy !== undefined) {
    proxy = checker.text("proxy", input.proxy);
    if (proxy !== undefined) {
      try {
        const url = new URL(proxy);
        if (url.protocol !== "http:") checker.add("proxy", proxy, "must be an http:// proxy URL");
      } catch {
        checker.add("proxy", proxy, "must be an http:// proxy URL");
      }
    }
  }
  let rescheduleUnit: RescheduleUnit = "milliseconds";
  if (input.rescheduleUnit !== undefined) {
    if (input.rescheduleUnit !== "milliseconds" && input.rescheduleUnit !== "minutes") {
      checker.add("rescheduleUnit", input.rescheduleUnit, 'must be "milliseconds" or "minutes"');
    } else rescheduleUnit = input.rescheduleUnit;
  }
  const config: HubLinkConfig = {
    host,
    sharedSecret,
    certificate,
    tls: checkTls(input.tls, checker),
    identifier: checker.text("identifier", input.identifier),
    dataPath: checker.text("dataPath", input.dataPath) ?? DEFAULTS.dataPath,
    heartbeatIntervalMs: checker.int(
      "heartbeatIntervalMs",
      input.heartbeatIntervalMs,
      DEFAULTS.heartbeatIntervalMs,
      10,
    ),
    rejoinAfterMs: checker.int("rejoinAfterMs", input.rejoinAfterMs, DEFAULTS.rejoinAfterMs, 0),
    joinTimeoutMs: checker.int("joinTimeoutMs", input.joinTimeoutMs, DEFAULTS.joinTimeoutMs, 1),
    compress: checker.bool("compress", input.compress, true),
    proxy,
    connect: checker.bool("connect", input.connect, true),
    connectWaitForNetwork: checker.bool("connectWaitForNetwork", input.connectWaitForNetwork, true),
    networkCheckIntervalMs: checker.int(
      "networkCheckIntervalMs",
      input.networkCheckIntervalMs,
      DEFAULTS.networkCheckIntervalMs,
      1,
    ),
    params: checker.stringMap("params", input.params),
    backoff: checkBackoff(input.backoff, checker),
    maxRedirects: checker.int("maxRedirects", input.maxRedirects, DEFAULTS.maxRedirects, 0),
    fwup: checkFwup(input.fwup, checker),
    downloader: checkDownloader(input.downloader, checker),
    rescheduleUnit,
    validationPollMs: checker.int(
      "validationPollMs",
      input.validationPollMs,
      DEFAULTS.validationPollMs,
      1,
    ),
    networkInterfaceRetryMs: checker.int(
      "networkInterfaceRetryMs",
      input.networkInterfaceRetryMs,
      DEFAULTS.networkInterfaceRetryMs,
      1,
    ),
    signatureMarginSeconds: checker.int(
      "signatureMarginSeconds",
      input.signatureMarginSeconds,
      1,
      0,
    ),
  };
  if (checker.issues.length > 0) throw new ValidationError(checker.issues);
  return config;
}

/** The websocket endpoint phoenix appends `/websocket?vsn=2.0.0` to. */
export function socketEndpoint(config: Pick<HubLinkConfig, "host" | "sharedSecret">): string {
  const url = new URL(config.host);
  if (url.pathname !== "/" && url.pathname !== "") return config.host;
  // Shared-secret devices use /device-socket (the SharedSecret configurator's path), certificate
  // devices /socket; the server mounts the same socket at both.
  return `${config.host.replace(/\/$/, "")}${config.sharedSecret ? "/device-socket" : "/socket"}`;
}

/** Which key and secret to sign with (Link's lookup order, KV first). */
export function resolveSharedSecret(
  settings: SharedSecretSettings,
  kvGet: (key: string) => string | undefined,
): { key: string; secret: string } {
  const key =
    kvGet("nh_shared_key") ?? settings.key ?? kvGet("nh_shared_product_key") ?? settings.productKey;
  if (key === undefined) {
    throw new ValidationError({
      path: "sharedSecret.productKey",
      value: undefined,
      reason:
        "no key: set sharedSecret.key or productKey, or nh_shared_key / nh_shared_product_key in KV",
    });
  }
  const secret = key.startsWith("nhp_")
    ? (kvGet("nh_shared_product_secret") ?? settings.productSecret)
    : (kvGet("nh_shared_secret") ?? settings.secret);
  if (secret === undefined) {
    throw new ValidationError({
      path: key.startsWith("nhp_") ? "sharedSecret.productSecret" : "sharedSecret.secret",
      value: undefined,
      reason: "no secret for the key in use (config or KV)",
    });
  }
  return { key, secret };
}
