import { describe, expect, it } from "vitest";
import { normalizeRetryConfig, type RetryConfig } from "../src/config.js";
import type { ResponseHeaders } from "../src/http.js";
import {
  createPolicy,
  type Decision,
  isRetryableStatus,
  nextRequest,
  onAbort,
  onData,
  onEnd,
  onFailure,
  onResponse,
  onTimeout,
  type PolicyOptions,
  type PolicyState,
  type ResumePoint,
} from "../src/policy.js";

const URL = "https://cdn.example/fw.fw?sig=1";
const ETAG = '"v1"';

function options(
  overrides: Partial<Omit<PolicyOptions, "retry">> & { retry?: Partial<RetryConfig> } = {},
): PolicyOptions {
  return {
    maxRedirects: 3,
    allowRestart: false,
    ...overrides,
    retry: normalizeRetryConfig({ timeBetweenRetries: 1_000, ...overrides.retry }),
  };
}

function start(overrides: Parameters<typeof options>[0] = {}, resume?: ResumePoint) {
  const state = createPolicy(options(overrides), {
    url: URL,
    now: 0,
    ...(resume ? { resume } : {}),
  });
  return expectType(nextRequest(state, 0), "request");
}

function expectType<T extends Decision["type"]>(decision: Decision, type: T) {
  if (decision.type !== type) {
    throw new Error(`expected ${type}, got ${JSON.stringify({ ...decision, state: undefined })}`);
  }
  return decision as Extract<Decision, { type: T }>;
}

const full = (length: number, extra: ResponseHeaders = {}) => ({
  status: 200,
  headers: { "content-length": String(length), etag: ETAG, ...extra },
});
const partial = (first: number, last: number, total: number, extra: ResponseHeaders = {}) => ({
  status: 206,
  headers: {
    "content-range": `bytes ${first}-${last}/${total}`,
    "content-length": String(last - first + 1),
    etag: ETAG,
    ...extra,
  },
});

/** Feeds `length` bytes as one chunk and returns the plan. */
function feed(state: PolicyState, length: number) {
  return onData(state, length);
}

describe("requests", () => {
  it("asks for the whole resource first, with no Range", () => {
    const { request } = start();
    expect(request).toEqual({
      url: URL,
      from: 0,
      attempt: 1,
      headers: { "accept-encoding": "identity", "x-retry-number": "0" },
    });
  });

  it("resumes with Range and If-Range, preferring the ETag over Last-Modified", () => {
    expect(
      start({}, { bytes: 500, etag: ETAG, lastModified: "Tue, 01 Jan 2026 00:00:00 GMT" }).request
        .headers,
    ).toMatchObject({
      range: "bytes=500-",
      "if-range": ETAG,
    });
    expect(
      start({}, { bytes: 500, lastModified: "Tue, 01 Jan 2026 00:00:00 GMT" }).request.headers,
    ).toMatchObject({
      range: "bytes=500-",
      "if-range": "Tue, 01 Jan 2026 00:00:00 GMT",
    });
    const bare = start({}, { bytes: 500 }).request.headers;
    expect(bare["range"]).toBe("bytes=500-");
    expect(bare["if-range"]).toBeUndefined();
  });
});

