// Validation and defaults for `download()` options. Pure: bad input gives a ValidationError that
// names every offending field, before any connection is made.
import type { Hash } from "node:crypto";
import { fieldPath, ValidationError, type ValidationIssue } from "@runtime/errors";
import type { Dispatcher } from "undici";
import { normalizeRetryConfig, type RetryConfig, retryConfigIssues } from "./config.js";
import type { ProxyOptions, TlsOptions } from "./dispatcher.js";
import type { InterfaceAddressSource } from "./interface.js";
import type { ResumePoint } from "./policy.js";

export interface DownloadOptions {
  /** Retry knobs; see {@link RetryConfig}. */
  retry?: Partial<RetryConfig>;
  /** Redirects followed per attempt. Default 10. */
  maxRedirects?: number;
  /** Expected SHA-256 of the whole resource (64 hex digits), verified while streaming. */
  sha256?: string;
  /** Expected length in bytes, checked against the server's and at the end. */
  size?: number;
  /**
   * Continue earlier work: the bytes the consumer already holds, or a {@link ResumePoint} with
   * the validators from `download.resumeState()` so a changed resource is detected.
   */
  resumeFrom?: number | ResumePoint;
  /**
   * With `sha256` and `resumeFrom`: a `node:crypto` SHA-256 Hash already fed with the bytes the
   * consumer holds (hash state cannot be saved, so re-read them). `toFile` does this itself.
   */
  resumeHash?: Hash;
  /**
   * For the async iterator: when the server can only send the resource from byte 0 again while
   * the consumer holds bytes (Range ignored without a matching ETag, or the resource changed),
   * emit `restart` and start over at byte 0 instead of failing with `RESTART_REQUIRED`.
   * Default false. `toFile` always restarts (it truncates its file).
   */
  allowRestart?: boolean;
  /** Extra request headers (e.g. `user-agent`, `authorization`). Range headers are ours. */
  headers?: Record<string, string>;
  /** Cancels the download; the socket is closed at once. */
  signal?: AbortSignal;
  /**
   * A shared undici dispatcher (not closed by the download). Make it with `createDispatcher()` so
   * the local interface can be reported. Default: a new one per download, closed at the end.
   */
  dispatcher?: Dispatcher;
  /** TLS settings for the server (only without `dispatcher`). */
  tls?: TlsOptions;
  /** HTTP proxy (only without `dispatcher`). */
  proxy?: string | ProxyOptions;
  /** PropertyTable with `["interface", ifname, "addresses"]`, to name the interface used. */
  table?: InterfaceAddressSource;
  /** Least time between `progress` events in milliseconds. Default 500. 0: every chunk. */
  progressInterval?: number;
  /**
   * Bytes buffered ahead of the consumer before the socket is paused. Default 262 144: a consumer
   * that keeps up never pauses the socket (pausing after every 64 KiB read cost about a third of
   * the loopback throughput), and a slow one holds at most this much plus one read.
   */
  highWaterMark?: number;
  /** Compute the SHA-256 (reported on `complete`) even without an expected one. Default false. */
  computeSha256?: boolean;
}

export interface NormalizedOptions {
  url: string;
  retry: RetryConfig;
  maxRedirects: number;
  sha256: string | undefined;
  size: number | undefined;
  resumeFrom: ResumePoint | undefined;
  resumeHash: Hash | undefined;
  allowRestart: boolean;
  headers: Record<string, string>;
  signal: AbortSignal | undefined;
  dispatcher: Dispatcher | undefined;
  tls: TlsOptions | undefined;
  proxy: string | ProxyOptions | undefined;
  table: InterfaceAddressSource | undefined;
  progressInterval: number;
  highWaterMark: number;
  computeSha256: boolean;
}

export const DEFAULT_USER_AGENT = "hublink-downloader";

const OPTION_NAMES: ReadonlyArray<keyof DownloadOptions> = [
  "retry",
  "maxRedirects",
  "sha256",
  "size",
  "resumeFrom",
  "resumeHash",
  "allowRestart",
  "headers",
  "signal",
  "dispatcher",
  "tls",
  "proxy",
  "table",
  "progressInterval",
  "highWaterMark",
  "computeSha256",
];

const MANAGED_HEADERS = new Set(["range", "if-range", "accept-encoding", "x-retry-number"]);
const TLS_FIELDS = new Set(["ca", "cert", "key", "passphrase", "servername", "rejectUnauthorized"]);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isCount(value: unknown, minimum = 0): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= minimum;
}

function isPem(value: unknown): boolean {
  const single = (item: unknown) => typeof item === "string" || Buffer.isBuffer(item);
  return single(value) || (Array.isArray(value) && value.length > 0 && value.every(single));
}

