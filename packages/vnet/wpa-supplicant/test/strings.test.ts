import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeConfigString, decodePrintfEscapes, encodeConfigString } from "../src/index.js";

const bytes = (text: string) => Uint8Array.from(Buffer.from(text, "latin1"));

describe("encodeConfigString", () => {
  it.each([
    ["home", '"home"'],
    ["with space", '"with space"'],
    ["back\\slash", '"back\\slash"'],
    ["hash # inside", '"hash # inside"'],
    ["", '""'],
  ])(
    "quotes printable ASCII %j literally (wpa_supplicant has no escapes inside quotes)",
    (text, encoded) => {
      expect(encodeConfigString(text)).toBe(encoded);
    },
  );

  it.each([
    ['say "hi"', "7361792022686922"],
    ["new\nline", "6e65770a6c696e65"],
    ["Café", "436166c3a9"],
    ["☕", "e29895"],
    ["\u0000", "00"],
    ["tab\t", "74616209"],
    ["\u007f", "7f"],
  ])("hex-encodes %j, which is not plain printable ASCII", (text, encoded) => {
    expect(encodeConfigString(text)).toBe(encoded);
  });

  it("round-trips any bytes through decodeConfigString", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (value) => {
        expect(decodeConfigString(encodeConfigString(value))).toEqual(value);
      }),
    );
  });

  it("round-trips any string as UTF-8", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 20 }), (value) => {
        const decoded = decodeConfigString(encodeConfigString(value));
        expect(Buffer.from(decoded!).toString("utf8")).toBe(value);
      }),
      { numRuns: 50 },
    );
  });
});

describe("decodeConfigString", () => {
  it("reads the three forms wpa_supplicant accepts", () => {
    expect(decodeConfigString('"a\\"b"')).toEqual(bytes('a\\"b'));
    expect(decodeConfigString('P"a\\"b\\x00\\n"')).toEqual(bytes('a"b\u0000\n'));
    expect(decodeConfigString("616263")).toEqual(bytes("abc"));
  });

  it("is undefined for tokens, numbers and hidden keys", () => {
    expect(decodeConfigString("WPA-PSK")).toBeUndefined();
    expect(decodeConfigString("*")).toBeUndefined();
    expect(decodeConfigString("123")).toBeUndefined();
  });
});

describe("decodePrintfEscapes", () => {
  it("undoes wpa_supplicant's printf_encode", () => {
    expect(decodePrintfEscapes('hello \\\\\\"wo\\\\\\\\rld')).toEqual(bytes('hello \\"wo\\\\rld'));
    expect(decodePrintfEscapes("a\\x00b\\e\\t\\r\\n")).toEqual(bytes("a\u0000b\u001b\t\r\n"));
    expect(decodePrintfEscapes("trailing\\")).toEqual(bytes("trailing\\"));
    expect(decodePrintfEscapes("\\xZZ")).toEqual(bytes("\\xZZ"));
  });
});
