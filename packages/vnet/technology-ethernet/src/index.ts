export type { DirectLink } from "./direct.js";
export { derivedDirectSubnet, directLink } from "./direct.js";
export type { EapStatus } from "./eap-status.js";
export {
  eapStatusFromWpaStatus,
  initialEapStatus,
  nextEapStatus,
} from "./eap-status.js";
export {
  IEEE8021X_SERVICE,
  normalizeIeee8021x,
  wpaSupplicantConf,
} from "./ieee8021x.js";
export type { EapControl, Ieee8021xServiceOptions } from "./ieee8021x-service.js";
export { createIeee8021xService } from "./ieee8021x-service.js";
export { normalizeEthernet } from "./normalize.js";
export { ethernetRawConfig } from "./recipe.js";
export { ethernetTechnology } from "./technology.js";
export type {
  DirectConfig,
  EthernetConfig,
  Ieee8021xConfig,
  Ieee8021xPeapConfig,
  Ieee8021xTlsConfig,
  Ieee8021xTtlsConfig,
  NormalizedDirectConfig,
  NormalizedEthernetConfig,
  NormalizedIeee8021xConfig,
  PeapPhase2,
  TtlsPhase2,
} from "./types.js";
