/**
 * `fw_env.config` parsing, pure. One data line per environment copy:
 *
 *     <device> <offset> <env size> [sector size] [sector count]
 *
 * Numbers are read exactly as libubootenv's and U-Boot's own `fw_printenv` read them, so both
 * always agree on where the environment is: the offset with C's base-0 rule (`0x` hex, a leading
 * `0` octal, else decimal) and the sizes always as hexadecimal, with or without `0x` (`2000` is
 * 0x2000). A size written without `0x` is reported in `warnings`. Sector size and count are
 * ignored: they only matter for raw NAND/NOR flash, which this package does not support.
 */
import { ValidationError, type ValidationIssue } from "@runtime/errors";
import type { EnvLayout } from "./env-codec.js";

/** Where one copy of the environment lives. */
export interface EnvLocation {
  /** Device or image file, e.g. `/dev/mmcblk0` or a file in tests. */
  path: string;
  /** Byte offset of the block in that file. */
  offset: number;
  /** Block size in bytes (both copies of a redundant environment have the same size). */
  size: number;
}

export interface FwEnvConfig {
  locations: EnvLocation[];
  layout: EnvLayout;
  /** Things that are accepted but probably not what the author meant, one sentence each. */
  warnings: string[];
}

/** Smallest block that can hold a header and an empty environment. */
const MIN_SIZE = 8;

function parseOffset(text: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return Number.parseInt(text.slice(2), 16);
  if (/^0[0-7]*$/.test(text)) return text === "0" ? 0 : Number.parseInt(text.slice(1), 8);
  if (/^[1-9][0-9]*$/.test(text)) return Number.parseInt(text, 10);
  return undefined;
}

function parseHexSize(text: string): number | undefined {
  const digits = text.replace(/^0[xX]/, "");
  if (!/^[0-9a-fA-F]+$/.test(digits)) return undefined;
  return Number.parseInt(digits, 16);
}

/**
 * Parses the text of a `fw_env.config`. `source` names the file in errors. Throws a
 * {@link ValidationError} (code `ENV_CONFIG_INVALID`) naming the line for anything that is not one
 * or two valid data lines: silently ignoring a bad line could turn a redundant environment into a
 * single one and overwrite the only copy U-Boot trusts.
 */
export function parseFwEnvConfig(text: string, source = "fw_env.config"): FwEnvConfig {
  const locations: EnvLocation[] = [];
  const issues: ValidationIssue[] = [];
  const warnings: string[] = [];
  text.split("\n").forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) return;
    const where = `${source}:${index + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length < 3) {
      issues.push({
        path: where,
        value: rawLine,
        reason: "needs at least <device> <offset> <size>",
      });
      return;
    }
    const [path, offsetText, sizeText] = fields as [string, string, string];
    const offset = parseOffset(offsetText);
    const size = parseHexSize(sizeText);
    if (offset === undefined || !Number.isSafeInteger(offset)) {
      issues.push({
        path: where,
        value: offsetText,
        reason: "offset must be a number (0x… hex, 0… octal or decimal)",
      });
    }
    if (size === undefined || !Number.isSafeInteger(size)) {
      issues.push({ path: where, value: sizeText, reason: "size must be a hexadecimal number" });
    } else if (size < MIN_SIZE) {
      issues.push({
        path: where,
        value: sizeText,
        reason: `size must be at least ${MIN_SIZE} bytes`,
      });
    } else if (!/^0[xX]/.test(sizeText) && /^[0-9]+$/.test(sizeText)) {
      warnings.push(
        `${where}: size "${sizeText}" has no 0x prefix and is read as hexadecimal 0x${sizeText} ` +
          `(${size} bytes), as fw_printenv reads it`,
      );
    }
    if (offset !== undefined && size !== undefined) locations.push({ path, offset, size });
  });
  if (issues.length === 0 && (locations.length < 1 || locations.length > 2)) {
    issues.push({
      path: source,
      value: locations.length,
      reason: "must have one (single) or two (redundant) data lines",
    });
  }
  if (issues.length === 0 && locations.length === 2 && locations[0]!.size !== locations[1]!.size) {
    issues.push({
      path: source,
      value: locations.map((location) => location.size),
      reason: "both copies of a redundant environment must have the same size",
    });
  }
  if (issues.length > 0) throw new ValidationError(issues, "ENV_CONFIG_INVALID");
  return { locations, layout: locations.length === 2 ? "redundant" : "single", warnings };
}

/**
 * Checks locations given directly (instead of a config file) with the same rules; returns the
 * layout.
 */
export function checkLocations(locations: readonly EnvLocation[]): EnvLayout {
  const issues: ValidationIssue[] = [];
  if (locations.length < 1 || locations.length > 2) {
    issues.push({
      path: "locations",
      value: locations.length,
      reason: "must list one (single) or two (redundant) locations",
    });
  }
  locations.forEach((location, index) => {
    if (typeof location.path !== "string" || location.path === "") {
      issues.push({
        path: `locations[${index}].path`,
        value: location.path,
        reason: "must be a file path",
      });
    }
    if (!Number.isSafeInteger(location.offset) || location.offset < 0) {
      issues.push({
        path: `locations[${index}].offset`,
        value: location.offset,
        reason: "must be a non-negative integer",
      });
    }
    if (!Number.isSafeInteger(location.size) || location.size < MIN_SIZE) {
      issues.push({
        path: `locations[${index}].size`,
        value: location.size,
        reason: `must be an integer of at least ${MIN_SIZE}`,
      });
    }
  });
  if (issues.length === 0 && locations.length === 2 && locations[0]!.size !== locations[1]!.size) {
    issues.push({
      path: "locations",
      value: locations.map((location) => location.size),
      reason: "both copies of a redundant environment must have the same size",
    });
  }
  if (issues.length > 0) throw new ValidationError(issues, "ENV_CONFIG_INVALID");
  return locations.length === 2 ? "redundant" : "single";
}

/** Formats locations as `fw_env.config` text (sizes in 0x hex), e.g. for tests and tools. */
export function formatFwEnvConfig(locations: readonly EnvLocation[]): string {
  return locations
    .map(
      (location) =>
        `${location.path} 0x${location.offset.toString(16)} 0x${location.size.toString(16)}\n`,
    )
    .join("");
}
