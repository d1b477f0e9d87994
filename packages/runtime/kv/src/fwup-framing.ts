/**
 * fwup's `--framing` protocol, pure. fwup writes one record per message on stdout:
 *
 *     [u32 BE length][2 ASCII type chars][u16 BE code][text]     length = 4 + text bytes
 *
 * | type | code                  | text            |
 * | ---- | --------------------- | --------------- |
 * | `OK` | result, 0 = success   | optional        |
 * | `ER` | error code (reserved) | the error       |
 * | `WN` | code                  | warning / info  |
 * | `PR` | progress 0–100        | empty           |
 *
 * With `--exit-handshake` fwup then writes two unframed bytes `0x1A <exit status>` and waits for
 * its stdin to close. Input to fwup (`-i -` / stdin with `--framing`) is framed the same way:
 * `[u32 BE length][bytes]`, a zero-length record meaning end of input.
 */

/** The four record types fwup sends. */
export type FwupFrameType = "OK" | "ER" | "WN" | "PR";

/** One decoded record. */
export interface FwupFrame {
  type: FwupFrameType;
  /** `OK`: result (0 = success); `ER`: error code; `WN`: code; `PR`: percent 0–100. */
  code: number;
  /** UTF-8 text; empty for progress. */
  text: string;
}

const TYPES: ReadonlySet<string> = new Set(["OK", "ER", "WN", "PR"]);
/** Byte that starts the `--exit-handshake` trailer. */
export const FWUP_EXIT_HANDSHAKE_BYTE = 0x1a;
/** Default largest record accepted; fwup's messages are short lines. */
export const DEFAULT_MAX_FRAME_LENGTH = 64 * 1024;

/** fwup's output is not `--framing` output. Matches nerves_runtime's "Invalid framing". */
export class FwupFramingError extends Error {
  override name = "FwupFramingError";
  readonly code = "FWUP_BAD_OUTPUT";
}

export interface FwupFrameDecoderOptions {
  /** Refuse records longer than this (without buffering them). Default 64 KiB. */
  maxFrameLength?: number;
  /**
   * Accept the `--exit-handshake` trailer `0x1A <status>` after an `OK` or `ER` record; its status
   * is then in {@link FwupFrameDecoder.exitStatus}. Default false (the trailer is garbage).
   */
  exitHandshake?: boolean;
}

/**
 * Streaming decoder: feed chunks of any size with {@link push}, get every complete record back;
 * partial records are kept until the rest arrives. Call {@link end} when the output is over: it
 * throws when bytes of an incomplete record are left (trailing garbage). Invalid input (a length
 * below 4, above the limit, or an unknown type) throws {@link FwupFramingError} at once and the
 * decoder refuses further input.
 *
 * ```ts
 * const decoder = new FwupFrameDecoder();
 * fwup.stdout.on("data", (chunk) => {
 *   for (const frame of decoder.push(chunk)) {
 *     if (frame.type === "PR") console.log("progress", fwupProgress(frame));
 *   }
 * });
 * fwup.stdout.on("end", () => decoder.end());
 * ```
 */
export class FwupFrameDecoder {
  private pending: Buffer = Buffer.alloc(0);
  private failed: FwupFramingError | undefined;
  private terminalSeen = false;
  private handshakeStatus: number | undefined;
  private readonly maxFrameLength: number;
  private readonly exitHandshake: boolean;

  constructor(options: FwupFrameDecoderOptions = {}) {
    this.maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    this.exitHandshake = options.exitHandshake ?? false;
  }

  /** Exit status from the `--exit-handshake` trailer, once it has arrived. */
  get exitStatus(): number | undefined {
    return this.handshakeStatus;
  }

  /** Bytes received that do not yet form a complete record. */
  get buffered(): number {
    return this.pending.length;
  }

