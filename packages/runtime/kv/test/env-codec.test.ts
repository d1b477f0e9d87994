import { isDeepStrictEqual } from "node:util";
import { crc32 } from "node:zlib";
import { ValidationError } from "@runtime/errors";
import { describe, expect, it } from "vitest";
import {
  decodeEnvRecords,
  type EnvCopy,
  encodeEnvBlock,
  entriesToRecords,
  planEnvWrite,
} from "../src/env-codec.js";
import {
  decodeEnvBlock,
  EnvTooLargeError,
  isNewerFlag,
  parseEnvData,
  readEnvBlocks,
  recordsToEntries,
  serializeEnvBlock,
  serializeEnvData,
  UBootEnvError,
} from "../src/index.js";

/** A block built by hand from the documented layout, not by the code under test. */
function handBlock(text: string, size: number, flag?: number): Buffer {
  const header = flag === undefined ? 4 : 5;
  const block = Buffer.alloc(size, 0xff);
  Buffer.from(text, "latin1").copy(block, header);
  if (flag !== undefined) block[4] = flag;
  block.writeUInt32LE(crc32(block.subarray(header)) >>> 0, 0);
  return block;
}

describe("block layout", () => {
  it('matches the reference test vectors for "testing" in a 1024-byte block', () => {
    // Data "testing" (no terminator) padded with 0xFF, as in uboot_env's own tests.
    const single = Buffer.alloc(1024, 0xff);
    single.write("testing", 4, "latin1");
    single.writeUInt32LE(crc32(single.subarray(4)) >>> 0, 0);
    expect([...single.subarray(0, 4)]).toEqual([0x93, 0x36, 0xb1, 0x65]);
    expect(decodeEnvBlock(single, "single")).toMatchObject({ valid: true, flag: undefined });

    const redundant = Buffer.alloc(1024, 0xff);
    redundant[4] = 5;
    redundant.write("testing", 5, "latin1");
    redundant.writeUInt32LE(crc32(redundant.subarray(5)) >>> 0, 0);
    expect([...redundant.subarray(0, 4)]).toEqual([0x81, 0x25, 0x85, 0x0e]);
    expect(decodeEnvBlock(redundant, "redundant")).toMatchObject({ valid: true, flag: 5 });
  });

  it("writes header, sorted pairs, the extra NUL and 0xFF padding, byte for byte", () => {
    const block = serializeEnvBlock({ b: "2", a: "1" }, { size: 32, layout: "single" });
    expect(block).toEqual(handBlock("a=1\0b=2\0\0", 32));
    const redundant = serializeEnvBlock(
      { b: "2", a: "1" },
      { size: 32, layout: "redundant", flag: 7 },
    );
    expect(redundant).toEqual(handBlock("a=1\0b=2\0\0", 32, 7));
  });

  it("keeps the flag outside the CRC: changing it leaves the block valid", () => {
    const block = serializeEnvBlock({ a: "1" }, { size: 64, layout: "redundant", flag: 1 });
    block[4] = 200;
    expect(decodeEnvBlock(block, "redundant")).toMatchObject({ valid: true, flag: 200 });
    block[10] = block[10]! ^ 1;
    expect(decodeEnvBlock(block, "redundant")).toMatchObject({ valid: false });
  });

  it("takes the flag modulo 256", () => {
    const block = serializeEnvBlock({}, { size: 16, layout: "redundant", flag: 256 + 3 });
    expect(block[4]).toBe(3);
  });

  it("an empty environment is a single NUL", () => {
    expect(serializeEnvData({})).toEqual(Buffer.from([0]));
    expect(serializeEnvBlock({}, { size: 8, layout: "single" })).toEqual(handBlock("\0", 8));
  });

  it("encodes UTF-8 and decodes it back", () => {
    const data = serializeEnvData({ author: "Jöhn Døe ✓" });
    expect(data).toEqual(Buffer.from("author=Jöhn Døe ✓\0\0", "utf8"));
    expect(parseEnvData(data)).toEqual({ author: "Jöhn Døe ✓" });
  });

  it("keeps values with newlines and '=' intact", () => {
    const entries = { script: "a=b\nc=d\n", "x.y": "" };
    expect(parseEnvData(serializeEnvData(entries))).toEqual(entries);
  });
});

