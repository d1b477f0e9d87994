// The throttle's pacing: a token bucket never lets the body run ahead of the rate by more than
// its capacity, and a sender that goes as soon as it may gets exactly the rate (no drift).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createTokenBucket, takeTokens } from "../src/http/token-bucket.js";

describe("token bucket", () => {
  it("starts full, then makes the sender wait for the missing tokens", () => {
    const full = createTokenBucket(1000, 0);
    expect(full).toEqual({ bytesPerSecond: 1000, capacity: 50, tokens: 50, atMs: 0 });
    const first = takeTokens(full, 50, 0);
    expect(first.waitMs).toBe(0);
    const second = takeTokens(first.bucket, 50, 0);
    expect(second.waitMs).toBe(50);
    expect(second.bucket).toMatchObject({ tokens: 0, atMs: 50 });
    // 20 ms later 20 tokens are there; 30 more take 30 ms.
    expect(takeTokens(second.bucket, 50, 70).waitMs).toBe(30);
  });

  it("counts asks above the capacity as the capacity, and has room for at least one byte", () => {
    expect(createTokenBucket(10, 0).capacity).toBe(1);
    const bucket = createTokenBucket(1000, 0);
    const taken = takeTokens(bucket, 10_000, 0);
    expect(taken).toEqual({ waitMs: 0, bucket: { ...bucket, tokens: 0 } });
  });

  it("does not hold more than its capacity after a long pause", () => {
    const empty = takeTokens(createTokenBucket(1000, 0), 50, 0).bucket;
    const later = takeTokens(empty, 50, 60_000);
    expect(later.waitMs).toBe(0);
    expect(takeTokens(later.bucket, 50, 60_000).waitMs).toBe(50);
  });

  it("starts a wait where an earlier one ends, when asked before it is over", () => {
    const bucket = createTokenBucket(1000, 0);
    const first = takeTokens(takeTokens(bucket, 50, 0).bucket, 50, 0);
    expect(first.waitMs).toBe(50);
    // Asked again at 10 ms, before the first wait is over: the next 50 are ready at 100 ms.
    expect(takeTokens(first.bucket, 50, 10).waitMs).toBe(90);
  });

  const sends = fc.record({
    bytesPerSecond: fc.integer({ min: 20, max: 10_000_000 }),
    pieces: fc.array(
      fc.record({ fraction: fc.double({ min: 0, max: 1, noNaN: true }), lateMs: fc.nat(200) }),
      { minLength: 1, maxLength: 60 },
    ),
  });

  /**
   * A sender that sends each piece (a fraction of the capacity) when the bucket allows, then
   * oversleeps `lateMs` (or not, with `late` false). Returns when each piece went and the total so far.
   */
  function simulate(
    bytesPerSecond: number,
    pieces: Array<{ fraction: number; lateMs: number }>,
    late: boolean,
  ) {
    let bucket = createTokenBucket(bytesPerSecond, 0);
    let now = 0;
    let sent = 0;
    const sends: Array<{ atMs: number; sent: number; waitMs: number; capacity: number }> = [];
    for (const piece of pieces) {
      const bytes = Math.max(1, Math.round(piece.fraction * bucket.capacity));
      const taken = takeTokens(bucket, bytes, now);
      bucket = taken.bucket;
      const atMs = now + taken.waitMs;
      sent += bytes;
      sends.push({ atMs, sent, waitMs: taken.waitMs, capacity: bucket.capacity });
      now = atMs + (late ? piece.lateMs : 0);
    }
    return sends;
  }

  it("property: the bytes sent by any moment never exceed capacity + rate × elapsed", () => {
    fc.assert(
      fc.property(sends, ({ bytesPerSecond, pieces }) => {
        for (const send of simulate(bytesPerSecond, pieces, true)) {
          expect(send.waitMs).toBeGreaterThanOrEqual(0);
          const allowed = send.capacity + (bytesPerSecond * send.atMs) / 1000;
          expect(send.sent).toBeLessThanOrEqual(allowed * (1 + 1e-9) + 1e-6);
        }
      }),
    );
  });

  it("property: a sender that goes as soon as it may gets exactly the rate", () => {
    fc.assert(
      fc.property(sends, ({ bytesPerSecond, pieces }) => {
        for (const send of simulate(bytesPerSecond, pieces, false)) {
          const expected = (Math.max(0, send.sent - send.capacity) * 1000) / bytesPerSecond;
          expect(send.atMs).toBeCloseTo(expected, 6);
        }
      }),
    );
  });
});
