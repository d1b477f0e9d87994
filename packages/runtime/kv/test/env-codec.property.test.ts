// Property-based tests of the codec's public entry points (fast-check).
import { ValidationError } from "@runtime/errors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeEnvBlock,
  EnvTooLargeError,
  formatFwEnvConfig,
  parseEnvData,
  parseFwEnvConfig,
  planEnvWrite,
  readEnvBlocks,
  recordsToEntries,
  serializeEnvBlock,
  serializeEnvData,
} from "../src/index.js";

const LONE_SURROGATE = /\p{Cs}/u;
const text = fc.string({ unit: "binary", maxLength: 40 }).filter((s) => !LONE_SURROGATE.test(s));
const validKey = text.filter((s) => s !== "" && !s.includes("=") && !s.includes("\0"));
const validValue = text.filter((s) => !s.includes("\0"));
const validEntries = fc.dictionary(validKey, validValue, { maxKeys: 30 });

describe("codec properties", () => {
  it("parse(serialize(env)) returns env for any valid entries", () => {
    fc.assert(
      fc.property(validEntries, (entries) => {
        expect(parseEnvData(serializeEnvData(entries))).toEqual(entries);
      }),
    );
  });

  it("a block round-trips when the data fits, and is refused before writing when it does not", () => {
    fc.assert(
      fc.property(
        validEntries,
        fc.integer({ min: 8, max: 4096 }),
        fc.constantFrom("single" as const, "redundant" as const),
        fc.integer({ min: 0, max: 255 }),
        (entries, size, layout, flag) => {
          const needed = serializeEnvData(entries).length;
          const capacity = size - (layout === "redundant" ? 5 : 4);
          if (needed > capacity) {
            expect(() => serializeEnvBlock(entries, { size, layout, flag })).toThrow(
              EnvTooLargeError,
            );
            return;
          }
          const block = serializeEnvBlock(entries, { size, layout, flag });
          expect(block.length).toBe(size);
          const copy = decodeEnvBlock(block, layout);
          expect(copy.valid).toBe(true);
          if (copy.valid) {
            expect(parseEnvData(copy.data)).toEqual(entries);
            expect(copy.flag).toBe(layout === "redundant" ? flag : undefined);
          }
        },
      ),
    );
  });

  it("any single corrupt copy of a redundant environment still reads the other", () => {
    fc.assert(
      fc.property(
        validEntries,
        validEntries,
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.boolean(),
        (olderEntries, newerEntries, olderFlag, newerFirst, position, xor, corruptNewer) => {
          const size = 2048;
          const older = serializeEnvBlock(olderEntries, {
            size,
            layout: "redundant",
            flag: olderFlag,
          });
          // The newer copy is what a writer makes: flag + 1 into the other slot.
          const plan = planEnvWrite(
            newerFirst
              ? [{ valid: false, reason: "x" }, decodeEnvBlock(older, "redundant")]
              : [decodeEnvBlock(older, "redundant"), { valid: false, reason: "x" }],
            "redundant",
          );
          const newer = serializeEnvBlock(newerEntries, {
            size,
            layout: "redundant",
            flag: plan.flag!,
          });
          const blocks = newerFirst ? [newer, older] : [older, newer];
          expect(recordsToEntries(readEnvBlocks(blocks, { layout: "redundant" }).records)).toEqual(
            newerEntries,
          );
          // Corrupt one byte anywhere the CRC covers (or the CRC itself), never the flag.
          const target = corruptNewer === newerFirst ? 0 : 1;
          const damaged = Buffer.from(blocks[target]!);
          let index = position % (size - 1);
          if (index >= 4) index += 1;
          damaged[index] = damaged[index]! ^ xor;
          const afterDamage = target === 0 ? [damaged, blocks[1]!] : [blocks[0]!, damaged];
          const expected = corruptNewer ? olderEntries : newerEntries;
          expect(
            recordsToEntries(readEnvBlocks(afterDamage, { layout: "redundant" }).records),
          ).toEqual(expected);
        },
      ),
    );
  });
});

describe("put validation properties", () => {
  it("accepts exactly the keys and values a U-Boot environment can hold", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 12 }),
        fc.string({ unit: "binary", maxLength: 12 }),
        (key, value) => {
          const keyOk =
            key !== "" && !key.includes("=") && !key.includes("\0") && !LONE_SURROGATE.test(key);
          const valueOk = !value.includes("\0") && !LONE_SURROGATE.test(value);
          const attempt = () => serializeEnvData({ [key]: value });
          if (keyOk && valueOk) {
            expect(parseEnvData(attempt())).toEqual({ [key]: value });
          } else {
            expect(attempt).toThrow(ValidationError);
          }
        },
      ),
    );
  });

  it("a key containing '=' or NUL is refused with an error naming that key", () => {
    fc.assert(
      fc.property(validKey, validKey, fc.constantFrom("=", "\0"), (left, right, bad) => {
        const key = `${left}${bad}${right}`;
        try {
          serializeEnvData({ [key]: "v" });
          expect.unreachable();
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          expect((error as ValidationError).path).toBe(key);
        }
      }),
    );
  });
});

describe("fw_env.config properties", () => {
  it("parse(format(locations)) returns the locations", () => {
    const location = fc.record({
      path: fc.stringMatching(/^\/[a-z0-9/_.-]{1,30}$/),
      offset: fc.nat({ max: 2 ** 40 }),
      size: fc.integer({ min: 8, max: 2 ** 24 }),
    });
    fc.assert(
      fc.property(fc.oneof(fc.tuple(location), fc.tuple(location, location)), (locations) => {
        const sized = locations.map((entry) => ({ ...entry, size: locations[0].size }));
        const parsed = parseFwEnvConfig(formatFwEnvConfig(sized));
        expect(parsed.locations).toEqual(sized);
        expect(parsed.layout).toBe(sized.length === 2 ? "redundant" : "single");
        expect(parsed.warnings).toEqual([]);
      }),
    );
  });
});
