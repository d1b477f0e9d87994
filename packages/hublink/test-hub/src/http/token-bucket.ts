// Pacing for the firmware server's `throttle` fault: a token bucket, pure. Tokens (bytes) accrue
// at `bytesPerSecond` up to `capacity`; sending n bytes takes n tokens, waiting first for any that
// are missing. Sleeping "size / rate" after each write instead would add every write's and every
// timer's lateness to the schedule, so the real rate would drift below the one asked for.

export interface TokenBucket {
  readonly bytesPerSecond: number;
  /** Most tokens the bucket holds: the largest burst. */
  readonly capacity: number;
  readonly tokens: number;
  /** Clock time (ms) at which `tokens` was counted. */
  readonly atMs: number;
}

/** A full bucket at `nowMs`; the default capacity is 50 ms worth of bytes (at least 1). */
export function createTokenBucket(
  bytesPerSecond: number,
  nowMs: number,
  capacity = Math.max(1, Math.floor(bytesPerSecond / 20)),
): TokenBucket {
  return { bytesPerSecond, capacity, tokens: capacity, atMs: nowMs };
}

/**
 * Takes `bytes` tokens at `nowMs` (send at most `capacity` at a time: more is counted as
 * `capacity`): how long to wait before sending them, and the bucket once they are sent. A bucket counted in the future (an earlier wait not yet over)
 * makes the new wait start there.
 */
export function takeTokens(
  bucket: TokenBucket,
  bytes: number,
  nowMs: number,
): { waitMs: number; bucket: TokenBucket } {
  const wanted = Math.min(bytes, bucket.capacity);
  const from = Math.max(nowMs, bucket.atMs);
  const available = Math.min(
    bucket.capacity,
    bucket.tokens + ((from - bucket.atMs) * bucket.bytesPerSecond) / 1000,
  );
  const missing = Math.max(0, wanted - available);
  const readyAtMs = from + (missing * 1000) / bucket.bytesPerSecond;
  return {
    waitMs: readyAtMs - nowMs,
    bucket: { ...bucket, tokens: Math.max(0, available - wanted), atMs: readyAtMs },
  };
}
