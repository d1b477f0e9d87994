// Reconnect back-off (reference §2.5), pure given a random source. NervesHubLink's
// `Backoff.delay_list(1000, 60000, 0.5)`: 1 s doubling while below the maximum, then the maximum,
// each scaled by (1 + jitter × U), U uniform in [0, 1); the last entry repeats forever. The jitter
// is what spreads a fleet reconnecting after a server restart.
import { randomInt } from "node:crypto";

export interface BackoffOptions {
  /** First delay, ms. Default 1000. */
  minMs?: number;
  /** Largest base delay, ms. Default 60,000. */
  maxMs?: number;
  /** Up to this fraction is added to each delay. Default 0.5. */
  jitter?: number;
}

/** Uniform in [0, 1). */
export type RandomSource = () => number;

/** A CSPRNG-backed source, like Link seeding its PRNG from crypto bytes (no identical fleets). */
export const cryptoRandom: RandomSource = () => randomInt(0, 2 ** 32) / 2 ** 32;

export function delayList(
  options: BackoffOptions = {},
  random: RandomSource = cryptoRandom,
): number[] {
  const minMs = options.minMs ?? 1000;
  const maxMs = options.maxMs ?? 60_000;
  const jitter = options.jitter ?? 0.5;
  if (!(minMs > 0) || !(maxMs >= minMs) || !(jitter >= 0)) {
    throw new RangeError(`invalid back-off: min ${minMs}, max ${maxMs}, jitter ${jitter}`);
  }
  const delays: number[] = [];
  for (let base = minMs; base < maxMs; base *= 2) {
    delays.push(Math.round(base * (1 + jitter * random())));
  }
  delays.push(Math.round(maxMs * (1 + jitter * random())));
  return delays;
}

/** The delay before attempt `tries` (1-based, as phoenix's Timer counts); the last repeats. */
export function delayFor(delays: readonly number[], tries: number): number {
  if (delays.length === 0) throw new RangeError("empty delay list");
  const index = Math.min(Math.max(tries, 1), delays.length) - 1;
  return delays[index]!;
}

/**
 * Checks a list returned by a client's `reconnectBackoff` callback: a non-empty array of
 * non-negative finite numbers, else undefined (the default list is used, like Link).
 */
export function acceptDelayList(value: unknown): number[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (!value.every((item) => typeof item === "number" && Number.isFinite(item) && item >= 0)) {
    return undefined;
  }
  return value.map((item: number) => Math.round(item));
}
