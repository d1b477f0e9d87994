// Property tests of the pure policy against a model HTTP server that misbehaves in every way
// the issue lists. The driver plays the I/O edge: it answers each request according to a
// generated script, cuts bodies into generated chunk sizes, advances a fake clock, and checks
// after every step that the policy never breaks its promises.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeRetryConfig } from "../src/config.js";
import {
  createPolicy,
  type Decision,
  type GiveUpCode,
  nextRequest,
  onData,
  onEnd,
  onFailure,
  onResponse,
  type PolicyOptions,
  type RequestPlan,
} from "../src/policy.js";

type Answer =
  | {
      kind: "serve";
      /** Body bytes sent before the connection fails (undefined: all). */
      cutAfter: number | undefined;
      failure: "fin" | "rst" | "idle" | "clean-end";
      ignoreRange: boolean;
      ignoreIfRange: boolean;
      shortRange: number | undefined;
      extra: number;
      /** The resource changes just before this answer. */
      change: boolean;
    }
  | { kind: "status"; status: number; retryAfter: number | undefined }
  | { kind: "redirect" }
  | { kind: "connect-failure" }
  | { kind: "idle-before-headers" };

const answerArbitrary: fc.Arbitrary<Answer> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("serve" as const),
      cutAfter: fc.option(fc.nat(300), { nil: undefined }),
      failure: fc.constantFrom(
        "fin" as const,
        "rst" as const,
        "idle" as const,
        "clean-end" as const,
      ),
      ignoreRange: fc.boolean(),
      ignoreIfRange: fc.boolean(),
      shortRange: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
      extra: fc.oneof(fc.constant(0), fc.nat(50)),
      change: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("status" as const),
      status: fc.constantFrom(403, 404, 408, 410, 429, 500, 502, 503, 504),
      retryAfter: fc.option(fc.nat(100), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "redirect" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "connect-failure" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "idle-before-headers" as const }) },
);

interface Version {
  content: Uint8Array;
  etag: string;
}

function makeVersion(length: number, generation: number): Version {
  const content = new Uint8Array(length);
  for (let index = 0; index < length; index++)
    content[index] = (index * 31 + generation * 7) & 0xff;
  return { content, etag: `"g${generation}"` };
}

/** What the model server always does (real servers are consistent about these). */
interface ServerHabits {
  sendEtag: boolean;
  sendLength: boolean;
}

interface Outcome {
  changed: boolean;
  /** A body without any announced end closed early: no client can tell that from the end. */
  silentTruncation: boolean;
  final: Decision;
  output: number[];
  version: Version;
  requests: RequestPlan[];
  retries: number;
}

const MAX_STEPS = 20_000;

