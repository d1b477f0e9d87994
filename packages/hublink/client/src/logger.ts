/** Where the client logs. Every line is already free of secrets. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** `console` with a `[hublink]` prefix; debug lines are dropped. */
export const consoleLogger: Logger = {
  debug() {},
  info: (message) => console.info(`[hublink] ${message}`),
  warn: (message) => console.warn(`[hublink] ${message}`),
  error: (message) => console.error(`[hublink] ${message}`),
};

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