describe("a drop mid-body", () => {
  it("retries from exactly the received offset with the validator, counting the retry", () => {
    const first = start();
    const body = expectType(onResponse(first.state, full(1000), 0), "body");
    expect(body).toMatchObject({ restart: false, skip: 0, budgetMs: 300_000 });
    const chunk = feed(body.state, 400);
    expect(chunk).toMatchObject({ from: 0, to: 400, excess: 0 });
    const retry = expectType(
      onFailure(chunk.state, { kind: "network", serverClosed: true }, 10),
      "retry",
    );
    expect(retry).toMatchObject({ reason: "content_length_mismatch", delayMs: 1_000 });
    const again = expectType(nextRequest(retry.state, 1_010), "request");
    expect(again.request).toMatchObject({
      from: 400,
      attempt: 2,
      headers: { range: "bytes=400-", "if-range": ETAG, "x-retry-number": "1" },
    });
    const rest = expectType(onResponse(again.state, partial(400, 999, 1000), 1_020), "body");
    expect(rest).toMatchObject({ restart: false, skip: 0 });
    const last = feed(rest.state, 600);
    expect(last).toMatchObject({ from: 0, to: 600 });
    expect(expectType(onEnd(last.state, 1_030), "complete").state.offset).toBe(1000);
  });

  it("calls a reset a disconnect, and a clean close before the length a mismatch", () => {
    const body = expectType(onResponse(start().state, full(1000), 0), "body");
    const chunk = feed(body.state, 10);
    expect(
      expectType(onFailure(chunk.state, { kind: "network", serverClosed: false }, 0), "retry")
        .reason,
    ).toBe("disconnected");
    // A chunked body that simply ends early.
    expect(expectType(onEnd(chunk.state, 0), "retry").reason).toBe("content_length_mismatch");
  });

  it("completes when the connection breaks after the last announced byte", () => {
    const body = expectType(onResponse(start().state, full(10), 0), "body");
    const chunk = feed(body.state, 10);
    expectType(onFailure(chunk.state, { kind: "network", serverClosed: false }, 0), "complete");
  });

  it("times out as idle_timeout, before or during the body", () => {
    const first = start();
    expect(expectType(onFailure(first.state, { kind: "idle" }, 0), "retry").reason).toBe(
      "idle_timeout",
    );
    const body = expectType(onResponse(first.state, full(10), 0), "body");
    expect(expectType(onFailure(body.state, { kind: "idle" }, 0), "retry").reason).toBe(
      "idle_timeout",
    );
  });

  it("calls a failure before any response connect_failed", () => {
    expect(
      expectType(onFailure(start().state, { kind: "network", serverClosed: false }, 0), "retry")
        .reason,
    ).toBe("connect_failed");
  });
});

describe("the retry budget", () => {
  function failTimes(times: number, maxDisconnects: number) {
    let decision: Decision = start({ retry: { maxDisconnects } });
    let now = 0;
    for (let index = 0; index < times; index++) {
      const request = expectType(decision, "request");
      decision = onFailure(request.state, { kind: "network", serverClosed: false }, now);
      if (decision.type !== "retry") return decision;
      now += decision.delayMs;
      decision = nextRequest(decision.state, now);
    }
    return decision;
  }

  it("allows maxDisconnects retries, then gives up with the last reason's code", () => {
    expect(failTimes(10, 10).type).toBe("request");
    const gaveUp = expectType(failTimes(11, 10), "fail");
    expect(gaveUp.giveUp).toMatchObject({ code: "MAX_DISCONNECTS", reason: "connect_failed" });
    expect(gaveUp.state.attempts).toBe(11);
  });

  it("never retries with maxDisconnects 0", () => {
    expect(expectType(failTimes(1, 0), "fail").giveUp.code).toBe("MAX_DISCONNECTS");
  });

  it.each([
    ["content_length_mismatch", "CONTENT_LENGTH_MISMATCH"],
    ["idle_timeout", "IDLE_TIMEOUT"],
    ["disconnected", "MAX_DISCONNECTS"],
  ] as const)("maps an exhausted %s to %s", (reason, code) => {
    const body = expectType(
      onResponse(start({ retry: { maxDisconnects: 0 } }).state, full(100), 0),
      "body",
    );
    const chunk = feed(body.state, 10);
    const failure =
      reason === "idle_timeout"
        ? onFailure(chunk.state, { kind: "idle" }, 0)
        : onFailure(
            chunk.state,
            { kind: "network", serverClosed: reason === "content_length_mismatch" },
            0,
          );
    const gaveUp = expectType(failure, "fail").giveUp;
    expect(gaveUp).toMatchObject({ code, reason });
    if (code === "CONTENT_LENGTH_MISMATCH")
      expect(gaveUp).toMatchObject({ expected: 100, actual: 10 });
  });

  it("gives up at once instead of waiting past maxTimeout", () => {
    const first = start({ retry: { maxTimeout: 10_000, timeBetweenRetries: 5_000 } });
    expectType(onFailure(first.state, { kind: "idle" }, 4_999), "retry");
    const late = expectType(onFailure(first.state, { kind: "idle" }, 5_000), "fail");
    expect(late.giveUp).toMatchObject({ code: "MAX_TIMEOUT", limitMs: 10_000 });
    expect(expectType(nextRequest(first.state, 10_000), "fail").giveUp.code).toBe("MAX_TIMEOUT");
  });

  it("gives up on the deadlines and on abort", () => {
    const body = expectType(onResponse(start().state, full(100_000_000), 0), "body");
    expect(body.budgetMs).toBe(26_666_667);
    expect(expectType(onTimeout(body.state, "worst_case"), "fail").giveUp).toMatchObject({
      code: "DEADLINE_EXCEEDED",
      limitMs: 26_666_667,
    });
    expect(expectType(onTimeout(body.state, "max_timeout"), "fail").giveUp.code).toBe(
      "MAX_TIMEOUT",
    );
    expect(expectType(onAbort(body.state), "fail").giveUp.code).toBe("ABORTED");
  });

  it("bases the worst-case budget on the bytes still to come", () => {
    const resumed = start({}, { bytes: 90_000_000, etag: ETAG, total: 100_000_000 });
    const body = expectType(
      onResponse(resumed.state, partial(90_000_000, 99_999_999, 100_000_000), 0),
      "body",
    );
    expect(body.budgetMs).toBe(2_666_667);
  });
});