describe("data decoding", () => {
  const decode = (text: string) => parseEnvData(Buffer.from(text, "latin1"));

  it("stops at the first empty record, whatever the padding", () => {
    expect(decode("a=1\0b=2\0\0c=3\0\0")).toEqual({ a: "1", b: "2" });
    expect(decode(`a=1\0\0${"\0".repeat(20)}`)).toEqual({ a: "1" });
    expect(decode(`a=1\0\0${"\xff".repeat(20)}`)).toEqual({ a: "1" });
    expect(decode("\0a=1\0\0")).toEqual({});
  });

  it("reads a record without '=' as an empty value, and splits on the first '='", () => {
    expect(decode("flag\0k=v=w\0\0")).toEqual({ flag: "", k: "v=w" });
  });

  it("keeps the first of duplicate keys, like U-Boot", () => {
    expect(decode("k=first\0k=second\0\0")).toEqual({ k: "first" });
  });

  it("round-trips an empty key read from elsewhere", () => {
    expect(decode("=x\0\0")).toEqual({ "": "x" });
  });

  it("returns prototype-free entries: keys like __proto__ and constructor are plain data", () => {
    const entries = decode("__proto__=x\0constructor=y\0\0");
    expect(Object.getPrototypeOf(entries)).toBeNull();
    expect(Object.keys(entries)).toEqual(["__proto__", "constructor"]);
    expect(entries.constructor).toBe("y");
    expect(decode("a=1\0\0").toString).toBeUndefined();
    expect(parseEnvData(serializeEnvData(entries))).toEqual(entries);
  });

  it("stops at a trailing NUL without its partner", () => {
    expect(decode("a=1\0")).toEqual({ a: "1" });
  });

  it("reads a last record that runs to the end of the data", () => {
    expect(decode("a=1\0b=2")).toEqual({ a: "1", b: "2" });
  });

  it("keeps bytes that are not UTF-8 exactly when re-encoded (byte strings)", () => {
    const raw = Buffer.from([0x6b, 0x3d, 0xff, 0xfe, 0x80, 0, 0]); // k=\xff\xfe\x80
    const records = decodeEnvRecords(raw);
    const block = encodeEnvBlock(records, { size: 16, layout: "single" });
    expect(block.subarray(4, 11)).toEqual(raw);
    // The string view shows replacement characters but never changes the stored bytes.
    expect(recordsToEntries(records).k).toBe("\ufffd\ufffd\ufffd");
  });
});

