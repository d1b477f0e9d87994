// What the server makes of a `device` channel join, as pure functions.
//
// Follows nerves-hub/nerves_hub_web lib/nerves_hub/device_link.ex (`device_join/2`,
// `sanitize_device_api_version/1`, `join/2`, `update_firmware_metadata/2`, `same_firmware?/2`,
// `fetch_validation_status/1`, `firmware_auto_revert_detected?/1`, `maybe_clear_inflight_update/2`,
// `after_join/2`, `maybe_send_public_keys/2`, `maybe_request_extensions/2`,
// `connecting_code_effects/2`), lib/nerves_hub/firmwares.ex (`metadata_from_device/2`),
// lib/nerves_hub/firmwares/update_tool/fwup.ex (`metadata_from_device/1`) and
// lib/nerves_hub/firmwares/firmware_metadata.ex (required: uuid, product, architecture, version,
// platform).

import type { JsonValue } from "../phoenix/frame.js";
import { parseVersion, versionMatches } from "../phoenix/version.js";

/** Firmware metadata as the server stores it and sends it in `update` payloads. */
export interface FirmwareMetadata {
  architecture: string;
  author: string | null;
  description: string | null;
  misc: string | null;
  platform: string;
  product: string;
  uuid: string;
  vcs_identifier: string | null;
  version: string;
  /** Only in metadata a device reports; never part of an update payload. */
  fwup_version?: string | null;
}

export type FirmwareValidationStatus = "validated" | "not_validated" | "unknown";

/** The outcome of a join, before any registry change is applied. */
export type JoinDecision =
  | {
      ok: true;
      deviceApiVersion: string;
      /** Complete metadata, metadata of a known firmware with that uuid, or `null`. */
      firmwareMetadata: FirmwareMetadata | null;
      validation: FirmwareValidationStatus;
      autoRevertDetected: boolean;
      /** `currently_downloading_uuid` was a non-empty string: keep the in-flight update. */
      keepInflightUpdate: boolean;
      currentlyDownloadingUuid: string | null;
      requestedFwupPublicKeys: boolean;
      requestedArchivePublicKeys: boolean;
      warnings: string[];
    }
  /** `{"error": "could not connect"}`: the server's metadata update failed. */
  | { ok: false; reply: "could not connect"; reason: string }
  /** The channel process crashed while joining: `{"reason": "join crashed"}`. */
  | { ok: false; reply: "join crashed"; reason: string };

function isObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Ecto's `:boolean` cast: booleans, "true"/"false"/"1"/"0", nil. `undefined` = cast error. */
function castBoolean(value: unknown): boolean | null | undefined {
  if (value === null || typeof value === "boolean") return value;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  return undefined;
}

/** Ecto's `cast/3` for a `:string` field with the default empty values (blank → nil). */
function castString(value: unknown): { ok: true; value: string | null } | { ok: false } {
  if (value === undefined || value === null) return { ok: true, value: null };
  if (typeof value !== "string") return { ok: false };
  return { ok: true, value: value.trim() === "" ? null : value };
}

const REQUIRED = ["uuid", "product", "architecture", "version", "platform"] as const;
const OPTIONAL = ["author", "description", "fwup_version", "vcs_identifier", "misc"] as const;

/** `UpdateTool.Fwup.metadata_from_device/1`: the `nerves_fw_*` keys and `fwup_version`. */
export function reportedMetadata(params: Record<string, JsonValue>): Record<string, unknown> {
  return {
    uuid: params["nerves_fw_uuid"],
    architecture: params["nerves_fw_architecture"],
    platform: params["nerves_fw_platform"],
    product: params["nerves_fw_product"],
    version: params["nerves_fw_version"],
    author: params["nerves_fw_author"],
    description: params["nerves_fw_description"],
    fwup_version: params["fwup_version"],
    vcs_identifier: params["nerves_fw_vcs_identifier"],
    misc: params["nerves_fw_misc"],
  };
}

/**
 * `Firmwares.metadata_from_device/2`: complete metadata when the changeset is valid; otherwise
 * the stored firmware with the reported uuid (looked up in the device's product), else `null`.
 */