describe("statuses", () => {
  it("knows which statuses are worth retrying", () => {
    expect([408, 429, 500, 502, 503, 504, 599].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 410, 416, 451].some(isRetryableStatus)).toBe(false);
  });

  it.each([400, 401, 403, 404, 410])("never retries %i", (status) => {
    const gaveUp = expectType(onResponse(start().state, { status, headers: {} }, 0), "fail");
    expect(gaveUp.giveUp).toMatchObject({ code: "HTTP_STATUS", status, partialStale: false });
    expect(gaveUp.state.failures).toBe(0);
  });

  it("marks the partial stale on 404/410 while resuming (NervesHubLink 2.12.0)", () => {
    const resumed = start({}, { bytes: 10, etag: ETAG });
    for (const status of [404, 410]) {
      expect(
        expectType(onResponse(resumed.state, { status, headers: {} }, 0), "fail").giveUp,
      ).toMatchObject({
        code: "HTTP_STATUS",
        partialStale: true,
      });
    }
    expect(
      expectType(onResponse(resumed.state, { status: 403, headers: {} }, 0), "fail").giveUp
        .partialStale,
    ).toBe(false);
  });

  it("retries 5xx after timeBetweenRetries", () => {
    for (const status of [500, 502, 504]) {
      expect(
        expectType(onResponse(start().state, { status, headers: {} }, 0), "retry"),
      ).toMatchObject({
        reason: "http_status",
        status,
        delayMs: 1_000,
      });
    }
  });

  it("backs off exponentially on 408/429/503 and honours a longer Retry-After", () => {
    let decision: Decision = start();
    const delays: number[] = [];
    for (let index = 0; index < 7; index++) {
      const retry = expectType(
        onResponse(expectType(decision, "request").state, { status: 429, headers: {} }, 0),
        "retry",
      );
      delays.push(retry.delayMs);
      decision = nextRequest(retry.state, 0);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 16_000, 16_000]);
    const afterHeader = onResponse(
      start().state,
      { status: 503, headers: { "retry-after": "120" } },
      0,
    );
    expect(expectType(afterHeader, "retry").delayMs).toBe(120_000);
    // A success in between resets the back-off.
    const body = expectType(onResponse(expectType(decision, "request").state, full(10), 0), "body");
    expect(body.state.throttled).toBe(0);
  });

  it("gives up with HTTP_STATUS when retryable statuses use up the budget", () => {
    const first = start({ retry: { maxDisconnects: 0 } });
    expect(
      expectType(onResponse(first.state, { status: 503, headers: {} }, 0), "fail").giveUp,
    ).toMatchObject({
      code: "HTTP_STATUS",
      status: 503,
      reason: "http_status",
    });
  });

  it("fails on 2xx statuses that carry no resource", () => {
    expect(
      expectType(onResponse(start().state, { status: 204, headers: {} }, 0), "fail").giveUp,
    ).toMatchObject({
      code: "INVALID_RESPONSE",
      status: 204,
    });
  });
});

