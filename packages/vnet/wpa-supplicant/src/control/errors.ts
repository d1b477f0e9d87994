import { DeviceError } from "@runtime/errors";

/**
 * - `TIMEOUT`: no response within the request's time limit (the daemon may be stopped or busy).
 * - `DISCONNECTED`: the daemon is not reachable (socket gone, refused, terminating); the client
 *   reconnects by itself and emits `reconnected`.
 * - `UNREACHABLE`: `connect()` gave up waiting for the control socket.
 * - `CLOSED`: the client was closed.
 * - `COMMAND_FAILED`: the daemon answered `FAIL`, `FAIL-…` or `UNKNOWN COMMAND`.
 * - `BAD_RESPONSE`: an answer a typed helper could not parse.
 * - `BUSY`: the daemon's socket queue is full (it is not reading).
 * - `QUEUE_FULL`: too many requests waiting.
 * - `INSECURE_TRANSPORT`: the wpa_cli transport refuses a command carrying a secret (it would be
 *   visible in the process list).
 * - `TRANSPORT`: the transport itself failed (e.g. wpa_cli missing).
 */
export type WpaControlErrorCode =
  | "TIMEOUT"
  | "DISCONNECTED"
  | "UNREACHABLE"
  | "CLOSED"
  | "COMMAND_FAILED"
  | "BAD_RESPONSE"
  | "BUSY"
  | "QUEUE_FULL"
  | "INSECURE_TRANSPORT"
  | "TRANSPORT";

/** An error of the control-socket client. `command` has secrets replaced by `****`. */
export class WpaControlError extends DeviceError {
  override name = "WpaControlError";
  declare readonly code: WpaControlErrorCode;
  constructor(
    code: WpaControlErrorCode,
    message: string,
    readonly details: { command?: string; response?: string; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  get command(): string | undefined {
    return this.details.command;
  }

  get response(): string | undefined {
    return this.details.response;
  }
}
