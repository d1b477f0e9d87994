/**
 * U-Boot environment blocks, pure: no I/O. A block is
 *
 * - single:    `[CRC-32 LE of bytes 4..size][data]`
 * - redundant: `[CRC-32 LE of bytes 5..size][flag][data]` (two blocks; the flag is outside the CRC)
 *
 * where data is `key=value\0` pairs, one more `\0`, then padding (0xFF) to the block size.
 *
 * Internally keys and values are "byte strings" (latin1: one char per byte) so that a read-merge-
 * write never changes bytes of variables it did not touch, even when they are not UTF-8. The
 * public string view decodes UTF-8.
 */
import { isAscii } from "node:buffer";
import { crc32 } from "node:zlib";
import { type EnvCopyProblem, EnvTooLargeError, UBootEnvError } from "./errors.js";
import { type EnvEntries, validateEntries } from "./validation.js";

/** One environment copy (`single`) or two copies with a generation flag (`redundant`). */
export type EnvLayout = "single" | "redundant";

/** Bytes before the data: the CRC, and for redundant blocks the flag. */
export function headerSize(layout: EnvLayout): number {
  return layout === "redundant" ? 5 : 4;
}

/** Records as byte strings (latin1), in stored order; the first occurrence of a key wins. */
export type EnvRecords = Map<string, string>;

const NUL = 0;
const EQUALS = 0x3d;
const DOUBLE_NUL = Buffer.from([0, 0]);

/** Decoded data: byte-string records, and whether every byte was ASCII (then UTF-8 = latin1). */
export interface DecodedEnvData {
  records: EnvRecords;
  ascii: boolean;
}

/**
 * Decodes `key=value\0…\0` data into byte-string records. Stops at the first empty record (so
 * 0xFF and 0x00 padding both work); a record without `=` has the value `""` (mkenvimage writes
 * such records); duplicate keys keep the first value, like U-Boot.
 */
export function decodeEnvData(data: Uint8Array): DecodedEnvData {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // Find the end natively (the first empty record), decode it as one latin1 string and split
  // that: far cheaper than a native call per key and value.
  let end: number;
  if (buffer.length === 0 || buffer[0] === NUL) end = 0;
  else {
    const terminator = buffer.indexOf(DOUBLE_NUL);
    end = terminator === -1 ? buffer.length : terminator;
  }
  const used = buffer.subarray(0, end);
  const records: EnvRecords = new Map();
  if (end === 0) return { records, ascii: true };
  for (const record of used.toString("latin1").split("\0")) {
    // Only a trailing NUL without its partner can give an empty record here: the data ends.
    if (record === "") break;
    const equals = record.indexOf("=");
    const key = equals === -1 ? record : record.slice(0, equals);
    if (records.has(key)) continue;
    records.set(key, equals === -1 ? "" : record.slice(equals + 1));
  }
  return { records, ascii: isAscii(used) };
}

/** {@link decodeEnvData}, records only. */
export function decodeEnvRecords(data: Uint8Array): EnvRecords {
  return decodeEnvData(data).records;
}

/** Bytes that {@link encodeEnvRecords} produces for these records. */
export function encodedRecordsLength(records: EnvRecords): number {
  let length = 1;
  for (const [key, value] of records) length += key.length + value.length + 2;
  return length;
}

/**
 * Encodes byte-string records as `key=value\0…\0`, keys sorted (U-Boot does not care about order;
 * sorting makes images reproducible). Does not validate: see {@link validateEntries}.
 */
export function encodeEnvRecords(records: EnvRecords, target?: Buffer, offset = 0): Buffer {
  const length = encodedRecordsLength(records);
  const out = target ?? Buffer.allocUnsafe(length);
  let position = offset;
  const keys = [...records.keys()].sort();
  for (const key of keys) {
    position += out.write(key, position, "latin1");
    out[position++] = EQUALS;
    position += out.write(records.get(key)!, position, "latin1");
    out[position++] = NUL;
  }
  out[position] = NUL;
  return out;
}

