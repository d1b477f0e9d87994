// Strict parsing of the server's `update` payload (reference §5.1) into a typed UpdateInfo. Pure.
// NervesHubLink only requires `firmware_meta` to be an object and `firmware_url` present; we check
// every field we act on, because a malformed offer must be reported and never applied.
import { fieldPath, ValidationError, type ValidationIssue } from "@runtime/errors";

/** Target firmware of an update (`firmware_meta`). Absent or null fields are `null`. */
export interface UpdateFirmwareMeta {
  uuid: string;
  version: string | null;
  product: string | null;
  platform: string | null;
  architecture: string | null;
  author: string | null;
  description: string | null;
  misc: string | null;
  vcsIdentifier: string | null;
  fwupVersion: string | null;
}

/** A parsed, checked update offer. */
export interface UpdateInfo {
  firmwareUrl: string;
  firmwareMeta: UpdateFirmwareMeta;
  /** Bytes to download, when the server says. */
  size: number | null;
  /** SHA-256 of the file, upper-case hex as the server sends it, when given. */
  checksum: string | null;
  /** SHA-256 per 1 MiB slice, in order (may be empty). */
  partialsChecksums: string[];
  /** `null` for a manual push. */
  deploymentId: number | null;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ValidationError };

const META_FIELDS: ReadonlyArray<[keyof UpdateFirmwareMeta, string]> = [
  ["version", "version"],
  ["product", "product"],
  ["platform", "platform"],
  ["architecture", "architecture"],
  ["author", "author"],
  ["description", "description"],
  ["misc", "misc"],
  ["vcsIdentifier", "vcs_identifier"],
  ["fwupVersion", "fwup_version"],
];

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Hides the query (presigned URL credentials) of a firmware URL for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.search !== "") parsed.search = "?****";
    if (parsed.username || parsed.password) {
      parsed.username = "****";
      parsed.password = "";
    }
    return parsed.toString();
  } catch {
    return "****";
  }
}

/** Parses an `update` payload. Never throws: an invalid payload gives `{ ok: false, error }`. */
export function parseUpdateInfo(payload: unknown): ParseResult<UpdateInfo> {
  const issues: ValidationIssue[] = [];
  if (!isObject(payload)) {
    return {
      ok: false,
      error: new ValidationError(
        { path: "", value: payload, reason: "must be an object" },
        "INVALID_UPDATE",
      ),
    };
  }
  if (payload.update_available === false) {
    issues.push({ path: "update_available", value: false, reason: "is false: nothing to apply" });
  }
  const url = payload.firmware_url;
  let firmwareUrl = "";
  if (typeof url !== "string") {
    issues.push({ path: "firmware_url", value: url, reason: "must be a string" });
  } else {
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
        issues.push({
          path: "firmware_url",
          value: redactUrl(url),
          reason: "must be an http(s) URL",
        });
      }
      firmwareUrl = url;
    } catch {
      issues.push({ path: "firmware_url", value: "****", reason: "must be an absolute URL" });
    }
  }
  const meta = payload.firmware_meta;
  const firmwareMeta: UpdateFirmwareMeta = {
    uuid: "",
    version: null,
    product: null,
    platform: null,
    architecture: null,
    author: null,
    description: null,
    misc: null,
    vcsIdentifier: null,
    fwupVersion: null,
  };
  if (!isObject(meta)) {
    issues.push({ path: "firmware_meta", value: meta, reason: "must be an object" });
  } else {
    if (typeof meta.uuid !== "string" || meta.uuid.trim() === "") {
      issues.push({
        path: fieldPath("firmware_meta", "uuid"),
        value: meta.uuid,
        reason: "must be a non-empty string",
      });
    } else {
      firmwareMeta.uuid = meta.uuid;
    }
    for (const [name, wire] of META_FIELDS) {
      const value = meta[wire];
      if (value === undefined || value === null) continue;
      if (typeof value !== "string") {
        issues.push({
          path: fieldPath("firmware_meta", wire),
          value,
          reason: "must be a string or null",
        });
      } else {
        firmwareMeta[name] = value;
      }
    }
  }
  let size: number | null = null;
  if (payload.size !== undefined && payload.size !== null) {
    if (
      typeof payload.size !== "number" ||
      !Number.isSafeInteger(payload.size) ||
      payload.size < 0
    ) {
      issues.push({ path: "size", value: payload.size, reason: "must be a non-negative integer" });
    } else {
      size = payload.size;
    }
  }
  let checksum: string | null = null;
  if (payload.checksum !== undefined && payload.checksum !== null) {
    if (typeof payload.checksum !== "string" || !SHA256_HEX.test(payload.checksum)) {
      issues.push({
        path: "checksum",
        value: payload.checksum,
        reason: "must be 64 hex digits (SHA-256)",
      });
    } else {
      checksum = payload.checksum.toUpperCase();
    }
  }
  const partialsChecksums: string[] = [];
  const partials = payload.partials_checksums;
  if (partials !== undefined && partials !== null) {
    if (!Array.isArray(partials)) {
      issues.push({ path: "partials_checksums", value: partials, reason: "must be a list" });
    } else {
      partials.forEach((item, index) => {
        if (typeof item !== "string" || !SHA256_HEX.test(item)) {
          issues.push({
            path: fieldPath("partials_checksums", index),
            value: item,
            reason: "must be 64 hex digits (SHA-256)",
          });
        } else {
          partialsChecksums.push(item.toUpperCase());
        }
      });
    }
  }
  let deploymentId: number | null = null;
  if (payload.deployment_id !== undefined && payload.deployment_id !== null) {
    if (typeof payload.deployment_id !== "number" || !Number.isSafeInteger(payload.deployment_id)) {
      issues.push({
        path: "deployment_id",
        value: payload.deployment_id,
        reason: "must be an integer or null",
      });
    } else {
      deploymentId = payload.deployment_id;
    }
  }
  if (issues.length > 0) return { ok: false, error: new ValidationError(issues, "INVALID_UPDATE") };
  return {
    ok: true,
    value: { firmwareUrl, firmwareMeta, size, checksum, partialsChecksums, deploymentId },
  };
}
