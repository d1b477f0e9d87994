// The retry and resume policy of a download as a pure state machine. It never touches the
// network, timers or files: the caller feeds it what happened (a response's status and headers,
// how many bytes arrived, an error, the clock) and gets back what to do next (send this request,
// read this body skipping so many bytes, wait and retry, complete, give up and why).
//
// Invariants (property-tested in test/policy.property.test.ts):
// - the bytes it tells the caller to deliver form one contiguous run from the consumer's offset,
//   and a restart always starts again at byte 0: no gap, no overlap;
// - at most `maxDisconnects` retries and `maxDisconnects + 1` restarts, at most `maxRedirects`
//   redirects per attempt, and no retry is ever scheduled to start after `maxTimeout`.

import { type RetryConfig, worstCaseBudget } from "./config.js";
import {
  header,
  parseContentRange,
  parseLength,
  parseRetryAfter,
  type ResponseHeaders,
  strongEtag,
} from "./http.js";

/** Why an attempt failed and is being retried. */
export type RetryReason =
  /** No response at all: connection refused or reset, DNS or TLS failure, timeout before headers. */
  | "connect_failed"
  /** The connection broke while the body was being received. */
  | "disconnected"
  /** The body ended (the server closed the connection) before the announced length. */
  | "content_length_mismatch"
  /** Nothing arrived for `idleTimeout` milliseconds. */
  | "idle_timeout"
  /** A status worth retrying: 408, 429 or any 5xx. */
  | "http_status"
  /** A 206 whose `Content-Range` is malformed or does not continue where we are. */
  | "invalid_content_range"
  /** A 206 for another version of the resource (different ETag or total length): fetch it again. */
  | "resource_changed"
  /** A 416 for a partial download that no longer fits the resource: fetch it again from zero. */
  | "range_not_satisfiable";

/** Stable codes of the reasons a download gives up. */
export type GiveUpCode =
  | "HTTP_STATUS"
  | "CONTENT_LENGTH_MISMATCH"
  | "IDLE_TIMEOUT"
  | "MAX_DISCONNECTS"
  | "DEADLINE_EXCEEDED"
  | "MAX_TIMEOUT"
  | "INTEGRITY"
  | "RANGE_NOT_SATISFIABLE"
  | "TOO_MANY_REDIRECTS"
  | "RESTART_REQUIRED"
  | "INVALID_RESPONSE"
  | "ABORTED";

/** Why the policy gave up, with the figures the error message and the caller need. */
export interface GiveUp {
  code: GiveUpCode;
  /** One sentence for people. */
  detail: string;
  /** The last retry reason, when the budget ran out. */
  reason?: RetryReason;
  status?: number;
  /** Expected and actual figures (bytes) for INTEGRITY and CONTENT_LENGTH_MISMATCH. */
  expected?: number;
  actual?: number;
  /** The limit that was hit, in milliseconds, for DEADLINE_EXCEEDED and MAX_TIMEOUT. */
  limitMs?: number;
  /** True when the partial data can never be completed (404/410 during a resumed download). */
  partialStale?: boolean;
}

/** The validators of the version of the resource the consumer holds (for `If-Range`). */
export interface Validator {
  etag?: string;
  lastModified?: string;
}

/** Where a download starts when it continues earlier work (e.g. after a reboot). */
export interface ResumePoint {
  /** Bytes already held by the consumer. */
  bytes: number;
  etag?: string;
  lastModified?: string;
  /** Full length of the resource, when it was known. */
  total?: number;
}

export interface PolicyOptions {
  retry: RetryConfig;
  maxRedirects: number;
  /** May the consumer be told to discard what it has and start again at byte 0? */
  allowRestart: boolean;
  /** Expected full length in bytes, when the caller knows it. */
  expectedSize?: number;
}

export interface RequestPlan {
  url: string;
  headers: Record<string, string>;
  /** First byte asked for (0: no Range header). */
  from: number;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
}

interface BodyState {
  /** Bytes still to be thrown away at the start of this body (we already hold them). */
  skip: number;
  /** Absolute end (exclusive) of what this response announced, when known. */
  end: number | undefined;
  /** Network time this body may take (worst-case deadline), when its length is known. */
  budgetMs: number | undefined;
}

export type Phase = "ready" | "awaiting_response" | "receiving" | "waiting" | "done";

