// The `device` channel join payload (reference §3.1), pure. Rebuilt for every join (quirk 7), so a
// rejoin after a channel error carries the current `currently_downloading_uuid` and flags.

/** `device_api_version` we speak: 2.3.0 adds the validation / auto-revert `meta`. */
export const DEVICE_API_VERSION = "2.3.0";

export interface JoinInputs {
  /** Every `<active slot>.*` firmware variable without the prefix (`kv.getAllActive()`). */
  activeFirmware: Readonly<Record<string, string>>;
  /** `fwup --version`, when fwup is installed. */
  fwupVersion: string | undefined;
  /** UUID of the update being downloaded or applied, else null. */
  currentlyDownloadingUuid: string | null;
  firmwareValidated: boolean;
  autoRevertDetected: boolean;
  /** Ask the server to push the organisation's fwup signing keys after the join. */
  requestFwupPublicKeys: boolean;
  /** Ask for archive signing keys. */
  requestArchivePublicKeys: boolean;
  /** Extra parameters from the configuration (e.g. `update_tool`); ours win on a clash. */
  params: Readonly<Record<string, string>>;
}

export type JoinPayload = Record<string, string | null | Record<string, boolean>>;

export function buildJoinPayload(inputs: JoinInputs): JoinPayload {
  const payload: JoinPayload = {};
  for (const [key, value] of Object.entries(inputs.params)) payload[key] = value;
  for (const [key, value] of Object.entries(inputs.activeFirmware)) payload[key] = value;
  if (inputs.fwupVersion !== undefined) payload.fwup_version = inputs.fwupVersion;
  payload.device_api_version = DEVICE_API_VERSION;
  if (inputs.requestFwupPublicKeys) payload.fwup_public_keys = "on_connect";
  if (inputs.requestArchivePublicKeys) payload.archive_public_keys = "on_connect";
  payload.currently_downloading_uuid = inputs.currentlyDownloadingUuid;
  payload.meta = {
    firmware_validated: inputs.firmwareValidated,
    firmware_auto_revert_detected: inputs.autoRevertDetected,
  };
  return payload;
}

/** An entry of `["interface", ifname, "addresses"]` (CONVENTIONS shared contract). */
export interface InterfaceAddress {
  family: "inet" | "inet6";
  address: string;
  prefix_length?: number;
  netmask?: string;
  scope?: string;
}

/** Canonical text of an address for comparison (IPv4-mapped IPv6 → IPv4, lower case, no zone). */
export function canonicalAddress(address: string): string {
  let text = address.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  if (text.startsWith("::ffff:") && text.includes(".")) text = text.slice(7);
  return text;
}

/**
 * The interface whose published addresses include `localAddress` (the websocket's local end), or
 * undefined. `interfaces` maps ifname → the value at `["interface", ifname, "addresses"]`.
 */
export function interfaceForAddress(
  interfaces: Iterable<[string, unknown]>,
  localAddress: string | undefined,
): string | undefined {
  if (!localAddress) return undefined;
  const wanted = canonicalAddress(localAddress);
  for (const [ifname, addresses] of interfaces) {
    if (!Array.isArray(addresses)) continue;
    for (const entry of addresses) {
      if (
        typeof entry === "object" &&
        entry !== null &&
        typeof (entry as InterfaceAddress).address === "string" &&
        canonicalAddress((entry as InterfaceAddress).address) === wanted
      ) {
        return ifname;
      }
    }
  }
  return undefined;
}
