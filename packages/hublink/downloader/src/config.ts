import { fieldPath, ValidationError, type ValidationIssue } from "@runtime/errors";

/**
 * How a download reacts to disconnects, stalls and slow links. The knobs and defaults are
 * NervesHubLink's `RetryConfig`; every duration is in milliseconds.
 */
export interface RetryConfig {
  /**
   * How many failed attempts (dropped connections, stalls, early ends, retryable HTTP statuses)
   * are retried. The failure after the last allowed retry gives up, so a download makes at most
   * `maxDisconnects + 1` attempts. Progress does not refill the budget. Default 10.
   */
  maxDisconnects: number;
  /** Longest wait for the next bytes (or for the response headers) before the attempt is
   * abandoned and retried. Only network waits count, never time the consumer takes. Default 60 000. */
  idleTimeout: number;
  /** Absolute lifetime of one download, waits included. Default 86 400 000 (24 h). */
  maxTimeout: number;
  /** Pause before each retry. Default 15 000. */
  timeBetweenRetries: number;
  /**
   * The slowest link the device is expected to have, in **bits** per second: the default 30 000 is
   * LTE Cat-M1 with some slack, as in NervesHubLink, whose formula uses bits although its docs say
   * bytes (see docs/decisions/0011). A response body that takes longer than
   * `remaining bytes × 8 / worstCaseDownloadSpeed` (at least `worstCaseMinimumTimeout`) of network
   * time gives up. Default 30 000.
   */
  worstCaseDownloadSpeed: number;
  /** Floor of the worst-case deadline, so small files are not cut off on slow links. Default 300 000. */
  worstCaseMinimumTimeout: number;
}

export const DEFAULT_RETRY_CONFIG: Readonly<RetryConfig> = Object.freeze({
  maxDisconnects: 10,
  idleTimeout: 60_000,
  maxTimeout: 86_400_000,
  timeBetweenRetries: 15_000,
  worstCaseDownloadSpeed: 30_000,
  worstCaseMinimumTimeout: 300_000,
});

interface Rule {
  minimum: number;
  integer: boolean;
  describe: string;
}

const RULES: Record<keyof RetryConfig, Rule> = {
  maxDisconnects: { minimum: 0, integer: true, describe: "an integer >= 0" },
  idleTimeout: { minimum: 1, integer: true, describe: "an integer number of milliseconds >= 1" },
  maxTimeout: { minimum: 1, integer: true, describe: "an integer number of milliseconds >= 1" },
  timeBetweenRetries: {
    minimum: 0,
    integer: true,
    describe: "an integer number of milliseconds >= 0",
  },
  worstCaseDownloadSpeed: { minimum: 1, integer: false, describe: "a number of bits/s >= 1" },
  worstCaseMinimumTimeout: {
    minimum: 0,
    integer: true,
    describe: "an integer number of milliseconds >= 0",
  },
};

const KNOWN = Object.keys(RULES) as Array<keyof RetryConfig>;

function camelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

/** Checks a retry configuration without throwing; the issues name `<path>.<field>`. */
export function retryConfigIssues(input: unknown, path = "retry"): ValidationIssue[] {
  if (input === undefined) return [];
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    return [{ path, value: input, reason: "must be an object" }];
  }
  const issues: ValidationIssue[] = [];
  for (const [name, value] of Object.entries(input)) {
    const field = fieldPath(path, name);
    if (!(KNOWN as string[]).includes(name)) {
      const suggestion = camelCase(name);
      const hint = (KNOWN as string[]).includes(suggestion) ? `; did you mean ${suggestion}?` : "";
      issues.push({ path: field, value, reason: `is not a retry setting${hint}` });
      continue;
    }
    if (value === undefined) continue;
    const rule = RULES[name as keyof RetryConfig];
    const valid =
      typeof value === "number" &&
      Number.isFinite(value) &&
      value >= rule.minimum &&
      (!rule.integer || Number.isSafeInteger(value));
    if (!valid) issues.push({ path: field, value, reason: `must be ${rule.describe}` });
  }
  return issues;
}

/**
 * Fills in the defaults and validates. Throws a `ValidationError` (code `INVALID_CONFIG`) naming
 * every bad field, e.g. `retry.idleTimeout: must be an integer number of milliseconds >= 1 (got -1)`.
 */
export function normalizeRetryConfig(input?: Partial<RetryConfig>, path = "retry"): RetryConfig {
  const issues = retryConfigIssues(input, path);
  if (issues.length > 0) throw new ValidationError(issues);
  const config = { ...DEFAULT_RETRY_CONFIG };
  for (const name of KNOWN) {
    const value = input?.[name];
    if (value !== undefined) config[name] = value;
  }
  return config;
}

/**
 * Network-time budget of one response body: `bytes × 8 / worstCaseDownloadSpeed` seconds, at least
 * `worstCaseMinimumTimeout`. `undefined` when the length is unknown (only `maxTimeout` applies).
 */
export function worstCaseBudget(
  config: RetryConfig,
  bytes: number | undefined,
): number | undefined {
  if (bytes === undefined) return undefined;
  const atWorstSpeed = Math.ceil(((bytes * 8) / config.worstCaseDownloadSpeed) * 1000);
  return Math.max(atWorstSpeed, config.worstCaseMinimumTimeout);
}
