/**
 * Firmware metadata and state rules, pure: everything here is a function of the environment's
 * entries. The I/O (fwup, writes) lives in firmware.ts.
 */
import { DeviceError } from "@runtime/errors";
import { emptyEntries } from "./env-codec.js";
import type { FwupFrame } from "./fwup-framing.js";
import type { EnvEntries } from "./validation.js";

/** Whether the running firmware has been confirmed good. */
export type ValidationStatus = "validated" | "unvalidated" | "unknown";

/** The slot running now and the slot the next boot will run. */
export interface FirmwareSlots {
  active: string;
  next: string;
  /** `fwup` when the system's ops archive said so, `kv` when derived from the environment. */
  source: "fwup" | "kv";
}

/** The metadata of one firmware slot (`<slot>.nerves_fw_*`), `undefined` where absent. */
export interface FirmwareMetadata {
  slot: string;
  version: string | undefined;
  uuid: string | undefined;
  product: string | undefined;
  platform: string | undefined;
  architecture: string | undefined;
  author: string | undefined;
  description: string | undefined;
  vcsIdentifier: string | undefined;
  misc: string | undefined;
  /** `<slot>.nerves_fw_validated` as stored (`"0"`, `"1"`), if the system keeps it per slot. */
  validated: string | undefined;
  /** Every `<slot>.nerves_fw_*` variable with both prefixes removed (`version`, `application_part0_devpath`, …). */
  fields: Record<string, string>;
}

/** Standard key names. */
export const KEYS = {
  active: "nerves_fw_active",
  devpath: "nerves_fw_devpath",
  serialNumber: "nerves_serial_number",
  validated: "nerves_fw_validated",
  autovalidate: "nerves_fw_autovalidate",
  upgradeAvailable: "upgrade_available",
  bootcount: "bootcount",
  bootlimit: "bootlimit",
} as const;

/** The prefix of every per-slot firmware variable after `<slot>.`. */
export const FIRMWARE_FIELD_PREFIX = "nerves_fw_";

function lookup(entries: EnvEntries, key: string): string | undefined {
  return Object.hasOwn(entries, key) ? entries[key] : undefined;
}

/** The active slot: `nerves_fw_active` when set and non-empty, else `a`. */
export function activeSlot(entries: EnvEntries): string {
  const value = lookup(entries, KEYS.active);
  return value === undefined || value === "" ? "a" : value;
}

/** The other slot of an A/B pair: `a` ↔ `b`; any other name maps to itself. */
export function otherSlot(slot: string): string {
  if (slot === "a") return "b";
  if (slot === "b") return "a";
  return slot;
}

/** Entries of one slot with the `<slot>.` prefix removed. */
export function slotEntries(entries: EnvEntries, slot: string): Record<string, string> {
  const prefix = `${slot}.`;
  const found = emptyEntries();
  for (const [key, value] of Object.entries(entries)) {
    if (key.startsWith(prefix)) found[key.slice(prefix.length)] = value;
  }
  return found;
}

/** The typed metadata view of one slot. */
export function firmwareMetadata(entries: EnvEntries, slot: string): FirmwareMetadata {
  const own = slotEntries(entries, slot);
  const field = (name: string) => lookup(own, `${FIRMWARE_FIELD_PREFIX}${name}`);
  const fields = emptyEntries();
  for (const [key, value] of Object.entries(own)) {
    if (key.startsWith(FIRMWARE_FIELD_PREFIX))
      fields[key.slice(FIRMWARE_FIELD_PREFIX.length)] = value;
  }
  return {
    slot,
    version: field("version"),
    uuid: field("uuid"),
    product: field("product"),
    platform: field("platform"),
    architecture: field("architecture"),
    author: field("author"),
    description: field("description"),
    vcsIdentifier: field("vcs_identifier"),
    misc: field("misc"),
    validated: field("validated"),
    fields,
  };
}

/**
 * nerves_runtime's rule, in order:
 * 1. `upgrade_available` (U-Boot bootcount): `"0"` → validated, `"1"` → unvalidated;
 * 2. `<active>.nerves_fw_validated` if present, else global `nerves_fw_validated`:
 *    `"1"` → validated, `"0"` → unvalidated;
 * 3. anything else → unknown (the system does not use validation).
 */
export function validationStatus(
  entries: EnvEntries,
  slot = activeSlot(entries),
): ValidationStatus {
  const upgrade = lookup(entries, KEYS.upgradeAvailable);
  if (upgrade === "0") return "validated";
  if (upgrade === "1") return "unvalidated";
  const raw =
    lookup(entries, `${slot}.${KEYS.validated}`) ?? lookup(entries, KEYS.validated) ?? undefined;
  if (raw === "1") return "validated";
  if (raw === "0") return "unvalidated";
  return "unknown";
}

