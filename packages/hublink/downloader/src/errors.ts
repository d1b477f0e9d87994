import { DeviceError } from "@runtime/errors";
import { redactUrl } from "./http.js";
import type { GiveUp, GiveUpCode, RetryReason } from "./policy.js";

/** Where a failed download stood. */
export interface DownloadErrorContext {
  /** The URL with its query hidden. */
  url: string;
  /** Bytes the consumer held when the download gave up. */
  bytes: number;
  /** Attempts made (1 + retries). */
  attempts: number;
  /** The last retry reason, when the download had retried. */
  lastReason?: RetryReason;
  cause?: unknown;
}

/**
 * Base of every error a download ends with. `code` says why (see the README's error table);
 * `bytes` and `attempts` say how far it got.
 */
export class DownloadError extends DeviceError {
  override name = "DownloadError";
  readonly url: string;
  readonly bytes: number;
  readonly attempts: number;
  readonly lastReason: RetryReason | undefined;

  constructor(code: GiveUpCode, message: string, context: DownloadErrorContext) {
    super(
      code,
      `${message} (${context.url}, ${context.bytes} bytes, ${context.attempts} ${context.attempts === 1 ? "attempt" : "attempts"})`,
      context.cause === undefined ? undefined : { cause: context.cause },
    );
    this.url = context.url;
    this.bytes = context.bytes;
    this.attempts = context.attempts;
    this.lastReason = context.lastReason;
  }
}

/** `HTTP_STATUS`: a status that is never retried (404, 403, ...), or retryable ones too often. */
export class HttpStatusError extends DownloadError {
  override name = "HttpStatusError";
  /**
   * True for 404/410 while continuing a partial download: the partial data can never be
   * completed and should be deleted (`toFile` does).
   */
  readonly partialStale: boolean;
  constructor(
    readonly status: number,
    message: string,
    context: DownloadErrorContext & { partialStale?: boolean },
  ) {
    super("HTTP_STATUS", message, context);
    this.partialStale = context.partialStale ?? false;
  }
}

/** `CONTENT_LENGTH_MISMATCH`: the body kept ending before its announced length. */
export class ContentLengthMismatchError extends DownloadError {
  override name = "ContentLengthMismatchError";
  constructor(
    readonly expected: number | undefined,
    readonly received: number,
    message: string,
    context: DownloadErrorContext,
  ) {
    super("CONTENT_LENGTH_MISMATCH", message, context);
  }
}

/** `IDLE_TIMEOUT`: the link kept stalling for `idleTimeout`. */
export class IdleTimeoutError extends DownloadError {
  override name = "IdleTimeoutError";
  constructor(message: string, context: DownloadErrorContext) {
    super("IDLE_TIMEOUT", message, context);
  }
}

/** `MAX_DISCONNECTS`: connections kept failing (or the resource kept changing). */
export class MaxDisconnectsError extends DownloadError {
  override name = "MaxDisconnectsError";
  constructor(message: string, context: DownloadErrorContext) {
    super("MAX_DISCONNECTS", message, context);
  }
}

/** `DEADLINE_EXCEEDED`: slower than `worstCaseDownloadSpeed` for the whole body. */
export class DeadlineExceededError extends DownloadError {
  override name = "DeadlineExceededError";
  constructor(
    readonly limitMs: number | undefined,
    message: string,
    context: DownloadErrorContext,
  ) {
    super("DEADLINE_EXCEEDED", message, context);
  }
}

/** `MAX_TIMEOUT`: the download as a whole took longer than `maxTimeout`. */
export class MaxTimeoutError extends DownloadError {
  override name = "MaxTimeoutError";
  constructor(
    readonly limitMs: number,
    message: string,
    context: DownloadErrorContext,
  ) {
    super("MAX_TIMEOUT", message, context);
  }
}

/** `INTEGRITY`: the bytes are not the expected ones (`sha256`) or not the expected length (`size`). */
export class IntegrityError extends DownloadError {
  override name = "IntegrityError";
  constructor(
    readonly check: "sha256" | "size",
    readonly expected: string | number,
    readonly actual: string | number,
    message: string,
    context: DownloadErrorContext,
  ) {
    super("INTEGRITY", message, context);
  }
}

/** `ABORTED`: the caller's AbortSignal fired, `abort()` was called, or the consumer stopped reading. */
export class DownloadAbortedError extends DownloadError {
  override name = "DownloadAbortedError";
  constructor(message: string, context: DownloadErrorContext) {
    super("ABORTED", message, context);
  }
}

/** `RANGE_NOT_SATISFIABLE`: a 416 that could not be resolved. */
export class RangeNotSatisfiableError extends DownloadError {
  override name = "RangeNotSatisfiableError";
  constructor(message: string, context: DownloadErrorContext) {
    super("RANGE_NOT_SATISFIABLE", message, context);
  }
}

/** `TOO_MANY_REDIRECTS`: more than `maxRedirects` redirects in one attempt. */
export class TooManyRedirectsError extends DownloadError {
  override name = "TooManyRedirectsError";
  constructor(message: string, context: DownloadErrorContext) {
    super("TOO_MANY_REDIRECTS", message, context);
  }
}

/**
 * `RESTART_REQUIRED`: the server can only give the resource from byte 0 (it ignored the Range,
 * or the resource changed) while the consumer already holds bytes, and `allowRestart` is off.
 */
export class RestartRequiredError extends DownloadError {
  override name = "RestartRequiredError";
  constructor(message: string, context: DownloadErrorContext) {
    super("RESTART_REQUIRED", message, context);
  }
}

/** `INVALID_RESPONSE`: a response no download can continue from (bad redirect, 204, bad ranges). */
export class InvalidResponseError extends DownloadError {
  override name = "InvalidResponseError";
  constructor(message: string, context: DownloadErrorContext) {
    super("INVALID_RESPONSE", message, context);
  }
}

/** Turns the policy's give-up into the typed error the caller sees. */
export function errorFor(giveUp: GiveUp, context: DownloadErrorContext): DownloadError {
  const full: DownloadErrorContext = {
    ...context,
    url: redactUrl(context.url),
    ...(giveUp.reason ? { lastReason: giveUp.reason } : {}),
  };
  const message = giveUp.detail;
  switch (giveUp.code) {
    case "HTTP_STATUS":
      return new HttpStatusError(giveUp.status ?? 0, message, {
        ...full,
        partialStale: giveUp.partialStale ?? false,
      });
    case "CONTENT_LENGTH_MISMATCH":
      return new ContentLengthMismatchError(
        giveUp.expected,
        giveUp.actual ?? context.bytes,
        message,
        full,
      );
    case "IDLE_TIMEOUT":
      return new IdleTimeoutError(message, full);
    case "MAX_DISCONNECTS":
      return new MaxDisconnectsError(message, full);
    case "DEADLINE_EXCEEDED":
      return new DeadlineExceededError(giveUp.limitMs, message, full);
    case "MAX_TIMEOUT":
      return new MaxTimeoutError(giveUp.limitMs ?? 0, message, full);
    case "INTEGRITY":
      return new IntegrityError("size", giveUp.expected ?? 0, giveUp.actual ?? 0, message, full);
    case "ABORTED":
      return new DownloadAbortedError(message, full);
    case "RANGE_NOT_SATISFIABLE":
      return new RangeNotSatisfiableError(message, full);
    case "TOO_MANY_REDIRECTS":
      return new TooManyRedirectsError(message, full);
    case "RESTART_REQUIRED":
      return new RestartRequiredError(message, full);
    case "INVALID_RESPONSE":
      return new InvalidResponseError(message, full);
  }
}
