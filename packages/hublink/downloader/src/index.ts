export type { RetryConfig } from "./config.js";
export { DEFAULT_RETRY_CONFIG, normalizeRetryConfig } from "./config.js";
export type { DispatcherOptions, LocalConnection, ProxyOptions, TlsOptions } from "./dispatcher.js";
export { createDispatcher, localConnectionOf } from "./dispatcher.js";
export type {
  CompleteEvent,
  DownloadEvents,
  ProgressEvent,
  ResponseEvent,
  RestartEvent,
  ResumeState,
  RetryEvent,
  WarningEvent,
} from "./download.js";
export { Download, download } from "./download.js";
export type { DownloadErrorContext } from "./errors.js";
export {
  ContentLengthMismatchError,
  DeadlineExceededError,
  DownloadAbortedError,
  DownloadError,
  HttpStatusError,
  IdleTimeoutError,
  IntegrityError,
  InvalidResponseError,
  MaxDisconnectsError,
  MaxTimeoutError,
  RangeNotSatisfiableError,
  RestartRequiredError,
  TooManyRedirectsError,
} from "./errors.js";
export type { InterfaceAddressSource } from "./interface.js";
export { interfaceForAddress } from "./interface.js";
export type { DownloadOptions } from "./options.js";
export type { GiveUpCode, ResumePoint, RetryReason } from "./policy.js";
export type { FileResult, ToFileOptions } from "./to-file.js";