export function metadataFromDevice(
  params: Record<string, JsonValue>,
  lookupFirmware: (uuid: unknown) => FirmwareMetadata | undefined,
): FirmwareMetadata | null {
  const reported = reportedMetadata(params);
  const cast: Record<string, string | null> = {};
  let valid = true;
  for (const field of [...REQUIRED, ...OPTIONAL]) {
    const result = castString(reported[field]);
    if (!result.ok) {
      valid = false;
      continue;
    }
    cast[field] = result.value;
  }
  if (valid && REQUIRED.every((field) => cast[field] !== null)) {
    return {
      architecture: cast["architecture"]!,
      author: cast["author"] ?? null,
      description: cast["description"] ?? null,
      misc: cast["misc"] ?? null,
      platform: cast["platform"]!,
      product: cast["product"]!,
      uuid: cast["uuid"]!,
      vcs_identifier: cast["vcs_identifier"] ?? null,
      version: cast["version"]!,
      fwup_version: cast["fwup_version"] ?? null,
    };
  }
  const uuid = reported["uuid"];
  if (uuid === undefined || uuid === null) return null;
  return lookupFirmware(uuid) ?? null;
}

/**
 * Decides a `device` join. `lookupFirmware` finds firmware the hub knows by uuid (for devices
 * that report incomplete metadata).
 */
export function decideDeviceJoin(
  params: JsonValue | Uint8Array,
  lookupFirmware: (uuid: unknown) => FirmwareMetadata | undefined,
): JoinDecision {
  if (!isObject(params)) {
    // Map.put/3 on a non-map raises inside the channel's join.
    return { ok: false, reply: "join crashed", reason: "join payload is not an object" };
  }
  const warnings: string[] = [];
  let deviceApiVersion: string;
  if (!("device_api_version" in params)) {
    warnings.push("device_api_version is missing from the connection params");
    deviceApiVersion = "1.0.0";
  } else {
    const reported = params["device_api_version"];
    // Version.parse/1 only has a clause for binaries.
    if (typeof reported !== "string") {
      return { ok: false, reply: "join crashed", reason: "device_api_version is not a string" };
    }
    if (parseVersion(reported) === undefined) {
      warnings.push(`invalid device_api_version value - ${JSON.stringify(reported)}`);
      deviceApiVersion = "1.0.0";
    } else {
      deviceApiVersion = reported;
    }
  }

  const meta = "meta" in params ? params["meta"] : {};
  if (!isObject(meta)) {
    return { ok: false, reply: "join crashed", reason: "meta is not an object" };
  }
  const validated = meta["firmware_validated"];
  let validation: FirmwareValidationStatus;
  if (validated === true) validation = "validated";
  else if (validated === false) validation = "not_validated";
  else if (validated === undefined || validated === null) validation = "unknown";
  else {
    return { ok: false, reply: "join crashed", reason: "meta.firmware_validated is not a boolean" };
  }
  // Map.get(meta, "firmware_auto_revert_detected", false), then Ecto's boolean cast.
  const autoRevert = castBoolean(
    "firmware_auto_revert_detected" in meta ? meta["firmware_auto_revert_detected"] : false,
  );
  if (autoRevert === undefined) {
    // The device changeset refuses it: the metadata update fails.
    return {
      ok: false,
      reply: "could not connect",
      reason: "meta.firmware_auto_revert_detected is not a boolean",
    };
  }

  const downloading = params["currently_downloading_uuid"];
  const keepInflightUpdate = typeof downloading === "string" && downloading.length > 0;
  return {
    ok: true,
    deviceApiVersion,
    firmwareMetadata: metadataFromDevice(params, lookupFirmware),
    validation,
    autoRevertDetected: autoRevert === true,
    keepInflightUpdate,
    currentlyDownloadingUuid: keepInflightUpdate ? (downloading as string) : null,
    requestedFwupPublicKeys: params["fwup_public_keys"] === "on_connect",
    requestedArchivePublicKeys: params["archive_public_keys"] === "on_connect",
    warnings,
  };
}

/** `same_firmware?/2`: both have the same non-null uuid. */
export function sameFirmware(
  previous: FirmwareMetadata | null,
  reported: FirmwareMetadata | null,
): boolean {
  return previous !== null && reported !== null && previous.uuid === reported.uuid;
}

/** Feature gates on `device_api_version`. */
export const deviceApi = {
  archives: (version: string) => versionMatches(version, ">= 2.0.0"),
  scripts: (version: string) => versionMatches(version, ">= 2.1.0"),
  extensions: (version: string) => versionMatches(version, ">= 2.2.0"),
};