/** A UTF-8 string as a byte string (one char per byte). */
export function toByteString(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

/** A byte string as UTF-8 text (invalid sequences show as U+FFFD; the stored bytes are kept). */
export function fromByteString(bytes: string): string {
  // Pure ASCII is the common case and needs no conversion.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is the point
  if (!/[^\x00-\x7f]/.test(bytes)) return bytes;
  return Buffer.from(bytes, "latin1").toString("utf8");
}

/**
 * An empty entries object without a prototype, so keys read from storage such as `__proto__`,
 * `constructor` or `toString` are plain data and never collide with `Object.prototype`.
 */
export function emptyEntries(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

/** A prototype-free copy of entries (see {@link emptyEntries}). */
export function copyEntries(entries: EnvEntries): Record<string, string> {
  return Object.assign(emptyEntries(), entries);
}

/**
 * Records (byte strings) as UTF-8 entries, in a prototype-free object. `ascii: true` (known from
 * {@link decodeEnvData}) skips the per-string conversion.
 */
export function recordsToEntries(
  records: EnvRecords,
  options: { ascii?: boolean } = {},
): Record<string, string> {
  const entries = emptyEntries();
  if (options.ascii) {
    for (const [key, value] of records) entries[key] = value;
  } else {
    for (const [key, value] of records) entries[fromByteString(key)] = fromByteString(value);
  }
  return entries;
}

/** UTF-8 entries as records (byte strings). */
export function entriesToRecords(entries: EnvEntries): EnvRecords {
  const records: EnvRecords = new Map();
  for (const [key, value] of Object.entries(entries)) {
    records.set(toByteString(key), toByteString(value));
  }
  return records;
}

/** Parses `key=value\0…\0` data (no header) as UTF-8 entries. */
export function parseEnvData(data: Uint8Array): Record<string, string> {
  const { records, ascii } = decodeEnvData(data);
  return recordsToEntries(records, { ascii });
}

/** Serializes entries as `key=value\0…\0` (no header, no padding). Validates every entry. */
export function serializeEnvData(entries: EnvEntries): Buffer {
  validateEntries(Object.entries(entries));
  return encodeEnvRecords(entriesToRecords(entries));
}

/**
 * What one block says about itself. A valid copy keeps its data bytes (a view, not a copy);
 * only the copy that is chosen gets decoded.
 */
export type EnvCopy =
  | { valid: true; flag: number | undefined; data: Buffer }
  | { valid: false; reason: string };

/**
 * Checks one block: its length, its CRC (over the data only: the redundant flag is not covered).
 * Never throws.
 */
export function decodeEnvBlock(
  block: Uint8Array | undefined,
  layout: EnvLayout,
  size?: number,
): EnvCopy {
  if (block === undefined) return { valid: false, reason: "not readable" };
  const header = headerSize(layout);
  if (size !== undefined && block.length < size) {
    return { valid: false, reason: `short: ${block.length} of ${size} bytes` };
  }
  if (block.length <= header) {
    return { valid: false, reason: `short: ${block.length} bytes is not more than the header` };
  }
  const view = Buffer.from(block.buffer, block.byteOffset, size ?? block.length);
  const stored = view.readUInt32LE(0);
  const data = view.subarray(header);
  const computed = crc32(data) >>> 0;
  if (stored !== computed) {
    return {
      valid: false,
      reason: `CRC mismatch (stored 0x${hex8(stored)}, computed 0x${hex8(computed)})`,
    };
  }
  return { valid: true, flag: layout === "redundant" ? view[4] : undefined, data };
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, "0");
}

/**
 * Builds one block of `size` bytes from byte-string records: header, data, 0xFF padding.
 * Throws {@link EnvTooLargeError} when the data does not fit.
 */
export function encodeEnvBlock(
  records: EnvRecords,
  options: { size: number; layout: EnvLayout; flag?: number; padding?: number },
): Buffer {
  const header = headerSize(options.layout);
  const capacity = options.size - header;
  const needed = encodedRecordsLength(records);
  if (needed > capacity) throw new EnvTooLargeError(needed, capacity);
  const block = Buffer.alloc(options.size, options.padding ?? 0xff);
  encodeEnvRecords(records, block, header);
  if (options.layout === "redundant") block[4] = (options.flag ?? 0) & 0xff;
  block.writeUInt32LE(crc32(block.subarray(header)) >>> 0, 0);
  return block;
}

/**
 * Builds a block from UTF-8 entries; validates every entry first ({@link validateEntries}).
 * `flag` (redundant only) is the generation, taken modulo 256.
 */
export function serializeEnvBlock(
  entries: EnvEntries,
  options: { size: number; layout: EnvLayout; flag?: number },
): Buffer {
  validateEntries(Object.entries(entries));
  return encodeEnvBlock(entriesToRecords(entries), options);
}

/**
 * Whether a redundant copy with flag `a` is newer than one with flag `b`, by U-Boot's rule (also
 * libubootenv's `fw_printenv`): 0 is newer than 255, 255 older than 0, otherwise the larger flag
 * wins; equal flags are not newer (the first copy wins a tie). Writers always advance by one
 * (mod 256), and for neighbours this is the same as serial-number arithmetic.
 */
export function isNewerFlag(a: number, b: number): boolean {
  const x = a & 0xff;
  const y = b & 0xff;
  if (x === 0 && y === 0xff) return true;
  if (x === 0xff && y === 0) return false;
  return x > y;
}

/** The result of reading an environment: its entries and which copy they came from. */
export interface EnvImage {
  layout: EnvLayout;
  /** Byte-string records of the current copy (see {@link recordsToEntries}). */
  records: EnvRecords;
  /** Whether the current copy's data is pure ASCII (its records are then also UTF-8 text). */
  ascii: boolean;
  /** Index of the copy that was used. */
  copy: number;
  /** Its generation flag (redundant only). */
  flag: number | undefined;
  /** The state of every copy, for diagnostics and for {@link planEnvWrite}. */
  copies: readonly EnvCopy[];
}

/**
 * Chooses the current copy: the only valid one, or of two valid copies the newer by
 * {@link isNewerFlag} (a tie picks copy 0). Throws `ENV_NO_VALID_COPY` when none is valid.
 */
export function selectEnvCopy(
  copies: readonly EnvCopy[],
  layout: EnvLayout,
  where: readonly string[] = [],
): EnvImage {
  let best: number | undefined;
  copies.forEach((copy, index) => {
    if (!copy.valid) return;
    const current = best === undefined ? undefined : copies[best];
    if (
      current === undefined ||
      (current.valid && isNewerFlag(copy.flag ?? 0, current.flag ?? 0))
    ) {
      best = index;
    }
  });
  if (best === undefined) {
    const problems: EnvCopyProblem[] = copies.map((copy, index) => ({
      copy: index,
      ...(where[index] ? { where: where[index] } : {}),
      reason: copy.valid ? "valid" : copy.reason,
    }));
    const described = problems
      .map(
        (problem) =>
          `copy ${problem.copy}${problem.where ? ` (${problem.where})` : ""}: ${problem.reason}`,
      )
      .join("; ");
    throw new UBootEnvError("ENV_NO_VALID_COPY", `no valid U-Boot environment copy: ${described}`, {
      problems,
    });
  }
  const chosen = copies[best] as Extract<EnvCopy, { valid: true }>;
  const { records, ascii } = decodeEnvData(chosen.data);
  return { layout, records, ascii, copy: best, flag: chosen.flag, copies };
}

/** Reads an environment from its raw blocks (one for single, two for redundant). */
export function readEnvBlocks(
  blocks: ReadonlyArray<Uint8Array | undefined>,
  options: { layout: EnvLayout; size?: number; where?: readonly string[] },
): EnvImage {
  const copies = blocks.map((block) => decodeEnvBlock(block, options.layout, options.size));
  return selectEnvCopy(copies, options.layout, options.where);
}

/** Where the next write goes and with which flag. */
export interface EnvWritePlan {
  /** Index of the copy to overwrite. */
  copy: number;
  /** Generation flag for the new block (redundant), `undefined` for single. */
  flag: number | undefined;
}

/**
 * Chooses the copy to overwrite so that the newest valid copy is never touched: single → copy 0;
 * redundant → the invalid copy if one is, else the older one (a tie counts copy 0 as newer), with
 * the flag of the newest valid copy plus one, modulo 256 (0 when neither copy is valid).
 */
export function planEnvWrite(copies: readonly EnvCopy[], layout: EnvLayout): EnvWritePlan {
  if (layout === "single") return { copy: 0, flag: undefined };
  const [first, second] = copies;
  const firstValid = first?.valid === true ? first : undefined;
  const secondValid = second?.valid === true ? second : undefined;
  if (!firstValid && !secondValid) return { copy: 0, flag: 0 };
  if (firstValid && !secondValid) return { copy: 1, flag: ((firstValid.flag ?? 0) + 1) & 0xff };
  if (!firstValid && secondValid) return { copy: 0, flag: ((secondValid.flag ?? 0) + 1) & 0xff };
  const a = firstValid!.flag ?? 0;
  const b = secondValid!.flag ?? 0;
  if (isNewerFlag(b, a)) return { copy: 0, flag: (b + 1) & 0xff };
  return { copy: 1, flag: (a + 1) & 0xff };
}
