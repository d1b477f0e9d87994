import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EnvelopeError, openEnvelope, sealEnvelope } from "../src/index.js";

const format = { magic: "TEST", version: 3 };

describe("envelope", () => {
  it("round-trips any payload", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (payload) => {
        const opened = openEnvelope(sealEnvelope(payload, format), format);
        expect(opened.version).toBe(3);
        expect([...opened.payload]).toEqual([...payload]);
      }),
    );
  });

  it("rejects every truncation", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 256 }), fc.nat(), (payload, cut) => {
        const sealed = sealEnvelope(payload, format);
        const truncated = sealed.subarray(0, cut % sealed.length);
        expect(() => openEnvelope(truncated, format)).toThrow(EnvelopeError);
      }),
    );
  });

  it("rejects every single-byte corruption", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 256 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (payload, position, flip) => {
          const sealed = Buffer.from(sealEnvelope(payload, format));
          const index = position % sealed.length;
          sealed[index] = sealed[index]! ^ flip;
          // A flipped version byte is still a well-formed envelope: only that is allowed through.
          if (index === format.magic.length) return;
          expect(() => openEnvelope(sealed, format)).toThrow(EnvelopeError);
        },
      ),
    );
  });

  it("names what is wrong", () => {
    const sealed = sealEnvelope(Buffer.from("hello"), format);
    const code = (bytes: Uint8Array) => {
      try {
        openEnvelope(bytes, format);
        return "ok";
      } catch (error) {
        return (error as EnvelopeError).code;
      }
    };
    expect(code(sealed.subarray(0, 10))).toBe("TRUNCATED");
    expect(code(sealed.subarray(0, sealed.length - 1))).toBe("TRUNCATED");
    expect(code(Buffer.concat([sealed, Buffer.from([0])]))).toBe("BAD_LENGTH");
    expect(code(Buffer.concat([Buffer.from("XEST"), sealed.subarray(4)]))).toBe("BAD_HEADER");
    const corrupt = Buffer.from(sealed);
    corrupt[12] = corrupt[12]! ^ 1;
    expect(code(corrupt)).toBe("BAD_CHECKSUM");
  });

  it("refuses a bad magic or version when sealing", () => {
    expect(() => sealEnvelope(Buffer.alloc(0), { magic: "", version: 1 })).toThrow(TypeError);
    expect(() => sealEnvelope(Buffer.alloc(0), { magic: "TOOLONGMAGIC", version: 1 })).toThrow(
      TypeError,
    );
    expect(() => sealEnvelope(Buffer.alloc(0), { magic: "OK", version: 256 })).toThrow(RangeError);
  });
});
