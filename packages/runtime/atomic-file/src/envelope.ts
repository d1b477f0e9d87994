import { createHash } from "node:crypto";

/** Why stored bytes were rejected. */
export type EnvelopeErrorCode = "TRUNCATED" | "BAD_HEADER" | "BAD_LENGTH" | "BAD_CHECKSUM";

export class EnvelopeError extends Error {
  override readonly name = "EnvelopeError";
  constructor(
    readonly code: EnvelopeErrorCode,
    detail: string,
  ) {
    super(`${code.toLowerCase().replace("_", " ")}: ${detail}`);
  }
}

export interface EnvelopeFormat {
  /** 1 to 8 ASCII characters identifying the file kind, e.g. `PTABLE`. */
  magic: string;
}

const CHECKSUM_BYTES = 32;

/*
 * Layout (integers big-endian):
 *   magic (N bytes ASCII) | version u8 | reserved u8 (0) | payload length u32 | payload | SHA-256(payload)
 * The length lets a truncated file be told apart from a corrupt one; the checksum catches both
 * torn writes and bit rot.
 */

/** Wraps `payload` in a checksummed envelope. */
export function sealEnvelope(
  payload: Uint8Array,
  format: EnvelopeFormat & { version: number },
): Buffer {
  const magic = checkMagic(format.magic);
  if (!Number.isInteger(format.version) || format.version < 0 || format.version > 255) {
    throw new RangeError(`envelope version must be an integer 0..255: got ${format.version}`);
  }
  const header = Buffer.alloc(magic.length + 6);
  magic.copy(header, 0);
  header.writeUInt8(format.version, magic.length);
  header.writeUInt8(0, magic.length + 1);
  header.writeUInt32BE(payload.length, magic.length + 2);
  const checksum = createHash("sha256").update(payload).digest();
  return Buffer.concat([header, payload, checksum]);
}

/** Checks and unwraps an envelope; throws {@link EnvelopeError} saying what is wrong. */
export function openEnvelope(
  bytes: Uint8Array,
  format: EnvelopeFormat,
): { version: number; payload: Buffer } {
  const magic = checkMagic(format.magic);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = magic.length + 6;
  if (buffer.length < headerLength + CHECKSUM_BYTES) {
    throw new EnvelopeError(
      "TRUNCATED",
      `only ${buffer.length} bytes: shorter than an empty envelope`,
    );
  }
  if (!buffer.subarray(0, magic.length).equals(magic)) {
    throw new EnvelopeError("BAD_HEADER", `does not start with "${format.magic}"`);
  }
  if (buffer.readUInt8(magic.length + 1) !== 0) {
    throw new EnvelopeError("BAD_HEADER", "reserved header byte is not zero");
  }
  const version = buffer.readUInt8(magic.length);
  const length = buffer.readUInt32BE(magic.length + 2);
  const expected = headerLength + length + CHECKSUM_BYTES;
  if (buffer.length < expected) {
    throw new EnvelopeError(
      "TRUNCATED",
      `${buffer.length} bytes where the header promises ${expected}`,
    );
  }
  if (buffer.length > expected) {
    throw new EnvelopeError(
      "BAD_LENGTH",
      `${buffer.length} bytes where the header promises ${expected}`,
    );
  }
  const payload = buffer.subarray(headerLength, headerLength + length);
  const checksum = buffer.subarray(headerLength + length);
  if (!createHash("sha256").update(payload).digest().equals(checksum)) {
    throw new EnvelopeError("BAD_CHECKSUM", "checksum does not match the content");
  }
  return { version, payload };
}

function checkMagic(magic: string): Buffer {
  if (!/^[\x20-\x7e]{1,8}$/.test(magic)) {
    throw new TypeError(
      `envelope magic must be 1 to 8 printable ASCII characters: got ${JSON.stringify(magic)}`,
    );
  }
  return Buffer.from(magic, "ascii");
}