  /** Decodes as many complete records as the input so far holds. */
  push(chunk: Uint8Array): FwupFrame[] {
    if (this.failed) throw this.failed;
    if (chunk.length === 0) return [];
    const incoming = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let data = this.pending.length === 0 ? incoming : Buffer.concat([this.pending, incoming]);
    const frames: FwupFrame[] = [];
    let offset = 0;
    try {
      for (;;) {
        const available = data.length - offset;
        if (available === 0) break;
        if (this.handshakeStatus !== undefined) {
          throw new FwupFramingError("Invalid framing: data after the exit handshake");
        }
        if (this.exitHandshake && this.terminalSeen && data[offset] === FWUP_EXIT_HANDSHAKE_BYTE) {
          if (available < 2) break;
          this.handshakeStatus = data[offset + 1];
          offset += 2;
          continue;
        }
        if (available < 4) break;
        const length = data.readUInt32BE(offset);
        if (length < 4) {
          throw new FwupFramingError(`Invalid framing: record length ${length} is below 4`);
        }
        if (length > this.maxFrameLength) {
          throw new FwupFramingError(
            `Invalid framing: record length ${length} exceeds the limit of ${this.maxFrameLength}`,
          );
        }
        // The type is checked as soon as it has arrived, so garbage fails early.
        if (available >= 6) checkType(data, offset + 4);
        if (available < 4 + length) break;
        const type = data.toString("latin1", offset + 4, offset + 6) as FwupFrameType;
        const code = data.readUInt16BE(offset + 6);
        const text = data.toString("utf8", offset + 8, offset + 4 + length);
        frames.push({ type, code, text });
        if (type === "OK" || type === "ER") this.terminalSeen = true;
        offset += 4 + length;
      }
    } catch (error) {
      this.failed = error as FwupFramingError;
      this.pending = Buffer.alloc(0);
      throw error;
    }
    data = data.subarray(offset);
    // Copy so a caller's reused chunk buffer cannot change what is kept.
    this.pending = data.length === 0 ? Buffer.alloc(0) : Buffer.from(data);
    return frames;
  }

  /** Declares the end of the output; throws when an incomplete record is left over. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.pending.length > 0) {
      const error = new FwupFramingError(
        `Invalid framing: ${this.pending.length} trailing byte(s) do not form a record`,
      );
      this.failed = error;
      throw error;
    }
  }
}

function checkType(data: Buffer, offset: number): void {
  const type = data.toString("latin1", offset, offset + 2);
  if (!TYPES.has(type)) {
    throw new FwupFramingError(`Invalid framing: unknown record type ${JSON.stringify(type)}`);
  }
}

/** Decodes a complete output at once (`push` + `end`). */
export function decodeFwupFrames(
  output: Uint8Array,
  options?: FwupFrameDecoderOptions,
): FwupFrame[] {
  const decoder = new FwupFrameDecoder(options);
  const frames = decoder.push(output);
  decoder.end();
  return frames;
}

/** Encodes one record exactly as fwup does (for stand-ins, tests and tools). */
export function encodeFwupFrame(frame: FwupFrame): Buffer {
  if (!TYPES.has(frame.type)) throw new TypeError(`unknown fwup record type ${frame.type}`);
  if (!Number.isInteger(frame.code) || frame.code < 0 || frame.code > 0xffff) {
    throw new RangeError(`fwup record code must be 0–65535: got ${frame.code}`);
  }
  const text = Buffer.from(frame.text, "utf8");
  const record = Buffer.alloc(8 + text.length);
  record.writeUInt32BE(4 + text.length, 0);
  record.write(frame.type, 4, "latin1");
  record.writeUInt16BE(frame.code, 6);
  text.copy(record, 8);
  return record;
}

/** Frames a chunk of input for fwup's stdin: `[u32 BE length][bytes]`. */
export function encodeFwupInput(chunk: Uint8Array): Buffer {
  const record = Buffer.alloc(4 + chunk.length);
  record.writeUInt32BE(chunk.length, 0);
  record.set(chunk, 4);
  return record;
}

/** The zero-length input record that tells fwup the input is over. */
export const FWUP_INPUT_END: Readonly<Uint8Array> = Uint8Array.of(0, 0, 0, 0);

/** Percent (0–100, clamped) of a `PR` record; `undefined` for other records. */
export function fwupProgress(frame: FwupFrame): number | undefined {
  if (frame.type !== "PR") return undefined;
  return Math.min(100, Math.max(0, frame.code));
}

/**
 * Turns a stream of `PR` records into progress reports that only ever go up, at most one per
 * `minStep` percent, always including 100: what a fleet server wants to see.
 */
export function createProgressFilter(minStep = 1): (frame: FwupFrame) => number | undefined {
  let last = -1;
  return (frame) => {
    const percent = fwupProgress(frame);
    if (percent === undefined || percent <= last) return undefined;
    if (percent !== 100 && last >= 0 && percent - last < minStep) return undefined;
    last = percent;
    return percent;
  };
}