/** Valid unless explicitly unvalidated: with `unknown` the next boot runs the same firmware. */
export function isFirmwareValid(entries: EnvEntries, slot = activeSlot(entries)): boolean {
  return validationStatus(entries, slot) !== "unvalidated";
}

/** Slots from the environment alone: the next boot runs the other slot only when unvalidated. */
export function slotsFromEntries(entries: EnvEntries): FirmwareSlots {
  const active = activeSlot(entries);
  return {
    active,
    next: isFirmwareValid(entries, active) ? active : otherSlot(active),
    source: "kv",
  };
}

/**
 * The variables to write to validate the running firmware without fwup: with the U-Boot
 * bootcount scheme (`upgrade_available` present) `upgrade_available=0`, `bootcount=0`; always
 * the global `nerves_fw_validated=1`; and `<active>.nerves_fw_validated=1` when the system keeps
 * that per-slot key (nerves_runtime skips it, so its status could stay `unvalidated`).
 */
export function validationChanges(
  entries: EnvEntries,
  slot = activeSlot(entries),
): Record<string, string> {
  const changes: Record<string, string> = {};
  if (lookup(entries, KEYS.upgradeAvailable) !== undefined) {
    changes[KEYS.upgradeAvailable] = "0";
    changes[KEYS.bootcount] = "0";
  }
  changes[KEYS.validated] = "1";
  const perSlot = `${slot}.${KEYS.validated}`;
  if (lookup(entries, perSlot) !== undefined) changes[perSlot] = "1";
  return changes;
}

/**
 * The variables to write to switch to the other slot without fwup, or a `DeviceError`
 * (`REVERT_UNAVAILABLE`) saying why that slot cannot be booted: it must hold firmware (platform
 * and architecture set, equal to the running slot's when those are known) that was not marked
 * unvalidated. Only correct for systems whose bootloader picks the slot from `nerves_fw_active`;
 * systems that switch partition tables or use tryboot ship fwup and an ops archive.
 */
export function revertChanges(entries: EnvEntries): Record<string, string> {
  const active = activeSlot(entries);
  const target = otherSlot(active);
  const unavailable = (reason: string) =>
    new DeviceError(
      "REVERT_UNAVAILABLE",
      `cannot revert from slot ${active} to ${target}: ${reason}`,
    );
  if (target === active) throw unavailable(`slot ${active} has no A/B partner`);
  const current = firmwareMetadata(entries, active);
  const other = firmwareMetadata(entries, target);
  if (!other.platform || !other.architecture) {
    throw unavailable(`slot ${target} holds no firmware (no platform/architecture)`);
  }
  if (current.platform && current.platform !== other.platform) {
    throw unavailable(`slot ${target} is for platform ${other.platform}, not ${current.platform}`);
  }
  if (current.architecture && current.architecture !== other.architecture) {
    throw unavailable(
      `slot ${target} is for architecture ${other.architecture}, not ${current.architecture}`,
    );
  }
  if (other.validated === "0") throw unavailable(`slot ${target} was never validated`);
  const changes: Record<string, string> = { [KEYS.active]: target, [KEYS.validated]: "1" };
  if (lookup(entries, KEYS.upgradeAvailable) !== undefined) {
    changes[KEYS.upgradeAvailable] = "0";
    changes[KEYS.bootcount] = "0";
  }
  return changes;
}

/**
 * NervesHubLink's "auto revert detected": the other slot holds firmware (platform and
 * architecture set) that is marked `nerves_fw_validated=0`, i.e. we are running the older
 * firmware because the new one was rejected.
 */
export function autoRevertDetected(entries: EnvEntries, slot = activeSlot(entries)): boolean {
  const other = firmwareMetadata(entries, otherSlot(slot));
  if (otherSlot(slot) === slot) return false;
  return other.validated === "0" && !!other.platform && !!other.architecture;
}

/**
 * The slots reported by a system's `status` ops task: the first warning/info record whose text is
 * one slot name (`a`) or `x->y`. `undefined` when there is none.
 */
export function slotsFromFwupStatus(frames: readonly FwupFrame[]): FirmwareSlots | undefined {
  for (const frame of frames) {
    if (frame.type !== "WN") continue;
    const single = /^([^\s>-])$/.exec(frame.text);
    if (single) return { active: single[1]!, next: single[1]!, source: "fwup" };
    const pair = /^([^\s>-])->([^\s>-])$/.exec(frame.text);
    if (pair) return { active: pair[1]!, next: pair[2]!, source: "fwup" };
  }
  return undefined;
}
