import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createProgressFilter,
  decodeFwupFrames,
  encodeFwupFrame,
  encodeFwupInput,
  FWUP_INPUT_END,
  type FwupFrame,
  FwupFrameDecoder,
  FwupFramingError,
  fwupProgress,
} from "../src/index.js";

/** A record built by hand from the documented layout, byte by byte. */
function record(type: string, code: number, text: number[] | string = []): Buffer {
  const body = typeof text === "string" ? [...Buffer.from(text, "utf8")] : text;
  const length = 4 + body.length;
  return Buffer.from([
    (length >>> 24) & 0xff,
    (length >>> 16) & 0xff,
    (length >>> 8) & 0xff,
    length & 0xff,
    type.charCodeAt(0),
    type.charCodeAt(1),
    (code >>> 8) & 0xff,
    code & 0xff,
    ...body,
  ]);
}

const SAMPLE: Array<[Buffer, FwupFrame]> = [
  [record("PR", 0), { type: "PR", code: 0, text: "" }],
  [record("PR", 57), { type: "PR", code: 57, text: "" }],
  [record("WN", 0, "a->b"), { type: "WN", code: 0, text: "a->b" }],
  [
    record("ER", 1, "Unexpected end of input"),
    { type: "ER", code: 1, text: "Unexpected end of input" },
  ],
  [record("OK", 0, "Success!"), { type: "OK", code: 0, text: "Success!" }],
  [record("OK", 0x1234, "é ✓"), { type: "OK", code: 0x1234, text: "é ✓" }],
];