export interface PolicyState {
  readonly options: PolicyOptions;
  /** The URL the download was started with; every retry starts here again. */
  readonly url: string;
  readonly startedAt: number;
  /** `startedAt + maxTimeout`. */
  readonly deadline: number;
  readonly phase: Phase;
  /** Bytes the consumer holds, i.e. the absolute position of the next byte it will get. */
  readonly offset: number;
  /** Full length of the resource, once known. */
  readonly total: number | undefined;
  readonly validator: Validator;
  /** The next request must fetch the resource from zero (the consumer's copy is stale). */
  readonly refetch: boolean;
  readonly failures: number;
  /** Attempts started: the first request and one per retry. */
  readonly attempts: number;
  readonly restarts: number;
  readonly requests: number;
  /** Redirects followed in the current attempt. */
  readonly redirects: number;
  readonly currentUrl: string;
  /** `from` of the request in flight. */
  readonly requestedFrom: number;
  /** Consecutive 408/429/503 answers, for their back-off. */
  readonly throttled: number;
  readonly body: BodyState | undefined;
  readonly lastReason: RetryReason | undefined;
}

export type Decision =
  /** Send this request now (a redirect, or the next range when the server sent a short one). */
  | { type: "request"; state: PolicyState; request: RequestPlan }
  /**
   * Read this response's body. `restart`: the consumer must drop the `discarded` bytes it has
   * first (the offset is now 0). `skip`: bytes at the start of the body to throw away.
   * `budgetMs`: network time the body may take (worst-case deadline), undefined when its length
   * is unknown.
   */
  | {
      type: "body";
      state: PolicyState;
      restart: boolean;
      discarded: number;
      skip: number;
      budgetMs: number | undefined;
    }
  /** Abandon this response, wait `delayMs`, then call {@link nextRequest}. */
  | { type: "retry"; state: PolicyState; reason: RetryReason; delayMs: number; status?: number }
  | { type: "complete"; state: PolicyState }
  | { type: "fail"; state: PolicyState; giveUp: GiveUp };

/** A failure reported by the I/O edge. */
export type Failure =
  | {
      kind: "network";
      /** The server closed the connection (FIN), as opposed to a reset or a local error. */
      serverClosed: boolean;
    }
  | { kind: "idle" };