function httpUrlIssue(path: string, value: unknown, what: string): ValidationIssue | undefined {
  if (typeof value !== "string" && !(value instanceof URL)) {
    return { path, value, reason: `must be an ${what} URL string` };
  }
  try {
    const parsed = new URL(value.toString());
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      return { path, value: value.toString(), reason: "must use http: or https:" };
    }
  } catch {
    return { path, value: value.toString(), reason: `must be an absolute ${what} URL` };
  }
  return undefined;
}

function tlsIssues(value: unknown, path: string): ValidationIssue[] {
  if (value === undefined) return [];
  if (!isObject(value)) return [{ path, value, reason: "must be an object" }];
  const issues: ValidationIssue[] = [];
  for (const [name, field] of Object.entries(value)) {
    const at = fieldPath(path, name);
    if (!TLS_FIELDS.has(name)) {
      issues.push({ path: at, value: field, reason: "is not a TLS setting" });
    } else if (field === undefined) {
    } else if (name === "ca" || name === "cert" || name === "key") {
      if (!isPem(field)) {
        issues.push({ path: at, value: field, reason: "must be PEM text, a Buffer or a list" });
      }
    } else if (name === "rejectUnauthorized") {
      if (typeof field !== "boolean") {
        issues.push({ path: at, value: field, reason: "must be a boolean" });
      }
    } else if (typeof field !== "string" || field === "") {
      issues.push({ path: at, value: field, reason: "must be a non-empty string" });
    }
  }
  return issues;
}

function proxyIssues(value: unknown): ValidationIssue[] {
  if (value === undefined) return [];
  if (typeof value === "string") {
    const issue = httpUrlIssue("proxy", value, "http(s)");
    return issue ? [issue] : [];
  }
  if (!isObject(value)) {
    return [
      { path: "proxy", value, reason: "must be a proxy URL or { uri, token, headers, tls }" },
    ];
  }
  const issues: ValidationIssue[] = [];
  const uriIssue = httpUrlIssue("proxy.uri", value["uri"], "http(s)");
  if (uriIssue) issues.push(uriIssue);
  for (const [name, field] of Object.entries(value)) {
    if (!["uri", "token", "headers", "tls"].includes(name)) {
      issues.push({
        path: fieldPath("proxy", name),
        value: field,
        reason: "is not a proxy setting",
      });
    }
  }
  if (value["token"] !== undefined && typeof value["token"] !== "string") {
    issues.push({ path: "proxy.token", value: value["token"], reason: "must be a string" });
  }
  issues.push(...headerIssues(value["headers"], "proxy.headers", false));
  issues.push(...tlsIssues(value["tls"], "proxy.tls"));
  return issues;
}

function headerIssues(value: unknown, path: string, managed: boolean): ValidationIssue[] {
  if (value === undefined) return [];
  if (!isObject(value)) return [{ path, value, reason: "must be an object of strings" }];
  const issues: ValidationIssue[] = [];
  for (const [name, field] of Object.entries(value)) {
    const at = fieldPath(path, name);
    if (typeof field !== "string") {
      issues.push({ path: at, value: field, reason: "must be a string" });
    } else if (managed && MANAGED_HEADERS.has(name.toLowerCase())) {
      issues.push({ path: at, value: field, reason: "is set by the downloader itself" });
    }
  }
  return issues;
}

function resumeIssues(value: unknown, size: unknown): ValidationIssue[] {
  if (value === undefined) return [];
  if (typeof value === "number") {
    if (!isCount(value)) {
      return [{ path: "resumeFrom", value, reason: "must be an integer number of bytes >= 0" }];
    }
    if (isCount(size) && value > size) {
      return [{ path: "resumeFrom", value, reason: `is beyond the expected size (${size})` }];
    }
    return [];
  }
  if (!isObject(value)) {
    return [{ path: "resumeFrom", value, reason: "must be a byte count or a resume point" }];
  }
  const issues: ValidationIssue[] = [];
  for (const [name, field] of Object.entries(value)) {
    if (!["bytes", "etag", "lastModified", "total"].includes(name)) {
      issues.push({
        path: fieldPath("resumeFrom", name),
        value: field,
        reason: "is not a resume field",
      });
    }
  }
  const bytes = value["bytes"];
  if (!isCount(bytes)) {
    issues.push({ path: "resumeFrom.bytes", value: bytes, reason: "must be an integer >= 0" });
  } else if (isCount(size) && bytes > size) {
    issues.push({
      path: "resumeFrom.bytes",
      value: bytes,
      reason: `is beyond the expected size (${size})`,
    });
  }
  for (const name of ["etag", "lastModified"] as const) {
    const field = value[name];
    if (field !== undefined && (typeof field !== "string" || field === "")) {
      issues.push({
        path: fieldPath("resumeFrom", name),
        value: field,
        reason: "must be a non-empty string",
      });
    }
  }
  const total = value["total"];
  if (total !== undefined) {
    if (!isCount(total)) {
      issues.push({ path: "resumeFrom.total", value: total, reason: "must be an integer >= 0" });
    } else if (isCount(bytes) && bytes > total) {
      issues.push({
        path: "resumeFrom.total",
        value: total,
        reason: `is smaller than resumeFrom.bytes (${bytes})`,
      });
    }
  }
  return issues;
}