describe("redirects", () => {
  it("follows them relative to the current URL, keeping the Range", () => {
    const first = start({}, { bytes: 5, etag: ETAG });
    const hop = expectType(
      onResponse(first.state, { status: 302, headers: { location: "/mirror/fw.fw#x" } }, 0),
      "request",
    );
    expect(hop.request).toMatchObject({
      url: "https://cdn.example/mirror/fw.fw",
      from: 5,
      headers: { range: "bytes=5-" },
    });
    const hop2 = expectType(
      onResponse(
        hop.state,
        { status: 307, headers: { location: "http://other.example/fw.fw" } },
        0,
      ),
      "request",
    );
    expect(hop2.state.redirects).toBe(2);
  });

  it("stops after maxRedirects, and starts each retry at the original URL", () => {
    let decision: Decision = start({ maxRedirects: 2 });
    for (let index = 0; index < 2; index++) {
      decision = onResponse(
        expectType(decision, "request").state,
        { status: 301, headers: { location: "/loop" } },
        0,
      );
    }
    const afterTwo = expectType(decision, "request");
    expect(
      expectType(
        onResponse(afterTwo.state, { status: 301, headers: { location: "/loop" } }, 0),
        "fail",
      ).giveUp.code,
    ).toBe("TOO_MANY_REDIRECTS");
    const retry = expectType(onFailure(afterTwo.state, { kind: "idle" }, 0), "retry");
    const again = expectType(nextRequest(retry.state, 1_000), "request");
    expect(again.request.url).toBe(URL);
    expect(again.state.redirects).toBe(0);
  });

  it("rejects redirects without a usable Location", () => {
    expect(
      expectType(onResponse(start().state, { status: 302, headers: {} }, 0), "fail").giveUp.code,
    ).toBe("HTTP_STATUS");
    expect(
      expectType(
        onResponse(start().state, { status: 302, headers: { location: "ftp://x/y" } }, 0),
        "fail",
      ).giveUp.code,
    ).toBe("INVALID_RESPONSE");
    expect(
      expectType(
        onResponse(start().state, { status: 302, headers: { location: "http://[bad" } }, 0),
        "fail",
      ).giveUp.code,
    ).toBe("INVALID_RESPONSE");
  });
});

describe("a 200 to a ranged request", () => {
  it("skips what we hold when the strong ETag proves it is the same version", () => {
    const resumed = start({}, { bytes: 400, etag: ETAG, total: 1000 });
    const body = expectType(onResponse(resumed.state, full(1000), 0), "body");
    expect(body).toMatchObject({ restart: false, skip: 400 });
    const first = feed(body.state, 300);
    expect(first).toMatchObject({ from: 300, to: 300 });
    const second = feed(first.state, 700);
    expect(second).toMatchObject({ from: 100, to: 700 });
    expect(second.state.offset).toBe(1000);
  });

  it("fails with RESTART_REQUIRED for a consumer that cannot restart", () => {
    const resumed = start({}, { bytes: 400 });
    expect(expectType(onResponse(resumed.state, full(1000), 0), "fail").giveUp.code).toBe(
      "RESTART_REQUIRED",
    );
    const otherVersion = start({}, { bytes: 400, etag: '"v0"' });
    expect(expectType(onResponse(otherVersion.state, full(1000), 0), "fail").giveUp.code).toBe(
      "RESTART_REQUIRED",
    );
  });

  it("restarts from zero with the new validators when allowed", () => {
    const resumed = start({ allowRestart: true }, { bytes: 400, etag: '"v0"', total: 900 });
    const body = expectType(onResponse(resumed.state, full(1000), 0), "body");
    expect(body).toMatchObject({ restart: true, discarded: 400, skip: 0 });
    expect(body.state).toMatchObject({
      offset: 0,
      total: 1000,
      validator: { etag: ETAG },
      restarts: 1,
    });
    expect(feed(body.state, 1000)).toMatchObject({ from: 0, to: 1000 });
  });

  it("bounds restarts so a server that changes on every request cannot loop forever", () => {
    let decision: Decision = start(
      { allowRestart: true, retry: { maxDisconnects: 1 } },
      { bytes: 1, etag: '"old"' },
    );
    let restarts = 0;
    for (let index = 0; index < 10 && decision.type === "request"; index++) {
      const body = onResponse(decision.state, full(10, { etag: `"v${index}"` }), 0);
      if (body.type !== "body") {
        decision = body;
        break;
      }
      if (body.restart) restarts++;
      // A short body (chunked) that ends after 1 byte... then a new request at offset 1.
      const chunk = feed(body.state, 1);
      decision = nextRequest({ ...chunk.state, phase: "waiting" }, 0);
    }
    expect(expectType(decision, "fail").giveUp.code).toBe("MAX_DISCONNECTS");
    expect(restarts).toBe(2);
  });
});