/** What to do with one chunk of body. */
export interface ChunkPlan {
  state: PolicyState;
  /** Deliver `chunk.subarray(from, to)` to the consumer. */
  from: number;
  to: number;
  /** Bytes beyond the announced length in this chunk (not delivered). */
  excess: number;
  /** Set when the body must not be read further: what to do instead. */
  after?: Decision;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Statuses that mean "later" rather than "never". */
const THROTTLING = new Set([408, 429, 503]);
/** Largest back-off multiplier for throttling statuses: timeBetweenRetries × 16. */
const MAX_BACKOFF_SHIFT = 4;

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

export function createPolicy(
  options: PolicyOptions,
  start: { url: string; now: number; resume?: ResumePoint },
): PolicyState {
  const resume = start.resume;
  return {
    options,
    url: start.url,
    startedAt: start.now,
    deadline: start.now + options.retry.maxTimeout,
    phase: "ready",
    offset: resume?.bytes ?? 0,
    total: resume?.total,
    validator: {
      ...(resume?.etag !== undefined ? { etag: resume.etag } : {}),
      ...(resume?.lastModified !== undefined ? { lastModified: resume.lastModified } : {}),
    },
    refetch: false,
    failures: 0,
    attempts: 0,
    restarts: 0,
    requests: 0,
    redirects: 0,
    currentUrl: start.url,
    requestedFrom: 0,
    throttled: 0,
    body: undefined,
    lastReason: undefined,
  };
}

function plan(state: PolicyState, url: string): RequestPlan {
  const from = state.refetch ? 0 : state.offset;
  const headers: Record<string, string> = {
    "accept-encoding": "identity",
    "x-retry-number": String(state.failures),
  };
  if (from > 0) {
    headers["range"] = `bytes=${from}-`;
    const validator = state.validator.etag ?? state.validator.lastModified;
    if (validator !== undefined) headers["if-range"] = validator;
  }
  return { url, headers, from, attempt: state.attempts };
}

function send(state: PolicyState, url: string, redirects: number): Decision {
  const request = plan(state, url);
  return {
    type: "request",
    request,
    state: {
      ...state,
      phase: "awaiting_response",
      currentUrl: url,
      redirects,
      requests: state.requests + 1,
      requestedFrom: request.from,
      body: undefined,
    },
  };
}

/** The first request, or the next one after a retry's wait. Every attempt starts at `url`. */
export function nextRequest(state: PolicyState, now: number): Decision {
  if (now >= state.deadline) return fail(state, maxTimeout(state));
  return send({ ...state, attempts: state.attempts + 1 }, state.url, 0);
}

function fail(state: PolicyState, giveUp: GiveUp): Decision {
  return { type: "fail", state: { ...state, phase: "done", body: undefined }, giveUp };
}

function maxTimeout(state: PolicyState): GiveUp {
  return {
    code: "MAX_TIMEOUT",
    detail: `the download did not finish within maxTimeout (${state.options.retry.maxTimeout} ms)`,
    limitMs: state.options.retry.maxTimeout,
    ...(state.lastReason ? { reason: state.lastReason } : {}),
  };
}

const EXHAUSTED_CODE: Record<RetryReason, GiveUpCode> = {
  connect_failed: "MAX_DISCONNECTS",
  disconnected: "MAX_DISCONNECTS",
  resource_changed: "MAX_DISCONNECTS",
  content_length_mismatch: "CONTENT_LENGTH_MISMATCH",
  idle_timeout: "IDLE_TIMEOUT",
  http_status: "HTTP_STATUS",
  invalid_content_range: "INVALID_RESPONSE",
  range_not_satisfiable: "RANGE_NOT_SATISFIABLE",
};

function exhausted(state: PolicyState, reason: RetryReason, status?: number): GiveUp {
  const retries = state.options.retry.maxDisconnects;
  const what = reason === "http_status" && status !== undefined ? `HTTP status ${status}` : reason;
  const giveUp: GiveUp = {
    code: EXHAUSTED_CODE[reason],
    reason,
    detail: `gave up after ${retries} ${retries === 1 ? "retry" : "retries"} (maxDisconnects); last failure: ${what}`,
  };
  if (status !== undefined) giveUp.status = status;
  if (reason === "content_length_mismatch") {
    const expected = state.body?.end ?? state.total ?? state.options.expectedSize;
    if (expected !== undefined) giveUp.expected = expected;
    giveUp.actual = state.offset;
  }
  return giveUp;
}

function retryOrFail(
  state: PolicyState,
  reason: RetryReason,
  now: number,
  extra: {
    delayMs?: number;
    status?: number;
    refetch?: boolean;
    throttled?: number;
  } = {},
): Decision {
  const failures = state.failures + 1;
  const next: PolicyState = {
    ...state,
    failures,
    lastReason: reason,
    phase: "waiting",
    throttled: extra.throttled ?? 0,
    ...(extra.refetch ? { refetch: true, validator: {}, total: undefined } : {}),
  };
  if (failures > state.options.retry.maxDisconnects) {
    return fail(next, exhausted(state, reason, extra.status));
  }
  const delayMs = extra.delayMs ?? state.options.retry.timeBetweenRetries;
  if (now + delayMs >= state.deadline) return fail(next, maxTimeout(next));
  return {
    type: "retry",
    state: { ...next, body: undefined },
    reason,
    delayMs,
    ...(extra.status !== undefined ? { status: extra.status } : {}),
  };
}

function complete(state: PolicyState): Decision {
  const expected = state.options.expectedSize;
  if (expected !== undefined && state.offset !== expected) {
    return fail(state, sizeMismatch(expected, state.offset));
  }
  return {
    type: "complete",
    state: { ...state, phase: "done", body: undefined, total: state.offset },
  };
}

function sizeMismatch(expected: number, actual: number): GiveUp {
  return {
    code: "INTEGRITY",
    detail: `the resource is ${actual} bytes where ${expected} were expected`,
    expected,
    actual,
  };
}

function restartRequired(state: PolicyState, why: string): GiveUp {
  return {
    code: "RESTART_REQUIRED",
    detail: `${why}; the consumer holds ${state.offset} bytes and restarts are not allowed (allowRestart)`,
  };
}

function tooManyRestarts(state: PolicyState): GiveUp {
  return {
    code: "MAX_DISCONNECTS",
    reason: "resource_changed",
    detail: `the resource changed under the download ${state.restarts} times`,
  };
}

/** Starts reading a body that begins at absolute position `first` of the resource. */
function acceptBody(
  state: PolicyState,
  body: {
    first: number;
    end: number | undefined;
    total: number | undefined;
    /** Validators to keep when continuing the version the consumer holds. */
    validator: Validator;
    /** Validators of this response, used when the consumer starts from zero. */
    fresh: Validator;
    sameVersion: boolean;
  },
): Decision {
  const { first, end, total, validator, fresh, sameVersion } = body;
  const retry = state.options.retry;
  const expectedSize = state.options.expectedSize;
  if (expectedSize !== undefined && total !== undefined && total !== expectedSize) {
    return fail(state, sizeMismatch(expectedSize, total));
  }
  let offset = state.offset;
  let restart = false;
  let restarts = state.restarts;
  if (!sameVersion && offset > 0) {
    if (first !== 0) {
      return fail(state, {
        code: "INVALID_RESPONSE",
        detail: `a new version of the resource arrived as a range starting at ${first}`,
      });
    }
    if (!state.options.allowRestart) {
      return fail(state, restartRequired(state, "the resource changed"));
    }
    if (restarts > retry.maxDisconnects) return fail(state, tooManyRestarts(state));
    restart = true;
    restarts += 1;
    offset = 0;
  }
  const skip = offset - first;
  const budgetMs = worstCaseBudget(retry, end === undefined ? undefined : end - offset);
  const next: PolicyState = {
    ...state,
    phase: "receiving",
    offset,
    total,
    // A consumer starting from zero holds nothing yet: the new response's validators rule.
    validator: offset === 0 ? fresh : validator,
    refetch: false,
    restarts,
    throttled: 0,
    body: { skip, end, budgetMs },
  };
  return {
    type: "body",
    state: next,
    restart,
    discarded: restart ? state.offset : 0,
    skip,
    budgetMs,
  };
}

function validatorOf(headers: ResponseHeaders): Validator {
  const etag = strongEtag(header(headers, "etag"));
  const lastModified = header(headers, "last-modified");
  return {
    ...(etag !== undefined ? { etag } : {}),
    ...(lastModified !== undefined ? { lastModified } : {}),
  };
}

function fullResponse(state: PolicyState, headers: ResponseHeaders): Decision {
  const length = parseLength(header(headers, "content-length"));
  const validator = validatorOf(headers);
  // A full body of the very version we hold (same strong ETag, same length) lets us skip what we
  // already have instead of making the consumer start over: servers that ignore Range do this.
  const sameVersion =
    state.offset === 0 ||
    (!state.refetch &&
      state.validator.etag !== undefined &&
      validator.etag === state.validator.etag &&
      (state.total === undefined || length === undefined || length === state.total));
  return acceptBody(state, {
    first: 0,
    end: length,
    // A length learnt earlier only describes this body if we continue the same version.
    total: length ?? (sameVersion && state.offset > 0 ? state.total : undefined),
    validator: state.validator,
    fresh: validator,
    sameVersion,
  });
}

function partialResponse(state: PolicyState, headers: ResponseHeaders, now: number): Decision {
  const range = parseContentRange(header(headers, "content-range"));
  if (range === undefined || range.kind !== "range") {
    return retryOrFail(state, "invalid_content_range", now);
  }
  const validator = validatorOf(headers);
  const changed =
    state.refetch ||
    (state.total !== undefined && range.total !== undefined && range.total !== state.total) ||
    (state.validator.etag !== undefined &&
      validator.etag !== undefined &&
      validator.etag !== state.validator.etag) ||
    (state.validator.etag === undefined &&
      state.validator.lastModified !== undefined &&
      validator.lastModified !== undefined &&
      validator.lastModified !== state.validator.lastModified);
  const end = range.last + 1;
  if (changed && state.offset > 0) {
    if (range.first === 0) {
      return acceptBody(state, {
        first: 0,
        end,
        total: range.total,
        validator,
        fresh: validator,
        sameVersion: false,
      });
    }
    if (!state.options.allowRestart) {
      return fail(state, restartRequired(state, "the resource changed"));
    }
    return retryOrFail(state, "resource_changed", now, { delayMs: 0, refetch: true });
  }
  if (range.first > state.offset || end <= state.offset) {
    return retryOrFail(state, "invalid_content_range", now);
  }
  const hasValidator =
    state.validator.etag !== undefined || state.validator.lastModified !== undefined;
  return acceptBody(state, {
    first: range.first,
    end,
    total: range.total ?? (state.offset === 0 ? undefined : state.total),
    validator: hasValidator ? state.validator : validator,
    fresh: validator,
    sameVersion: true,
  });
}

function notSatisfiable(state: PolicyState, headers: ResponseHeaders, now: number): Decision {
  if (state.requestedFrom === 0) {
    return fail(state, {
      code: "RANGE_NOT_SATISFIABLE",
      status: 416,
      detail: "the server answered 416 to a request without a Range",
    });
  }
  const range = parseContentRange(header(headers, "content-range"));
  const announced = range?.kind === "unsatisfied" ? range.total : undefined;
  // A length other than the one we know means another version: our bytes are stale.
  const changed = announced !== undefined && state.total !== undefined && announced !== state.total;
  const total = announced ?? state.total;
  // We asked for bytes=<offset>- (with If-Range when we have a validator, which the server checks
  // before the Range): a 416 saying the resource is exactly `offset` long means we already hold
  // all of it, e.g. after a crash between the last byte and the rename.
  if (!changed && total !== undefined && total === state.offset) {
    return complete({ ...state, total });
  }
  if (!state.options.allowRestart) {
    return fail(state, {
      code: "RANGE_NOT_SATISFIABLE",
      status: 416,
      detail: `the server cannot serve bytes from ${state.offset}${total !== undefined ? ` of a ${total}-byte resource` : ""}`,
      ...(total !== undefined ? { expected: total, actual: state.offset } : {}),
    });
  }
  return retryOrFail(state, "range_not_satisfiable", now, { delayMs: 0, refetch: true });
}

function retryDelay(state: PolicyState, status: number, headers: ResponseHeaders) {
  const base = state.options.retry.timeBetweenRetries;
  if (!THROTTLING.has(status)) return { delayMs: base, throttled: 0 };
  const throttled = state.throttled + 1;
  const backoff = base * 2 ** Math.min(throttled - 1, MAX_BACKOFF_SHIFT);
  const retryAfter = parseRetryAfter(header(headers, "retry-after"), header(headers, "date"));
  return { delayMs: Math.max(backoff, retryAfter ?? 0), throttled };
}

/** Decides what a response means, from its status and headers alone. */
export function onResponse(
  state: PolicyState,
  response: { status: number; headers: ResponseHeaders },
  now: number,
): Decision {
  const { status, headers } = response;
  if (REDIRECTS.has(status)) {
    const location = header(headers, "location");
    if (location === undefined || location === "") {
      return fail(state, {
        code: "HTTP_STATUS",
        status,
        detail: `HTTP status ${status} without a Location`,
      });
    }
    let target: URL;
    try {
      target = new URL(location, state.currentUrl);
    } catch {
      return fail(state, { code: "INVALID_RESPONSE", detail: "a redirect to an invalid URL" });
    }
    if (target.protocol !== "http:" && target.protocol !== "https:") {
      return fail(state, {
        code: "INVALID_RESPONSE",
        detail: `a redirect to an unsupported protocol (${target.protocol})`,
      });
    }
    if (state.redirects + 1 > state.options.maxRedirects) {
      return fail(state, {
        code: "TOO_MANY_REDIRECTS",
        detail: `more than ${state.options.maxRedirects} redirects (maxRedirects)`,
      });
    }
    target.hash = "";
    return send(state, target.toString(), state.redirects + 1);
  }
  if (status === 200 || status === 203) return fullResponse(state, headers);
  if (status === 206) return partialResponse(state, headers, now);
  if (status === 416) return notSatisfiable(state, headers, now);
  if (isRetryableStatus(status)) {
    return retryOrFail(state, "http_status", now, {
      status,
      ...retryDelay(state, status, headers),
    });
  }
  if (status >= 200 && status < 300) {
    return fail(state, {
      code: "INVALID_RESPONSE",
      status,
      detail: `HTTP status ${status} carries no resource`,
    });
  }
  return fail(state, {
    code: "HTTP_STATUS",
    status,
    detail: `HTTP status ${status}`,
    partialStale: (status === 404 || status === 410) && state.offset > 0,
  });
}

/** Decides what to do with the next `length` bytes of the body being received. */
export function onData(state: PolicyState, length: number): ChunkPlan {
  const body = state.body;
  if (state.phase !== "receiving" || body === undefined) {
    throw new Error(`onData while ${state.phase}`);
  }
  const from = Math.min(body.skip, length);
  const available = length - from;
  const limit = body.end ?? state.total;
  const room = limit === undefined ? available : Math.max(0, limit - state.offset);
  let deliver = Math.min(available, room);
  const expectedSize = state.options.expectedSize;
  if (expectedSize !== undefined && state.offset + deliver > expectedSize) {
    deliver = Math.max(0, expectedSize - state.offset);
    const next = { ...state, offset: state.offset + deliver };
    return {
      state: next,
      from,
      to: from + deliver,
      excess: 0,
      after: fail(next, {
        code: "INTEGRITY",
        detail: `the server sent more than the expected ${expectedSize} bytes`,
        expected: expectedSize,
        actual: state.offset + available,
      }),
    };
  }
  const excess = available - deliver;
  const next: PolicyState = {
    ...state,
    offset: state.offset + deliver,
    body: { ...body, skip: body.skip - from },
  };
  const chunk: ChunkPlan = { state: next, from, to: from + deliver, excess };
  // Excess means the announced end is reached, so this always has an answer.
  if (excess > 0) chunk.after = endOfBody(next) ?? complete(next);
  return chunk;
}

/** The body reached its announced end: complete, or ask for the rest of a short range. */
function endOfBody(state: PolicyState): Decision | undefined {
  const body = state.body;
  if (state.total === undefined) return complete(state);
  if (state.offset >= state.total) return complete(state);
  // The server sent a shorter range than asked (some cap range sizes): ask for the rest.
  if (body?.end !== undefined && body.skip === 0 && state.offset >= body.end) {
    return send({ ...state, phase: "ready" }, state.currentUrl, state.redirects);
  }
  return undefined;
}

/** The body ended cleanly (the server said it was done). */
export function onEnd(state: PolicyState, now: number): Decision {
  if (state.phase !== "receiving") throw new Error(`onEnd while ${state.phase}`);
  const expectedSize = state.options.expectedSize;
  if (state.total === undefined) {
    // Without a length we cannot tell an early close from the end, unless the caller told us.
    if (expectedSize !== undefined && state.offset < expectedSize) {
      return retryOrFail(state, "content_length_mismatch", now);
    }
    return complete(state);
  }
  return endOfBody(state) ?? retryOrFail(state, "content_length_mismatch", now);
}

/** The exchange failed (network error, or nothing arrived for `idleTimeout`). */
export function onFailure(state: PolicyState, failure: Failure, now: number): Decision {
  if (state.phase === "awaiting_response") {
    return retryOrFail(state, failure.kind === "idle" ? "idle_timeout" : "connect_failed", now);
  }
  if (state.phase !== "receiving") throw new Error(`onFailure while ${state.phase}`);
  if (state.total !== undefined && state.offset >= state.total) return complete(state);
  if (failure.kind === "idle") return retryOrFail(state, "idle_timeout", now);
  const knownEnd = state.body?.end ?? state.total ?? state.options.expectedSize;
  const reason =
    failure.serverClosed && knownEnd !== undefined ? "content_length_mismatch" : "disconnected";
  return retryOrFail(state, reason, now);
}

/** A deadline fired: the worst-case budget of the current body, or `maxTimeout`. */
export function onTimeout(state: PolicyState, which: "worst_case" | "max_timeout"): Decision {
  if (which === "max_timeout") return fail(state, maxTimeout(state));
  const retry = state.options.retry;
  const limitMs = state.body?.budgetMs;
  return fail(state, {
    code: "DEADLINE_EXCEEDED",
    detail: `the body did not arrive within its worst-case deadline${limitMs !== undefined ? ` of ${limitMs} ms` : ""} (${retry.worstCaseDownloadSpeed} bits/s, at least ${retry.worstCaseMinimumTimeout} ms)`,
    ...(limitMs !== undefined ? { limitMs } : {}),
  });
}

/** The caller aborted. */
export function onAbort(state: PolicyState): Decision {
  return fail(state, { code: "ABORTED", detail: "the download was aborted" });
}
