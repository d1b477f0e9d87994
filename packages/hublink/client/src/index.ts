export type {
  BundleFileEntry,
  BundleFirmware,
  BundleInputFile,
  BundleManifest,
  VerifiedBundle,
} from "./app-slot/bundle.js";
export {
  BUNDLE_FORMAT_VERSION,
  BUNDLE_MAGIC,
  BundleError,
  BundleVerifier,
  createBundle,
  isSafeBundlePath,
  publicKeyFrom,
  rawPublicKey,
  verifyBundle,
} from "./app-slot/bundle.js";
export type { FileKvBackendOptions } from "./app-slot/kv-file-backend.js";
export { fileKvBackend } from "./app-slot/kv-file-backend.js";
export type { AppSlotsOptions, BootCheck } from "./app-slot/slots.js";
export { AppSlots } from "./app-slot/slots.js";
export type { SigningClock } from "./auth/clock.js";
export { clockHint, offsetFromDateHeader, signingTime } from "./auth/clock.js";
export type { Nh1Digest, Nh1Headers, Nh1Options, Nh1SignInput } from "./auth/nh1.js";
export { nh1Algorithm, signNh1 } from "./auth/nh1.js";
export type { BackoffOptions, RandomSource } from "./backoff.js";
export { delayList } from "./backoff.js";
export type {
  CertificateSettings,
  DownloaderSettings,
  FwupSettings,
  HubLinkConfig,
  HubLinkConfigInput,
  SharedSecretSettings,
  TlsSettings,
} from "./config.js";
export { normalizeConfig } from "./config.js";
export { DEVICE_PUSHES, DEVICE_PUSHES_NOT_SENT, SERVER_DEVICE_EVENTS } from "./events.js";
export type {
  ClientCallbacks,
  HubLinkEvents,
  HubLinkOptions,
  HubLinkStatus,
} from "./hublink.js";
export { HubLink, HubLinkError } from "./hublink.js";
export type { JoinInputs, JoinPayload } from "./join.js";
export { buildJoinPayload, DEVICE_API_VERSION } from "./join.js";
export type { Logger } from "./logger.js";
export { consoleLogger, silentLogger } from "./logger.js";
export type { ParseResult, UpdateFirmwareMeta, UpdateInfo } from "./update-info.js";
export { parseUpdateInfo } from "./update-info.js";
export type {
  RescheduleUnit,
  StatusPayload,
  UpdateDecision,
  UpdaterOutcome,
  UpdateState,
} from "./update-machine.js";
export { INITIAL_UPDATE_STATE, updateTransition } from "./update-machine.js";
export type { AppSlotUpdaterOptions } from "./updaters/app-slot.js";
export { appSlotUpdater } from "./updaters/app-slot.js";
export type { CachingUpdaterOptions } from "./updaters/caching.js";
export { cachingUpdater } from "./updaters/caching.js";
export type { DownloadFunction } from "./updaters/download.js";
export { fwupUpdateArgs } from "./updaters/fwup.js";
export type { StreamingUpdaterOptions } from "./updaters/streaming.js";
export { streamingUpdater } from "./updaters/streaming.js";
export type { FwupMessage, Updater, UpdaterContext } from "./updaters/types.js";
