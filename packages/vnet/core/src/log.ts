import { redactSecrets } from "@runtime/errors";

/** Where the engine writes its log lines. `console` works; so does pino or a ring buffer. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Field names redacted on top of `@runtime/errors`' list (VintageNet's extra secret keys). */
export const EXTRA_SECRET_KEYS = ["preshared_key", "private_key_passwd", "private_key2_passwd"];

/** A deep copy with every secret field replaced by `****`. Used for every log line and view. */
export function redactConfig<T>(value: T): T {
  return redactSecrets(value, { extraKeys: EXTRA_SECRET_KEYS });
}

/** A config as one log-safe line of JSON (secrets redacted). */
export function describeConfig(value: unknown): string {
  try {
    return JSON.stringify(redactConfig(value));
  } catch {
    return "[unprintable]";
  }
}

/** The default logger: warnings and errors to the console, prefixed; debug and info dropped. */
export const consoleLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (message) => console.warn(`[vnet] ${message}`),
  error: (message) => console.error(`[vnet] ${message}`),
};

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

export { errorMessage } from "@runtime/errors";