describe("validation before writing", () => {
  it.each([
    ["a=b", "1", 'key must not contain "="'],
    ["a\0b", "1", "key must not contain a NUL byte"],
    ["", "1", "key must not be empty"],
    ["good", "x\0y", "value must not contain a NUL byte"],
    ["lone", "\ud800", "lone surrogate"],
  ])("refuses key %j value %j", (key, value, reason) => {
    const error = (() => {
      try {
        serializeEnvData({ [key]: value });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe("INVALID_ENV_ENTRY");
    expect((error as ValidationError).reason).toContain(reason);
    if (key !== "") expect((error as ValidationError).path).toBe(key);
  });

  it("names every bad key at once", () => {
    try {
      serializeEnvData({ "a=": "1", ok: "2", "b\0": "3" });
      expect.unreachable();
    } catch (error) {
      expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual(["a=", "b\0"]);
    }
  });

  it("never shows the value of a secret-looking key in the error", () => {
    try {
      serializeEnvData({ nerves_hub_key: "-----BEGIN\0" });
      expect.unreachable();
    } catch (error) {
      expect((error as ValidationError).value).toBe("****");
      expect((error as Error).message).not.toContain("BEGIN");
    }
  });

  it("refuses an environment larger than its block, saying how large", () => {
    const entries = { key: "v".repeat(100) };
    // 3 + 1 + 100 + 1 + 1 = 106 bytes of data.
    expect(() => serializeEnvBlock(entries, { size: 110, layout: "single" })).not.toThrow();
    expect(() => serializeEnvBlock(entries, { size: 110, layout: "redundant" })).toThrow(
      EnvTooLargeError,
    );
    try {
      serializeEnvBlock(entries, { size: 64, layout: "redundant" });
    } catch (error) {
      expect(error).toMatchObject({ code: "ENV_TOO_LARGE", bytesNeeded: 106, capacity: 59 });
    }
  });

  it("fits data that fills the block exactly, with no padding", () => {
    const block = serializeEnvBlock({ k: "vv" }, { size: 4 + 6, layout: "single" });
    expect(parseEnvData(block.subarray(4))).toEqual({ k: "vv" });
  });
});

describe("choosing the current copy", () => {
  // Pairs observed with libubootenv's fw_printenv 0.3.2 on this machine (copy 0 flag, copy 1
  // flag, chosen copy); the integration tests check the same against the real tool.
  const observed: Array<[number, number, number]> = [
    [10, 200, 1],
    [200, 10, 0],
    [255, 0, 1],
    [0, 255, 0],
    [5, 5, 0],
    [127, 0, 0],
    [0, 128, 1],
    [128, 0, 0],
    [1, 129, 1],
  ];
  it.each(observed)("flags %i and %i → copy %i, as fw_printenv chooses", (a, b, chosen) => {
    const image = readEnvBlocks([handBlock("who=0\0\0", 64, a), handBlock("who=1\0\0", 64, b)], {
      layout: "redundant",
    });
    expect(image.copy).toBe(chosen);
    expect(recordsToEntries(image.records).who).toBe(String(chosen));
  });

  it("isNewerFlag agrees with a step-by-step reading of U-Boot's rule for all 65,536 pairs", () => {
    for (let a = 0; a < 256; a++) {
      for (let b = 0; b < 256; b++) {
        let expected: boolean;
        if (a === 0 && b === 255) expected = true;
        else if (a === 255 && b === 0) expected = false;
        else expected = a > b;
        if (isNewerFlag(a, b) !== expected) throw new Error(`isNewerFlag(${a}, ${b})`);
      }
    }
    // And a successor is always newer than its predecessor, including across the wrap.
    for (let a = 0; a < 256; a++) expect(isNewerFlag((a + 1) & 0xff, a)).toBe(true);
  });

  it("uses the only valid copy when the other is corrupt, short or missing", () => {
    const good = handBlock("k=good\0\0", 64, 3);
    const corrupt = handBlock("k=newer\0\0", 64, 4);
    corrupt[20] = corrupt[20]! ^ 0xff;
    const image = readEnvBlocks([corrupt, good], { layout: "redundant", size: 64 });
    expect(image).toMatchObject({ copy: 1, flag: 3 });
    expect(image.copies[0]).toMatchObject({ valid: false, reason: expect.stringMatching(/CRC/) });
    expect(
      readEnvBlocks([good, good.subarray(0, 30)], { layout: "redundant", size: 64 }),
    ).toMatchObject({
      copy: 0,
      copies: [{ valid: true }, { valid: false, reason: "short: 30 of 64 bytes" }],
    });
    expect(readEnvBlocks([undefined, good], { layout: "redundant" }).copy).toBe(1);
  });

  it("throws ENV_NO_VALID_COPY naming each copy's problem", () => {
    const bad = handBlock("k=v\0\0", 64, 1);
    bad[0] = bad[0]! ^ 1;
    try {
      readEnvBlocks([bad, Buffer.alloc(64, 0xff)], {
        layout: "redundant",
        where: ["/dev/x @ 0x0", "/dev/x @ 0x40"],
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UBootEnvError);
      expect((error as UBootEnvError).code).toBe("ENV_NO_VALID_COPY");
      expect((error as UBootEnvError).problems).toHaveLength(2);
      expect((error as Error).message).toContain("copy 1 (/dev/x @ 0x40): CRC mismatch");
    }
  });

  it("an all-0xFF (erased) block is not valid", () => {
    expect(decodeEnvBlock(Buffer.alloc(64, 0xff), "single").valid).toBe(false);
  });
});

describe("planning a write", () => {
  const valid = (flag?: number): EnvCopy => ({ valid: true, flag, data: Buffer.from([0]) });
  const invalid: EnvCopy = { valid: false, reason: "CRC mismatch" };

  it.each([
    ["both invalid", [invalid, invalid], { copy: 0, flag: 0 }],
    ["copy 0 valid", [valid(7), invalid], { copy: 1, flag: 8 }],
    ["copy 1 valid", [invalid, valid(7)], { copy: 0, flag: 8 }],
    ["copy 0 newer", [valid(8), valid(7)], { copy: 1, flag: 9 }],
    ["copy 1 newer", [valid(7), valid(8)], { copy: 0, flag: 9 }],
    ["tie: copy 0 counts as newer", [valid(5), valid(5)], { copy: 1, flag: 6 }],
    ["wrap: 255 → 0", [valid(255), valid(254)], { copy: 1, flag: 0 }],
    ["after the wrap, 0 is newer than 255", [valid(255), valid(0)], { copy: 0, flag: 1 }],
  ] as const)("%s", (_name, copies, plan) => {
    expect(planEnvWrite(copies, "redundant")).toEqual(plan);
  });

  it("single layout always writes copy 0 without a flag", () => {
    expect(planEnvWrite([valid()], "single")).toEqual({ copy: 0, flag: undefined });
    expect(planEnvWrite([invalid], "single")).toEqual({ copy: 0, flag: undefined });
  });

  it("never targets the copy that is read, over 600 consecutive writes", () => {
    let blocks: Buffer[] = [Buffer.alloc(128, 0xff), Buffer.alloc(128, 0xff)];
    for (let generation = 0; generation < 600; generation++) {
      const copies = blocks.map((block) => decodeEnvBlock(block, "redundant"));
      const current = (() => {
        try {
          return readEnvBlocks(blocks, { layout: "redundant" }).copy;
        } catch {
          return undefined;
        }
      })();
      const plan = planEnvWrite(copies, "redundant");
      expect(plan.copy).not.toBe(current);
      const block = encodeEnvBlock(entriesToRecords({ generation: String(generation) }), {
        size: 128,
        layout: "redundant",
        flag: plan.flag!,
      });
      blocks = blocks.map((old, index) => (index === plan.copy ? block : old));
      const image = readEnvBlocks(blocks, { layout: "redundant" });
      expect(recordsToEntries(image.records).generation).toBe(String(generation));
    }
  });
});

describe("a power cut during a write", () => {
  // The write of the new block into the target copy is cut after every possible number of bytes
  // (the rest of the copy keeps its old bytes, as on a real medium). The reader must always see
  // either the complete previous environment or the complete new one, never anything else.
  it("redundant: the previous environment survives a cut at every byte", () => {
    const size = 256;
    const before = { version: "1.0.0", serial: "A1" };
    const after = { version: "2.0.0", serial: "A1", extra: "x".repeat(100) };
    const older = serializeEnvBlock({ version: "0.9.0" }, { size, layout: "redundant", flag: 41 });
    const current = serializeEnvBlock(before, { size, layout: "redundant", flag: 42 });
    for (const [first, second] of [
      [older, current],
      [current, older],
    ] as const) {
      const copies = [first, second].map((block) => decodeEnvBlock(block, "redundant"));
      const plan = planEnvWrite(copies, "redundant");
      const next = serializeEnvBlock(after, { size, layout: "redundant", flag: plan.flag! });
      let sawNew = false;
      for (let cut = 0; cut <= size; cut++) {
        const torn = Buffer.from(plan.copy === 0 ? first : second);
        next.copy(torn, 0, 0, cut);
        const blocks = plan.copy === 0 ? [torn, second] : [first, torn];
        const seen = recordsToEntries(readEnvBlocks(blocks, { layout: "redundant" }).records);
        // Once the new data is complete the rest is identical 0xFF padding, so the new block can
        // become valid before the last byte; after that it stays valid.
        if (sawNew) expect(seen).toEqual(after);
        else if (isDeepStrictEqual({ ...seen }, after)) sawNew = true;
        else expect(seen).toEqual(before);
      }
      expect(sawNew).toBe(true);
    }
  });

  it("single: a cut between the first and last changed byte loses the environment", () => {
    // The honest answer for a single copy: there is nothing to fall back to. U-Boot then boots
    // with its built-in default environment; see README ("Single-copy environments").
    const size = 256;
    const old = serializeEnvBlock({ version: "1.0.0" }, { size, layout: "single" });
    const next = serializeEnvBlock({ version: "2.0.0" }, { size, layout: "single" });
    const differing = [...old.keys()].filter((index) => old[index] !== next[index]);
    const firstChanged = differing[0]!;
    const lastChanged = differing.at(-1)!;
    for (let cut = 0; cut <= size; cut++) {
      const torn = Buffer.from(old);
      next.copy(torn, 0, 0, cut);
      const read = () => recordsToEntries(readEnvBlocks([torn], { layout: "single" }).records);
      if (cut <= firstChanged) expect(read()).toEqual({ version: "1.0.0" });
      else if (cut > lastChanged) expect(read()).toEqual({ version: "2.0.0" });
      else expect(read).toThrow(expect.objectContaining({ code: "ENV_NO_VALID_COPY" }));
    }
  });
});