/** Plays the edge. Asserts step-level invariants; returns what happened. */
function drive(
  options: PolicyOptions,
  habits: ServerHabits,
  script: Answer[],
  chunkSizes: number[],
  initialLength: number,
  ticks: number[],
): Outcome {
  let generation = 0;
  let version = makeVersion(initialLength, generation);
  let now = 0;
  let tick = 0;
  const advance = () => {
    now += ticks[tick++ % ticks.length] ?? 1;
  };
  let state = createPolicy(options, { url: "http://model/fw", now });
  let decision: Decision = nextRequest(state, now);
  let answerIndex = 0;
  let chunkIndex = 0;
  let output: number[] = [];
  const requests: RequestPlan[] = [];
  let retries = 0;
  let silentTruncation = false;

  for (let step = 0; step < MAX_STEPS; step++) {
    state = decision.state;
    expect(state.failures).toBeLessThanOrEqual(options.retry.maxDisconnects + 1);
    expect(state.restarts).toBeLessThanOrEqual(options.retry.maxDisconnects + 1);
    expect(state.redirects).toBeLessThanOrEqual(options.maxRedirects);
    if (decision.type === "complete" || decision.type === "fail") {
      return {
        changed: generation > 0,
        silentTruncation,
        final: decision,
        output,
        version,
        requests,
        retries,
      };
    }
    if (decision.type === "retry") {
      retries++;
      // Never wait for a retry that could only start after maxTimeout.
      expect(now + decision.delayMs).toBeLessThan(state.deadline);
      now += decision.delayMs;
      decision = nextRequest(state, now);
      continue;
    }
    if (decision.type === "body") throw new Error("body decisions are handled inline");

    const request = decision.request;
    requests.push(request);
    advance();
    const answer: Answer = script[answerIndex++] ?? {
      kind: "serve",
      cutAfter: undefined,
      failure: "clean-end",
      ignoreRange: false,
      ignoreIfRange: false,
      shortRange: undefined,
      extra: 0,
      change: false,
    };
    if (answer.kind === "connect-failure") {
      decision = onFailure(state, { kind: "network", serverClosed: false }, now);
      continue;
    }
    if (answer.kind === "idle-before-headers") {
      decision = onFailure(state, { kind: "idle" }, now);
      continue;
    }
    if (answer.kind === "redirect") {
      decision = onResponse(state, { status: 302, headers: { location: `/hop${step}` } }, now);
      continue;
    }
    if (answer.kind === "status") {
      const headers: Record<string, string> = {};
      if (answer.retryAfter !== undefined) headers["retry-after"] = String(answer.retryAfter);
      decision = onResponse(state, { status: answer.status, headers }, now);
      continue;
    }
    if (answer.change) {
      generation++;
      // A new version always differs in content, ETag and length (see the module comment).
      version = makeVersion(
        Math.max(0, version.content.length + (generation % 2 ? 7 : -5)),
        generation,
      );
    }
    const length = version.content.length;
    const range = /^bytes=(\d+)-$/.exec(request.headers["range"] ?? "");
    const ifRange = request.headers["if-range"];
    const honour =
      range &&
      !answer.ignoreRange &&
      (ifRange === undefined || answer.ignoreIfRange || ifRange === version.etag);
    let first = 0;
    let end = length;
    const headers: Record<string, string> = {};
    if (habits.sendEtag) headers["etag"] = version.etag;
    let status = 200;
    if (honour) {
      first = Number(range[1]);
      if (first >= length) {
        decision = onResponse(
          state,
          { status: 416, headers: { "content-range": `bytes */${length}` } },
          now,
        );
        continue;
      }
      if (answer.shortRange !== undefined) end = Math.min(length, first + answer.shortRange);
      status = 206;
      headers["content-range"] = `bytes ${first}-${end - 1}/${length}`;
    }
    if (habits.sendLength) headers["content-length"] = String(end - first);
    const response = onResponse(state, { status, headers }, now);
    if (response.type !== "body") {
      decision = response;
      continue;
    }
    // Read the body.
    let current = response.state;
    if (response.restart) output = [];
    // Undici enforces content-length, so extra bytes only arrive on unframed bodies, and they
    // are only "extra" when the response announced where it ends (Content-Range).
    const sent = habits.sendLength || status !== 206 ? end - first : end - first + answer.extra;
    const available = Math.min(sent, answer.cutAfter ?? sent);
    let position = 0;
    let next: Decision | undefined;
    while (position < available) {
      const size = Math.min(
        available - position,
        Math.max(1, chunkSizes[chunkIndex++ % chunkSizes.length] ?? 1),
      );
      advance();
      const plan = onData(current, size);
      if (plan.to > plan.from) {
        // Contiguity: the delivered bytes start exactly where the consumer's output ends.
        const absolute = first + position + plan.from;
        expect(absolute).toBe(output.length);
        for (let index = plan.from; index < plan.to; index++) {
          output.push(version.content[first + position + index] ?? 0xee);
        }
      }
      expect(plan.state.offset).toBe(output.length);
      current = plan.state;
      position += size;
      if (plan.after) {
        next = plan.after;
        break;
      }
    }
    advance();
    if (next) {
      decision = next;
    } else if (available < sent) {
      if (answer.failure === "clean-end" && status === 200 && !habits.sendLength) {
        silentTruncation = true;
      }
      decision =
        answer.failure === "clean-end"
          ? onEnd(current, now)
          : answer.failure === "idle"
            ? onFailure(current, { kind: "idle" }, now)
            : onFailure(current, { kind: "network", serverClosed: answer.failure === "fin" }, now);
    } else {
      decision = onEnd(current, now);
    }
  }
  throw new Error(`no decision after ${MAX_STEPS} steps: the policy loops`);
}

const optionsArbitrary = fc.record({
  maxDisconnects: fc.nat(6),
  maxRedirects: fc.nat(3),
  timeBetweenRetries: fc.nat(50),
  maxTimeout: fc.integer({ min: 1, max: 5_000 }),
  allowRestart: fc.boolean(),
  expectSize: fc.boolean(),
});

type OptionsInput = typeof optionsArbitrary extends fc.Arbitrary<infer T> ? T : never;