describe("FwupFrameDecoder", () => {
  it("decodes byte-exact records of every type", () => {
    for (const [bytes, frame] of SAMPLE) expect(decodeFwupFrames(bytes)).toEqual([frame]);
  });

  it("encodes exactly the documented bytes", () => {
    for (const [bytes, frame] of SAMPLE) expect(encodeFwupFrame(frame)).toEqual(bytes);
    expect([...encodeFwupFrame({ type: "PR", code: 100, text: "" })]).toEqual([
      0, 0, 0, 4, 0x50, 0x52, 0, 100,
    ]);
  });

  it("accepts zero-length text (length field 4)", () => {
    expect(decodeFwupFrames(Buffer.from([0, 0, 0, 4, 0x4f, 0x4b, 0, 0]))).toEqual([
      { type: "OK", code: 0, text: "" },
    ]);
  });

  it("decodes a stream split at every byte boundary, one byte per chunk and in two parts", () => {
    const stream = Buffer.concat(SAMPLE.map(([bytes]) => bytes));
    const expected = SAMPLE.map(([, frame]) => frame);
    // Two chunks, split at every possible position.
    for (let split = 0; split <= stream.length; split++) {
      const decoder = new FwupFrameDecoder();
      const frames = [
        ...decoder.push(stream.subarray(0, split)),
        ...decoder.push(stream.subarray(split)),
      ];
      decoder.end();
      expect(frames).toEqual(expected);
    }
    // One byte at a time: a record comes out exactly when its last byte arrives.
    const decoder = new FwupFrameDecoder();
    const frames: FwupFrame[] = [];
    let boundary = 0;
    const ends = SAMPLE.map(([bytes]) => (boundary += bytes.length));
    for (let index = 0; index < stream.length; index++) {
      const out = decoder.push(stream.subarray(index, index + 1));
      expect(out.length).toBe(ends.includes(index + 1) ? 1 : 0);
      frames.push(...out);
    }
    decoder.end();
    expect(frames).toEqual(expected);
  });

  it("decodes any records split into any chunks (property)", () => {
    const frame = fc.record({
      type: fc.constantFrom("OK" as const, "ER" as const, "WN" as const, "PR" as const),
      code: fc.integer({ min: 0, max: 0xffff }),
      text: fc.string({ maxLength: 50 }),
    });
    fc.assert(
      fc.property(
        fc.array(frame, { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map(encodeFwupFrame));
          const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort(
            (a, b) => a - b,
          );
          const decoder = new FwupFrameDecoder();
          const decoded: FwupFrame[] = [];
          let previous = 0;
          for (const point of [...points, stream.length]) {
            decoded.push(...decoder.push(stream.subarray(previous, point)));
            previous = point;
          }
          decoder.end();
          expect(decoded).toEqual(frames);
        },
      ),
    );
  });

  it("does not keep a reference to the caller's chunk buffer", () => {
    const chunk = Buffer.from(record("WN", 0, "hello"));
    const decoder = new FwupFrameDecoder();
    decoder.push(chunk.subarray(0, 6));
    chunk.fill(0); // the caller reuses its buffer
    const full = record("WN", 0, "hello");
    expect(decoder.push(full.subarray(6))).toEqual([{ type: "WN", code: 0, text: "hello" }]);
  });

  it("refuses trailing garbage at the end: 'Invalid framing'", () => {
    const decoder = new FwupFrameDecoder();
    expect(decoder.push(Buffer.concat([record("OK", 0), Buffer.from([0, 0, 0])]))).toEqual([
      { type: "OK", code: 0, text: "" },
    ]);
    expect(decoder.buffered).toBe(3);
    expect(() => decoder.end()).toThrow(FwupFramingError);
    expect(() => decoder.end()).toThrow(/Invalid framing: 3 trailing byte/);
    // An incomplete record (header promises more than arrived) is also trailing garbage.
    expect(() => decodeFwupFrames(record("WN", 0, "truncated").subarray(0, 10))).toThrow(
      /Invalid framing/,
    );
  });

  it("refuses text output (fwup run without --framing) at once", () => {
    expect(() => decodeFwupFrames(Buffer.from("Success!\nElapsed time: 1.2 s\n"))).toThrow(
      /Invalid framing/,
    );
  });

  it("refuses a huge length prefix without waiting for (or buffering) its body", () => {
    const decoder = new FwupFrameDecoder({ maxFrameLength: 1024 });
    expect(() => decoder.push(Buffer.from([0, 0, 4, 1]))).toThrow(
      /record length 1025 exceeds the limit of 1024/,
    );
    expect(() => new FwupFrameDecoder().push(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toThrow(
      FwupFramingError,
    );
    // After an error the decoder stays failed.
    expect(() => decoder.push(record("OK", 0))).toThrow(/exceeds the limit/);
  });

  it("refuses a length below 4 and an unknown type", () => {
    expect(() => decodeFwupFrames(Buffer.from([0, 0, 0, 3, 0x4f, 0x4b, 0]))).toThrow(/below 4/);
    expect(() => decodeFwupFrames(record("XX", 0, "x"))).toThrow(/unknown record type "XX"/);
    // The type is checked as soon as its two bytes arrive, before the body.
    expect(() => new FwupFrameDecoder().push(Buffer.from([0, 0, 0, 100, 0x6f, 0x6b]))).toThrow(
      /unknown record type "ok"/,
    );
  });

  it("accepts the --exit-handshake trailer only when asked, after OK or ER", () => {
    const output = Buffer.concat([record("PR", 100), record("OK", 0), Buffer.from([0x1a, 0])]);
    const decoder = new FwupFrameDecoder({ exitHandshake: true });
    // Split inside the trailer.
    expect(decoder.push(output.subarray(0, output.length - 1))).toHaveLength(2);
    expect(decoder.exitStatus).toBeUndefined();
    expect(decoder.push(output.subarray(output.length - 1))).toEqual([]);
    expect(decoder.exitStatus).toBe(0);
    decoder.end();
    expect(() => decoder.push(record("WN", 0))).toThrow(/after the exit handshake/);

    const failed = new FwupFrameDecoder({ exitHandshake: true });
    failed.push(Buffer.concat([record("ER", 0, "bad"), Buffer.from([0x1a, 1])]));
    expect(failed.exitStatus).toBe(1);

    expect(() => decodeFwupFrames(output)).toThrow(/Invalid framing/);
    // Before OK/ER, 0x1A is the first byte of a (huge) length: refused.
    expect(() =>
      decodeFwupFrames(Buffer.concat([record("PR", 1), Buffer.from([0x1a, 0])]), {
        exitHandshake: true,
      }),
    ).toThrow(/Invalid framing/);
  });

  it("returns nothing for an empty chunk", () => {
    expect(new FwupFrameDecoder().push(new Uint8Array(0))).toEqual([]);
  });
});

describe("encodeFwupFrame", () => {
  it("refuses codes outside u16 and unknown types", () => {
    expect(() => encodeFwupFrame({ type: "OK", code: 65_536, text: "" })).toThrow(RangeError);
    expect(() => encodeFwupFrame({ type: "OK", code: -1, text: "" })).toThrow(RangeError);
    expect(() => encodeFwupFrame({ type: "XX" as "OK", code: 0, text: "" })).toThrow(TypeError);
  });
});

describe("fwup input framing", () => {
  it("prefixes every chunk with its u32 BE length; the end is a zero-length record", () => {
    expect([...encodeFwupInput(Uint8Array.of(9, 8, 7))]).toEqual([0, 0, 0, 3, 9, 8, 7]);
    expect([...encodeFwupInput(new Uint8Array(0x10203))].slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect([...FWUP_INPUT_END]).toEqual([0, 0, 0, 0]);
  });
});

describe("progress", () => {
  it("fwupProgress reads PR records only, clamped to 0–100", () => {
    expect(fwupProgress({ type: "PR", code: 42, text: "" })).toBe(42);
    expect(fwupProgress({ type: "PR", code: 250, text: "" })).toBe(100);
    expect(fwupProgress({ type: "OK", code: 42, text: "" })).toBeUndefined();
  });

  it("createProgressFilter reports increasing values, at least minStep apart, always 100", () => {
    const filter = createProgressFilter(10);
    const reported = [0, 1, 5, 10, 9, 15, 20, 35, 99, 100, 100].map((code) =>
      filter({ type: "PR", code, text: "" }),
    );
    expect(reported.filter((value) => value !== undefined)).toEqual([0, 10, 20, 35, 99, 100]);
    expect(filter({ type: "WN", code: 0, text: "x" })).toBeUndefined();
  });
});