/** Validates everything and fills in defaults; throws a ValidationError naming each bad field. */
export function normalizeOptions(url: unknown, input: DownloadOptions = {}): NormalizedOptions {
  const issues: ValidationIssue[] = [];
  const urlIssue = httpUrlIssue("url", url, "http(s)");
  if (urlIssue) issues.push(urlIssue);
  if (!isObject(input as unknown)) {
    throw new ValidationError({ path: "options", value: input, reason: "must be an object" });
  }
  const options = input as unknown as Record<string, unknown>;
  for (const name of Object.keys(options)) {
    if (!(OPTION_NAMES as string[]).includes(name)) {
      issues.push({ path: name, value: options[name], reason: "is not a download option" });
    }
  }
  issues.push(...retryConfigIssues(input.retry));
  const check = (
    name: keyof DownloadOptions,
    valid: (value: unknown) => boolean,
    reason: string,
  ) => {
    const value = options[name];
    if (value !== undefined && !valid(value)) issues.push({ path: name, value, reason });
  };
  check("maxRedirects", (value) => isCount(value), "must be an integer >= 0");
  check(
    "sha256",
    (value) => typeof value === "string" && /^[0-9a-f]{64}$/i.test(value),
    "must be 64 hexadecimal digits",
  );
  check("size", (value) => isCount(value), "must be an integer number of bytes >= 0");
  issues.push(...resumeIssues(input.resumeFrom, input.size));
  check(
    "resumeHash",
    (value) =>
      isObject(value) &&
      typeof value["update"] === "function" &&
      typeof value["digest"] === "function",
    "must be a node:crypto Hash",
  );
  check("allowRestart", (value) => typeof value === "boolean", "must be a boolean");
  issues.push(...headerIssues(input.headers, "headers", true));
  check("signal", (value) => value instanceof AbortSignal, "must be an AbortSignal");
  check(
    "dispatcher",
    (value) => isObject(value) && typeof value["dispatch"] === "function",
    "must be an undici Dispatcher",
  );
  issues.push(...tlsIssues(input.tls, "tls"));
  issues.push(...proxyIssues(input.proxy));
  check(
    "table",
    (value) => isObject(value) && typeof value["match"] === "function",
    "must be a PropertyTable",
  );
  check("progressInterval", (value) => isCount(value), "must be an integer number of ms >= 0");
  check("highWaterMark", (value) => isCount(value, 1), "must be an integer number of bytes >= 1");
  check("computeSha256", (value) => typeof value === "boolean", "must be a boolean");

  if (input.dispatcher !== undefined) {
    for (const name of ["tls", "proxy"] as const) {
      if (input[name] !== undefined) {
        issues.push({
          path: name,
          value: input[name],
          reason: "cannot be combined with dispatcher: pass it to createDispatcher() instead",
        });
      }
    }
  }
  const resumeFrom =
    typeof input.resumeFrom === "number" ? { bytes: input.resumeFrom } : input.resumeFrom;
  if (
    input.sha256 !== undefined &&
    resumeFrom !== undefined &&
    resumeFrom.bytes > 0 &&
    input.resumeHash === undefined
  ) {
    issues.push({
      path: "resumeHash",
      value: undefined,
      reason: `is needed to verify sha256 when resuming from byte ${resumeFrom.bytes}: a SHA-256 Hash fed with the bytes already held`,
    });
  }
  if (issues.length > 0) throw new ValidationError(issues);

  return {
    url: new URL(String(url)).toString(),
    retry: normalizeRetryConfig(input.retry),
    maxRedirects: input.maxRedirects ?? 10,
    sha256: input.sha256?.toLowerCase(),
    size: input.size,
    resumeFrom,
    resumeHash: input.resumeHash,
    allowRestart: input.allowRestart ?? false,
    headers: { "user-agent": DEFAULT_USER_AGENT, ...lowerCaseKeys(input.headers ?? {}) },
    signal: input.signal,
    dispatcher: input.dispatcher,
    tls: input.tls,
    proxy: input.proxy,
    table: input.table,
    progressInterval: input.progressInterval ?? 500,
    highWaterMark: input.highWaterMark ?? 262_144,
    computeSha256: input.computeSha256 ?? false,
  };
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
}