function policyOptions(input: OptionsInput, size: number): PolicyOptions {
  return {
    retry: normalizeRetryConfig({
      maxDisconnects: input.maxDisconnects,
      timeBetweenRetries: input.timeBetweenRetries,
      maxTimeout: input.maxTimeout,
    }),
    maxRedirects: input.maxRedirects,
    allowRestart: input.allowRestart,
    ...(input.expectSize ? { expectedSize: size } : {}),
  };
}

const ALLOWED_CODES: GiveUpCode[] = [
  "HTTP_STATUS",
  "CONTENT_LENGTH_MISMATCH",
  "IDLE_TIMEOUT",
  "MAX_DISCONNECTS",
  "MAX_TIMEOUT",
  "INTEGRITY",
  "RANGE_NOT_SATISFIABLE",
  "TOO_MANY_REDIRECTS",
  "RESTART_REQUIRED",
  "INVALID_RESPONSE",
];

describe("policy properties", () => {
  it("always ends, within its budgets, with contiguous output and the right bytes", () => {
    fc.assert(
      fc.property(
        optionsArbitrary,
        fc.record({ sendEtag: fc.boolean(), sendLength: fc.boolean() }),
        fc.array(answerArbitrary, { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 600 }),
        fc.array(fc.nat(20), { minLength: 1, maxLength: 5 }),
        (input, habits, script, chunkSizes, length, ticks) => {
          const options = policyOptions(input, length);
          const outcome = drive(options, habits, script, chunkSizes, length, ticks);
          const { final } = outcome;
          // Retries never exceed the budget: at most maxDisconnects of them.
          expect(outcome.retries).toBeLessThanOrEqual(options.retry.maxDisconnects);
          // A server with neither ETags nor lengths gives no way to notice that the resource
          // changed between two ranges (only sha256 can); everywhere else completion means
          // the consumer holds exactly the current version.
          const detectable =
            (habits.sendEtag || habits.sendLength || !outcome.changed) &&
            (!outcome.silentTruncation || (input.expectSize && !outcome.changed));
          if (final.type === "complete" && detectable) {
            expect(Buffer.from(outcome.output).equals(Buffer.from(outcome.version.content))).toBe(
              true,
            );
            expect(final.state.offset).toBe(outcome.version.content.length);
          } else if (final.type === "complete") {
            expect(final.state.offset).toBe(outcome.output.length);
          } else if (final.type === "fail") {
            expect(ALLOWED_CODES).toContain(final.giveUp.code);
            expect(final.giveUp.detail.length).toBeGreaterThan(0);
          } else {
            throw new Error(`ended with ${final.type}`);
          }
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 3_000) },
    );
  }, 300_000);

  it("never retries 4xx other than 408 and 429", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 400, max: 499 }).filter((status) => ![408, 416, 429].includes(status)),
        (status) => {
          const options = policyOptions(
            {
              maxDisconnects: 5,
              maxRedirects: 1,
              timeBetweenRetries: 1,
              maxTimeout: 1000,
              allowRestart: true,
              expectSize: false,
            },
            10,
          );
          const habits = { sendEtag: true, sendLength: true };
          const outcome = drive(
            options,
            habits,
            [{ kind: "status", status, retryAfter: undefined }],
            [5],
            10,
            [1],
          );
          expect(outcome.final.type).toBe("fail");
          expect(outcome.requests).toHaveLength(1);
        },
      ),
    );
  });

  it("resumes after every drop at exactly the byte where the data stopped", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000 }),
        fc.uniqueArray(fc.nat(1_999), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 301 }), { minLength: 1, maxLength: 4 }),
        (length, drops, chunkSizes) => {
          const cuts = drops.filter((drop) => drop < length).sort((a, b) => a - b);
          // Each answer serves from the requested offset and fails after (cut - offset) bytes.
          const script: Answer[] = [];
          let offset = 0;
          for (const cut of cuts) {
            script.push({
              kind: "serve",
              cutAfter: cut - offset,
              failure: "fin",
              ignoreRange: false,
              ignoreIfRange: false,
              shortRange: undefined,
              extra: 0,
              change: false,
            });
            offset = cut;
          }
          const options = policyOptions(
            {
              maxDisconnects: 10,
              maxRedirects: 0,
              timeBetweenRetries: 0,
              maxTimeout: 10 ** 6,
              allowRestart: false,
              expectSize: false,
            },
            length,
          );
          const outcome = drive(
            options,
            { sendEtag: true, sendLength: true },
            script,
            chunkSizes,
            length,
            [1],
          );
          expect(outcome.final.type).toBe("complete");
          expect(outcome.requests.map((request) => request.from)).toEqual([0, ...cuts]);
        },
      ),
    );
  });
});