describe("206 responses", () => {
  it("skips an overlap when the server starts earlier than asked", () => {
    const resumed = start({}, { bytes: 500, etag: ETAG, total: 1000 });
    const body = expectType(onResponse(resumed.state, partial(400, 999, 1000), 0), "body");
    expect(body.skip).toBe(100);
    expect(feed(body.state, 600)).toMatchObject({ from: 100, to: 600 });
  });

  it("retries a range that starts after our offset (a gap) or ends before it", () => {
    const resumed = start({}, { bytes: 500, etag: ETAG, total: 1000 });
    expect(expectType(onResponse(resumed.state, partial(600, 999, 1000), 0), "retry").reason).toBe(
      "invalid_content_range",
    );
    expect(expectType(onResponse(resumed.state, partial(0, 499, 1000), 0), "retry").reason).toBe(
      "invalid_content_range",
    );
    const garbled = { status: 206, headers: { "content-range": "bytes nonsense" } };
    expect(expectType(onResponse(resumed.state, garbled, 0), "retry").reason).toBe(
      "invalid_content_range",
    );
  });

  it("detects another version by ETag or total and fetches it again from zero", () => {
    const resumed = start({ allowRestart: true }, { bytes: 500, etag: ETAG, total: 1000 });
    for (const response of [partial(500, 1099, 1100), partial(500, 999, 1000, { etag: '"v2"' })]) {
      const retry = expectType(onResponse(resumed.state, response, 0), "retry");
      expect(retry).toMatchObject({ reason: "resource_changed", delayMs: 0 });
      const again = expectType(nextRequest(retry.state, 0), "request");
      expect(again.request.headers["range"]).toBeUndefined();
      const body = expectType(onResponse(again.state, full(1100, { etag: '"v2"' }), 0), "body");
      expect(body).toMatchObject({ restart: true, discarded: 500 });
    }
  });

  it("compares Last-Modified when there is no strong ETag", () => {
    const resumed = start(
      { allowRestart: true },
      { bytes: 500, lastModified: "Tue, 01 Jan 2026 00:00:00 GMT" },
    );
    const newer = partial(500, 999, 1000, {
      etag: 'W/"weak"',
      "last-modified": "Wed, 02 Jan 2026 00:00:00 GMT",
    });
    expect(expectType(onResponse(resumed.state, newer, 0), "retry").reason).toBe(
      "resource_changed",
    );
    const same = partial(500, 999, 1000, {
      etag: 'W/"weak"',
      "last-modified": "Tue, 01 Jan 2026 00:00:00 GMT",
    });
    expectType(onResponse(resumed.state, same, 0), "body");
  });

  it("fails at once for a consumer that cannot restart", () => {
    const resumed = start({}, { bytes: 500, etag: ETAG, total: 1000 });
    expect(
      expectType(onResponse(resumed.state, partial(500, 999, 1000, { etag: '"v2"' }), 0), "fail")
        .giveUp.code,
    ).toBe("RESTART_REQUIRED");
  });

  it("asks for the rest when a server sends a shorter range than asked", () => {
    const resumed = start({}, { bytes: 500, etag: ETAG, total: 1000 });
    const body = expectType(onResponse(resumed.state, partial(500, 599, 1000), 0), "body");
    const chunk = feed(body.state, 100);
    const next = expectType(onEnd(chunk.state, 0), "request");
    expect(next.request.headers["range"]).toBe("bytes=600-");
    expect(next.state.failures).toBe(0);
  });

  it("adopts the validator of the first response when resuming without one", () => {
    const resumed = start({}, { bytes: 500 });
    const body = expectType(onResponse(resumed.state, partial(500, 999, 1000), 0), "body");
    expect(body.state.validator).toEqual({ etag: ETAG });
    expect(body.state.total).toBe(1000);
  });
});

describe("416", () => {
  it("completes when the server says we already hold every byte", () => {
    const resumed = start({}, { bytes: 1000, etag: ETAG });
    const done = expectType(
      onResponse(resumed.state, { status: 416, headers: { "content-range": "bytes */1000" } }, 0),
      "complete",
    );
    expect(done.state.offset).toBe(1000);
  });

  it("does not trust a 416 whose length differs from the one we know (found by fast-check)", () => {
    const resumed = start({ allowRestart: true }, { bytes: 177, total: 182 });
    const response = { status: 416, headers: { "content-range": "bytes */177" } };
    expect(expectType(onResponse(resumed.state, response, 0), "retry").reason).toBe(
      "range_not_satisfiable",
    );
  });

  it("fetches again from zero when the partial no longer fits, if the consumer can restart", () => {
    const resumed = start({ allowRestart: true }, { bytes: 1500, etag: ETAG });
    const response = { status: 416, headers: { "content-range": "bytes */1000" } };
    const retry = expectType(onResponse(resumed.state, response, 0), "retry");
    expect(retry).toMatchObject({ reason: "range_not_satisfiable", delayMs: 0 });
    expect(
      expectType(nextRequest(retry.state, 0), "request").request.headers["range"],
    ).toBeUndefined();
  });

  it("fails with RANGE_NOT_SATISFIABLE otherwise", () => {
    const resumed = start({}, { bytes: 1500, etag: ETAG });
    const response = { status: 416, headers: { "content-range": "bytes */1000" } };
    expect(expectType(onResponse(resumed.state, response, 0), "fail").giveUp).toMatchObject({
      code: "RANGE_NOT_SATISFIABLE",
      expected: 1000,
      actual: 1500,
    });
    expect(
      expectType(onResponse(start().state, { status: 416, headers: {} }, 0), "fail").giveUp.code,
    ).toBe("RANGE_NOT_SATISFIABLE");
  });
});

