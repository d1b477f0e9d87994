// A decoder for the Erlang External Term Format, enough to read what
// `Plug.Crypto.non_executable_binary_to_term/1` reads from a shared-secret token
// (elixir-plug/plug_crypto lib/plug/crypto.ex). The token payload is
// `:erlang.term_to_binary({identifier, signed_at_ms, max_age})`; the server also accepts the older
// `{data, signed}` tuple and the `%{data: _, signed: _}` map, so tuples, maps, atoms, integers of
// every size, floats, binaries and lists are decoded. Pids, ports, references and funs are
// refused: `non_executable_binary_to_term` raises on funs, and a token carrying the others has no
// meaning here. Compressed terms (tag 80, zlib) are inflated like `binary_to_term/1` does.
//
// Bytes after the term are refused. (Whether `binary_to_term/1` ignores them was not verified;
// only a holder of the secret can produce such a token, so the choice cannot admit anyone.)

import { inflateSync } from "node:zlib";

export type Term =
  | { type: "integer"; value: bigint }
  | { type: "float"; value: number }
  | { type: "atom"; value: string }
  | { type: "binary"; value: Uint8Array }
  | { type: "bitstring"; value: Uint8Array; bitsInLastByte: number }
  | { type: "tuple"; elements: Term[] }
  | { type: "list"; elements: Term[]; tail: Term }
  | { type: "nil" }
  | { type: "map"; entries: Array<[Term, Term]> };

export type TermDecodeResult = { ok: true; term: Term } | { ok: false; reason: string };

const VERSION = 131;
const MAX_DEPTH = 64;

class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}
  need(count: number): void {
    if (count < 0 || this.offset + count > this.bytes.length) throw new EtfError("truncated term");
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.offset++]!;
  }
  u16(): number {
    this.need(2);
    const value = (this.bytes[this.offset]! << 8) | this.bytes[this.offset + 1]!;
    this.offset += 2;
    return value;
  }
  u32(): number {
    this.need(4);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, 4);
    this.offset += 4;
    return view.getUint32(0);
  }
  i32(): number {
    this.need(4);
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, 4);
    this.offset += 4;
    return view.getInt32(0);
  }
  take(count: number): Uint8Array {
    this.need(count);
    const slice = this.bytes.slice(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }
}

class EtfError extends Error {}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

function bigFromLittleEndian(digits: Uint8Array, negative: boolean): bigint {
  let value = 0n;
  for (let index = digits.length - 1; index >= 0; index--) {
    value = (value << 8n) | BigInt(digits[index]!);
  }
  return negative ? -value : value;
}

