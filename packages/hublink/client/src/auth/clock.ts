// Clock awareness for shared-secret signing (reference §1.7, quirks 2 and 3). Pure.
//
// The server accepts a token signed in [server now − 90 s, server now] and refuses any time in its
// future. A device whose clock is ahead is therefore refused forever, one whose clock is behind by
// more than 90 s too. After a refused upgrade the server's `date` header tells us its time (to the
// second); we keep the offset and sign with the server's time from then on.

/** 2024-01-01T00:00:00Z: a device clock before this is certainly unset (no RTC, no NTP yet). */
export const OBVIOUSLY_WRONG_BEFORE_MS = Date.UTC(2024, 0, 1);

/** Offsets smaller than this are `date` rounding noise and not applied. */
export const MIN_APPLIED_OFFSET_MS = 2_000;

export interface SigningClock {
  /** Server time minus device time, ms, learned from a `date` header; 0 until known. */
  offsetMs: number;
}

/**
 * The signing time in whole seconds: the device clock corrected by the learned offset, minus a
 * safety margin (default 1 s) so that a clock a fraction of a second ahead is not refused. The
 * margin costs one of the token's 90 seconds.
 */
export function signingTime(nowMs: number, clock: SigningClock, marginSeconds = 1): number {
  const corrected =
    nowMs + (Math.abs(clock.offsetMs) >= MIN_APPLIED_OFFSET_MS ? clock.offsetMs : 0);
  return Math.max(0, Math.floor(corrected / 1000) - marginSeconds);
}

/** Parses an HTTP `date` header (RFC 9110 IMF-fixdate; obsolete forms as `Date.parse` reads them). */
export function parseHttpDate(value: unknown): number | undefined {
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/**
 * The offset to use after an upgrade refused at `receivedAtMs` (device clock) with this `date`
 * header. The header is truncated to the second, so half a second is added to centre the estimate.
 */
export function offsetFromDateHeader(
  dateHeader: unknown,
  receivedAtMs: number,
): number | undefined {
  const serverMs = parseHttpDate(dateHeader);
  if (serverMs === undefined) return undefined;
  return serverMs + 500 - receivedAtMs;
}

/** A hint for the log when the device clock is obviously wrong, else undefined. */
export function clockHint(nowMs: number, offsetMs?: number): string | undefined {
  if (nowMs < OBVIOUSLY_WRONG_BEFORE_MS) {
    return `the device clock reads ${new Date(nowMs).toISOString()}, which is before 2024: shared-secret signatures will be refused until the clock is set (NTP, RTC) or the server's date is learned from a refused connection`;
  }
  if (offsetMs !== undefined && Math.abs(offsetMs) > 60_000) {
    const direction = offsetMs > 0 ? "behind" : "ahead of";
    return `the device clock is ${Math.round(Math.abs(offsetMs) / 1000)} s ${direction} the server's: signing with the server's time from now on; check NTP`;
  }
  return undefined;
}