describe("lengths", () => {
  it("does not carry a length learnt before into a new body when nothing is held", () => {
    const first = expectType(onResponse(start().state, full(1000), 0), "body");
    const retry = expectType(
      onFailure(first.state, { kind: "network", serverClosed: true }, 0),
      "retry",
    );
    const again = expectType(nextRequest(retry.state, 0), "request");
    // The file changed to 1200 bytes and now comes chunked, without a length.
    const body = expectType(
      onResponse(again.state, { status: 200, headers: { etag: '"v2"' } }, 0),
      "body",
    );
    expect(body.state.total).toBeUndefined();
    const chunk = onData(body.state, 1200);
    expect(chunk).toMatchObject({ from: 0, to: 1200, excess: 0 });
  });

  it("completes a body without a length when it ends", () => {
    const body = expectType(onResponse(start().state, { status: 200, headers: {} }, 0), "body");
    expect(body.budgetMs).toBeUndefined();
    const chunk = feed(body.state, 123);
    expect(expectType(onEnd(chunk.state, 0), "complete").state.total).toBe(123);
  });

  it("uses the expected size to tell an early end from the real one", () => {
    const body = expectType(
      onResponse(start({ expectedSize: 200 }).state, { status: 200, headers: {} }, 0),
      "body",
    );
    const chunk = feed(body.state, 123);
    expect(expectType(onEnd(chunk.state, 0), "retry").reason).toBe("content_length_mismatch");
  });

  it("fails INTEGRITY as soon as the announced length differs from the expected size", () => {
    expect(
      expectType(onResponse(start({ expectedSize: 999 }).state, full(1000), 0), "fail").giveUp,
    ).toMatchObject({
      code: "INTEGRITY",
      expected: 999,
      actual: 1000,
    });
  });

  it("fails INTEGRITY when an unannounced body grows past the expected size", () => {
    const body = expectType(
      onResponse(start({ expectedSize: 10 }).state, { status: 200, headers: {} }, 0),
      "body",
    );
    const plan = feed(body.state, 15);
    expect(plan).toMatchObject({ from: 0, to: 10 });
    expect(plan.after && expectType(plan.after, "fail").giveUp.code).toBe("INTEGRITY");
  });

  it("cuts bytes beyond the announced end, reports them, and completes", () => {
    const resumed = start({}, { bytes: 500, etag: ETAG, total: 1000 });
    // A chunked 206 (no content-length) that runs past its range.
    const response = {
      status: 206,
      headers: { "content-range": "bytes 500-999/1000", etag: ETAG },
    };
    const body = expectType(onResponse(resumed.state, response, 0), "body");
    const plan = feed(body.state, 520);
    expect(plan).toMatchObject({ from: 0, to: 500, excess: 20 });
    expect(plan.after && expectType(plan.after, "complete").state.offset).toBe(1000);
  });

  it("checks the size at the end too", () => {
    const body = expectType(
      onResponse(start({ expectedSize: 10 }).state, { status: 200, headers: {} }, 0),
      "body",
    );
    const chunk = feed(body.state, 10);
    expectType(onEnd(chunk.state, 0), "complete");
  });
});

describe("misuse", () => {
  it("throws on events that cannot happen in the current phase", () => {
    const request = start();
    expect(() => onData(request.state, 1)).toThrow(/onData while awaiting_response/);
    expect(() => onEnd(request.state, 0)).toThrow(/onEnd/);
    const done = expectType(
      onEnd(expectType(onResponse(request.state, full(0), 0), "body").state, 0),
      "complete",
    );
    expect(() => onFailure(done.state, { kind: "idle" }, 0)).toThrow(/onFailure while done/);
  });
});
