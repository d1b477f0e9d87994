export { derivePsk } from "./config/psk.js";
export { decodeConfigString, decodePrintfEscapes, encodeConfigString } from "./config/strings.js";
export type {
  ConfigText,
  EapMethod,
  GroupCipher,
  Ieee80211w,
  KeyMgmt,
  NetworkConfig,
  NetworkMode,
  PairwiseCipher,
  Proto,
  WpaSupplicantConfig,
} from "./config/types.js";
export { renderWpaSupplicantConfig } from "./config/writer.js";
export type {
  TransportChoice,
  WpaControlEvents,
  WpaControlOptions,
  WpaControlState,
} from "./control/client.js";
export { WpaControl } from "./control/client.js";
export type { WpaControlErrorCode } from "./control/errors.js";
export { WpaControlError } from "./control/errors.js";
export type { WpaEvent, WpaEventBase, WpaEventKind } from "./control/events.js";
export { decodeEvent } from "./control/events.js";
export type { ListedNetwork, ScanResult, WpaStatus } from "./control/protocol.js";
export {
  parseKeyValueLines,
  parseListNetworks,
  parseScanResults,
  parseStatus,
  redactCommand,
} from "./control/protocol.js";
export type {
  ControlTransport,
  TransportContext,
  TransportFactory,
  TransportHandlers,
} from "./control/transport.js";
export type { MonitorSignal } from "./control/wpa-cli-transport.js";
export { WpaCliMonitorParser } from "./control/wpa-cli-transport.js";
