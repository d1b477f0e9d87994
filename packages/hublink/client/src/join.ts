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
