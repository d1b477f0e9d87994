import { deflateSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeExternalTerm } from "../src/auth/etf.js";
import { tokenPayload } from "./support/nh1-sign.js";

const hex = (text: string) => new Uint8Array(Buffer.from(text, "hex"));

describe("decodeExternalTerm", () => {
  it('decodes the reference\'s token payload {"tnh-unit-test", 1700000000000, 86400}', () => {
    const result = decodeExternalTerm(
      hex("8368036D0000000D746E682D756E69742D746573746E06000068E5CF8B016200015180"),
    );
    expect(result).toEqual({
      ok: true,
      term: {
        type: "tuple",
        elements: [
          { type: "binary", value: new Uint8Array(Buffer.from("tnh-unit-test")) },
          { type: "integer", value: 1_700_000_000_000n },
          { type: "integer", value: 86_400n },
        ],
      },
    });
  });

  it("decodes small, 32-bit, small-big and large-big integers with their signs", () => {
    expect(decodeExternalTerm(hex("83617f"))).toMatchObject({ term: { value: 127n } });
    expect(decodeExternalTerm(hex("8362ffffffff"))).toMatchObject({ term: { value: -1n } });
    expect(decodeExternalTerm(hex("836e020100ff"))).toMatchObject({ term: { value: -65280n } });
    expect(decodeExternalTerm(hex("836f000000020000ff"))).toMatchObject({
      term: { value: 65280n },
    });
  });

  it("decodes floats, atoms, nil, strings, lists and maps (the other token shapes)", () => {
    // %{data: "x", signed: 5}
    const map = hex("837400000002770464617461" + "6d0000000178" + "77067369676e6564" + "6105");
    expect(decodeExternalTerm(map)).toMatchObject({ ok: true, term: { type: "map" } });
    expect(decodeExternalTerm(hex("83463ff8000000000000"))).toMatchObject({ term: { value: 1.5 } });
    expect(decodeExternalTerm(hex("836a"))).toEqual({ ok: true, term: { type: "nil" } });
    expect(decodeExternalTerm(hex("836b00026869"))).toMatchObject({ term: { type: "list" } });
    expect(decodeExternalTerm(hex("836c000000016101" + "6a"))).toMatchObject({
      term: { type: "list" },
    });
  });

  it("inflates compressed terms", () => {
    const inner = tokenPayload("compressed-id", 1_700_000_000_000).subarray(1);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(inner.length);
    const compressed = Buffer.concat([Buffer.from([131, 80]), size, deflateSync(inner)]);
    expect(decodeExternalTerm(new Uint8Array(compressed))).toMatchObject({
      ok: true,
      term: { type: "tuple" },
    });
  });

  it("refuses a wrong version byte, truncation, trailing bytes and unsupported tags", () => {
    expect(decodeExternalTerm(hex("8468"))).toMatchObject({ ok: false });
    expect(decodeExternalTerm(hex("836d000000ff61"))).toMatchObject({
      ok: false,
      reason: "truncated term",
    });
    expect(decodeExternalTerm(hex("83610100"))).toMatchObject({
      ok: false,
      reason: "bytes after the term",
    });
    expect(decodeExternalTerm(hex("8371"))).toMatchObject({ ok: false });
    expect(decodeExternalTerm(hex(""))).toMatchObject({ ok: false });
  });

  it("property: never throws, whatever the bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const withVersion = new Uint8Array([131, ...bytes]);
        expect(() => decodeExternalTerm(withVersion)).not.toThrow();
        expect(() => decodeExternalTerm(bytes)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it("property: decodes every token the NH1 signer writes", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 50 }),
        fc.integer({ min: 0, max: 2 ** 52 }),
        (identifier, signedMs) => {
          const result = decodeExternalTerm(new Uint8Array(tokenPayload(identifier, signedMs)));
          expect(result).toMatchObject({ ok: true });
          if (result.ok && result.term.type === "tuple") {
            expect(result.term.elements[1]).toEqual({ type: "integer", value: BigInt(signedMs) });
          }
        },
      ),
    );
  });
});
