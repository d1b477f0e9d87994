export type { EnvChanges, KvBackend } from "./backend.js";
export { applyChanges, memory } from "./backend.js";
export type { EnvCopy, EnvImage, EnvLayout, EnvRecords, EnvWritePlan } from "./env-codec.js";
export {
  decodeEnvBlock,
  headerSize,
  isNewerFlag,
  parseEnvData,
  planEnvWrite,
  readEnvBlocks,
  recordsToEntries,
  serializeEnvBlock,
  serializeEnvData,
} from "./env-codec.js";
export type { EnvCopyProblem, FwupErrorCode } from "./errors.js";
export { EnvTooLargeError, FwupError, UBootEnvError } from "./errors.js";
export type { FirmwareOptions, FwupOpsOptions } from "./firmware.js";
export {
  DEFAULT_FWUP_DEVPATH,
  DEFAULT_OPS_FW_PATH,
  Firmware,
  LEGACY_OPS_FW_PATH,
} from "./firmware.js";
export type { FirmwareMetadata, FirmwareSlots, ValidationStatus } from "./firmware-rules.js";
export {
  activeSlot,
  autoRevertDetected,
  firmwareMetadata,
  isFirmwareValid,
  KEYS,
  otherSlot,
  revertChanges,
  slotEntries,
  slotsFromEntries,
  slotsFromFwupStatus,
  validationChanges,
  validationStatus,
} from "./firmware-rules.js";
export type { EnvLocation, FwEnvConfig } from "./fw-env-config.js";
export { formatFwEnvConfig, parseFwEnvConfig } from "./fw-env-config.js";
export type { FwupOutcome, FwupSession, StartFwupOptions } from "./fwup.js";
export { fwupOutcomeError, startFwup } from "./fwup.js";
export type { FwupFrame, FwupFrameDecoderOptions, FwupFrameType } from "./fwup-framing.js";
export {
  createProgressFilter,
  DEFAULT_MAX_FRAME_LENGTH,
  decodeFwupFrames,
  encodeFwupFrame,
  encodeFwupInput,
  FWUP_EXIT_HANDSHAKE_BYTE,
  FWUP_INPUT_END,
  FwupFrameDecoder,
  FwupFramingError,
  fwupProgress,
} from "./fwup-framing.js";
export type { KvOpenOptions } from "./kv.js";
export { KV } from "./kv.js";
export type { PowerAction, PowerOptions, PowerStrategy, ShutdownHook } from "./power.js";
export {
  busyboxPower,
  DEFAULT_REBOOT_PARAM_PATH,
  functionPower,
  INIT_SIGNALS,
  Power,
  PowerError,
  signalInitPower,
  systemdPower,
} from "./power.js";
export type { SerialNumberOptions, SerialNumberResult } from "./serial-number.js";
export {
  readSerialNumber,
  readSerialNumberWithSource,
  UNCONFIGURED_SERIAL_NUMBER,
} from "./serial-number.js";
export type { UBootEnvOptions, UBootEnvRead } from "./uboot-env.js";
export { DEFAULT_FW_ENV_CONFIG, UBootEnvBackend, ubootEnv } from "./uboot-env.js";
export type { EnvEntries } from "./validation.js";
export { isSecretKey, validateEntries } from "./validation.js";
