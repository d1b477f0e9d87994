export type {
  CertificateFailureReason,
  CertificateVerdict,
} from "./auth/certificates.js";
export { NO_AUTH_MESSAGE, PLATFORM_UNAVAILABLE_MESSAGE, SOCKET_PATHS } from "./auth/connect.js";
export type {
  SharedSecretAlgorithm,
  SharedSecretAuthRecord,
  SharedSecretFailureReason,
  SharedSecretVerdict,
  VerifySharedSecretOptions,
} from "./auth/shared-secret.js";
export { verifySharedSecret } from "./auth/shared-secret.js";
export type { FirmwareMetadata, FirmwareValidationStatus } from "./device/join.js";
export type {
  FaultOptions,
  FirmwareRequest,
  FirmwareServerEvents,
  FirmwareServerOptions,
  HttpFault,
  ServedFile,
} from "./http/firmware-server.js";
export { FirmwareServer } from "./http/firmware-server.js";
export type { RangeDecision } from "./http/range.js";
export { decideRange } from "./http/range.js";
export { TestHub } from "./hub/test-hub.js";
export type {
  ArchivePayload,
  ChannelSnapshot,
  ConnectionSnapshot,
  Deployment,
  DeviceOptions,
  DeviceSnapshot,
  DisconnectOptions,
  ExtensionName,
  ExtensionStatus,
  HubFirmware,
  InflightUpdate,
  MessageFilter,
  ProductOptions,
  RecordedMessage,
  Rejection,
  RestartOptions,
  SharedSecretCredentials,
  SignerOptions,
  TestHubEvents,
  TestHubOptions,
  TestHubTlsOptions,
  UpdateStatusRecord,
  WaitOptions,
} from "./hub/types.js";
export type { FrameDecodeResult, JsonValue, PhoenixFrame } from "./phoenix/frame.js";
export {
  decodeBinaryFrame,
  decodeTextFrame,
  encodeReply,
  encodeTextFrame,
} from "./phoenix/frame.js";
export type { CreateTestPkiOptions, PemPair, TestPki } from "./pki.js";
export { createTestPki } from "./pki.js";
export type { FirmwareChecksums, UpdatePayload } from "./update-payload.js";
export {
  buildUpdatePayload,
  firmwareChecksums,
  firmwareMetadata,
  noUpdatePayload,
  PARTIAL_CHECKSUM_SIZE,
} from "./update-payload.js";
