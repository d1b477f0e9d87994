// The `update` message payload, built the way the server builds it.
//
// Follows nerves-hub/nerves_hub_web lib/nerves_hub/devices/update_payload.ex (the seven
// JSON-encoded fields, in that order), lib/nerves_hub/firmwares.ex (`firmware_checksum/1`:
// SHA-256 of the whole file, `Base.encode16/1` = upper-case hex; `partials_checksums/1`: one
// SHA-256 per 1 MiB slice, `@firmware_partial_chunk_size 1024 * 1024`;
// `metadata_from_firmware/1`: the nine metadata fields, no `fwup_version`) and
// lib/nerves_hub/events/device_events.ex (`manual_update/4`: `deployment_id` stays null for a
// push from the UI) and lib/nerves_hub/devices/updates.ex (`resolve_update/3` for deployments).

import { createHash } from "node:crypto";
import type { FirmwareMetadata } from "./device/join.js";

/** Bytes per entry of `partials_checksums`. */
export const PARTIAL_CHECKSUM_SIZE = 1024 * 1024;

/** The payload of an `update` message on the `device` topic. */
export interface UpdatePayload {
  update_available: boolean;
  firmware_url: string | null;
  firmware_meta: FirmwareMetadata | null;
  size: number | null;
  checksum: string | null;
  partials_checksums: string[] | null;
  deployment_id: number | null;
}

export interface FirmwareChecksums {
  size: number;
  /** SHA-256 of the whole file, upper-case hex. */
  checksum: string;
  /** SHA-256 of each 1 MiB slice, upper-case hex, in order (the last slice may be shorter). */
  partialsChecksums: string[];
}

function upperHexSha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex").toUpperCase();
}

/** Size, checksum and partial checksums of firmware bytes. */
export function firmwareChecksums(data: Uint8Array): FirmwareChecksums {
  const partialsChecksums: string[] = [];
  for (let offset = 0; offset < data.length; offset += PARTIAL_CHECKSUM_SIZE) {
    partialsChecksums.push(upperHexSha256(data.subarray(offset, offset + PARTIAL_CHECKSUM_SIZE)));
  }
  return { size: data.length, checksum: upperHexSha256(data), partialsChecksums };
}

/**
 * Metadata of the target firmware as `metadata_from_firmware/1` renders it: exactly the nine
 * fields, keys in the order Jason writes a map (sorted), optional fields `null` when absent.
 */
export function firmwareMetadata(
  meta: Pick<FirmwareMetadata, "uuid" | "product" | "version" | "platform" | "architecture"> &
    Partial<FirmwareMetadata>,
): FirmwareMetadata {
  return {
    architecture: meta.architecture,
    author: meta.author ?? null,
    description: meta.description ?? null,
    misc: meta.misc ?? null,
    platform: meta.platform,
    product: meta.product,
    uuid: meta.uuid,
    vcs_identifier: meta.vcs_identifier ?? null,
    version: meta.version,
  };
}

export interface BuildUpdatePayloadOptions {
  /** Where the device downloads the firmware. */
  url: string;
  /** Metadata of the firmware being offered. */
  meta: Parameters<typeof firmwareMetadata>[0];
  /** The firmware bytes, or their checksums computed earlier. */
  data?: Uint8Array;
  checksums?: FirmwareChecksums;
  /** `null` for a manual push (the default), the deployment group's id otherwise. */
  deploymentId?: number | null;
  /** Organisation firmware proxy: the URL becomes `<proxy>?firmware=<base64url(url)>`. */
  firmwareProxyUrl?: string;
}

/** An `update` payload with `update_available: true`. */
export function buildUpdatePayload(options: BuildUpdatePayloadOptions): UpdatePayload {
  const checksums =
    options.checksums ?? (options.data ? firmwareChecksums(options.data) : undefined);
  if (!checksums) throw new TypeError("buildUpdatePayload needs data or checksums");
  const url = options.firmwareProxyUrl
    ? `${options.firmwareProxyUrl}?firmware=${Buffer.from(options.url).toString("base64url")}`
    : options.url;
  return {
    update_available: true,
    firmware_url: url,
    firmware_meta: firmwareMetadata(options.meta),
    size: checksums.size,
    checksum: checksums.checksum,
    partials_checksums: checksums.partialsChecksums,
    deployment_id: options.deploymentId ?? null,
  };
}

/** What `schedule_update` can broadcast when nothing applies; Link's parser rejects it. */
export function noUpdatePayload(): UpdatePayload {
  return {
    update_available: false,
    firmware_url: null,
    firmware_meta: null,
    size: null,
    checksum: null,
    partials_checksums: null,
    deployment_id: null,
  };
}