function decodeTerm(reader: Reader, depth: number): Term {
  if (depth > MAX_DEPTH) throw new EtfError("term nested too deeply");
  const tag = reader.u8();
  switch (tag) {
    case 97: // SMALL_INTEGER_EXT
      return { type: "integer", value: BigInt(reader.u8()) };
    case 98: // INTEGER_EXT
      return { type: "integer", value: BigInt(reader.i32()) };
    case 110: {
      // SMALL_BIG_EXT
      const size = reader.u8();
      const sign = reader.u8();
      if (sign > 1) throw new EtfError("invalid big integer sign");
      return { type: "integer", value: bigFromLittleEndian(reader.take(size), sign === 1) };
    }
    case 111: {
      // LARGE_BIG_EXT
      const size = reader.u32();
      const sign = reader.u8();
      if (sign > 1) throw new EtfError("invalid big integer sign");
      return { type: "integer", value: bigFromLittleEndian(reader.take(size), sign === 1) };
    }
    case 70: {
      // NEW_FLOAT_EXT: IEEE 754 double, big-endian
      const bytes = reader.take(8);
      const value = new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0);
      if (!Number.isFinite(value)) throw new EtfError("float is not finite");
      return { type: "float", value };
    }
    case 99: {
      // FLOAT_EXT: 31 bytes of "%.20e" text, NUL padded
      const text = latin1.decode(reader.take(31)).replace(/\0+$/, "");
      const value = Number(text);
      if (!Number.isFinite(value)) throw new EtfError("float text is not a number");
      return { type: "float", value };
    }
    case 100: // ATOM_EXT (latin-1)
      return { type: "atom", value: latin1.decode(reader.take(reader.u16())) };
    case 115: // SMALL_ATOM_EXT (latin-1)
      return { type: "atom", value: latin1.decode(reader.take(reader.u8())) };
    case 118: // ATOM_UTF8_EXT
      return { type: "atom", value: decodeUtf8(reader.take(reader.u16())) };
    case 119: // SMALL_ATOM_UTF8_EXT
      return { type: "atom", value: decodeUtf8(reader.take(reader.u8())) };
    case 109: // BINARY_EXT
      return { type: "binary", value: reader.take(reader.u32()) };
    case 77: {
      // BIT_BINARY_EXT
      const length = reader.u32();
      const bits = reader.u8();
      if (bits < 1 || bits > 8) throw new EtfError("invalid bit count");
      return { type: "bitstring", value: reader.take(length), bitsInLastByte: bits };
    }
    case 104: // SMALL_TUPLE_EXT
      return { type: "tuple", elements: decodeMany(reader, reader.u8(), depth) };
    case 105: // LARGE_TUPLE_EXT
      return { type: "tuple", elements: decodeMany(reader, reader.u32(), depth) };
    case 106: // NIL_EXT
      return { type: "nil" };
    case 107: {
      // STRING_EXT: a list of small integers
      const bytes = reader.take(reader.u16());
      return {
        type: "list",
        elements: [...bytes].map((byte) => ({ type: "integer", value: BigInt(byte) }) as Term),
        tail: { type: "nil" },
      };
    }
    case 108: {
      // LIST_EXT
      const elements = decodeMany(reader, reader.u32(), depth);
      const tail = decodeTerm(reader, depth + 1);
      return { type: "list", elements, tail };
    }
    case 116: {
      // MAP_EXT
      const arity = reader.u32();
      const entries: Array<[Term, Term]> = [];
      for (let index = 0; index < arity; index++) {
        const key = decodeTerm(reader, depth + 1);
        entries.push([key, decodeTerm(reader, depth + 1)]);
      }
      return { type: "map", entries };
    }
    default:
      throw new EtfError(`unsupported term tag ${tag}`);
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new EtfError("atom is not valid UTF-8");
  }
}

function decodeMany(reader: Reader, count: number, depth: number): Term[] {
  // Every element takes at least one byte: refuse counts the input cannot hold before looping.
  reader.need(count);
  const elements: Term[] = [];
  for (let index = 0; index < count; index++) elements.push(decodeTerm(reader, depth + 1));
  return elements;
}

/** Decodes `term_to_binary` output. Never throws. */
export function decodeExternalTerm(
  bytes: Uint8Array,
  maxInflatedBytes = 1 << 20,
): TermDecodeResult {
  try {
    const reader = new Reader(bytes);
    if (reader.u8() !== VERSION) return { ok: false, reason: "not external term format (131)" };
    let body = reader;
    if (bytes[1] === 80) {
      // COMPRESSED: tag, u32 uncompressed size, zlib stream
      reader.u8();
      const size = reader.u32();
      if (size > maxInflatedBytes) return { ok: false, reason: "compressed term too large" };
      const inflated = new Uint8Array(
        inflateSync(bytes.subarray(reader.offset), { maxOutputLength: maxInflatedBytes }),
      );
      if (inflated.length !== size) return { ok: false, reason: "compressed size mismatch" };
      body = new Reader(inflated);
    }
    const term = decodeTerm(body, 0);
    if (body.offset !== body.bytes.length) return { ok: false, reason: "bytes after the term" };
    return { ok: true, term };
  } catch (error) {
    if (error instanceof EtfError) return { ok: false, reason: error.message };
    return { ok: false, reason: "invalid compressed term" };
  }
}
