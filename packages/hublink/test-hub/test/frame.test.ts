import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeBinaryFrame,
  decodeTextFrame,
  encodeReply,
  encodeTextFrame,
  type JsonValue,
} from "../src/phoenix/frame.js";

const json = fc.jsonValue() as fc.Arbitrary<JsonValue>;
const refArbitrary = fc.oneof(fc.constant(null), fc.string(), fc.integer().map(String));

describe("Phoenix V2 text frames", () => {
  it("decodes the reference's join and heartbeat frames", () => {
    expect(decodeTextFrame('["1","1","device","phx_join",{"a":1}]')).toEqual({
      ok: true,
      frame: { joinRef: "1", ref: "1", topic: "device", event: "phx_join", payload: { a: 1 } },
    });
    expect(decodeTextFrame('[null,"7","phoenix","heartbeat",{}]')).toMatchObject({
      ok: true,
      frame: { joinRef: null, ref: "7", topic: "phoenix", event: "heartbeat" },
    });
  });

  it("takes the first five elements and ignores the rest, like the server", () => {
    expect(decodeTextFrame('[null,"1","t","e",{},"extra"]')).toMatchObject({ ok: true });
  });

  it("refuses what the server cannot decode", () => {
    expect(decodeTextFrame("not json")).toMatchObject({ ok: false });
    expect(decodeTextFrame('{"topic":"device"}')).toMatchObject({ ok: false });
    expect(decodeTextFrame('[null,"1","t","e"]')).toMatchObject({ ok: false });
  });

  it("encodes replies as the server's V2 serializer does", () => {
    expect(encodeReply(null, "7", "phoenix", "ok", {})).toBe(
      '[null,"7","phoenix","phx_reply",{"status":"ok","response":{}}]',
    );
  });

  it("property: encode then decode gives the same fields back", () => {
    fc.assert(
      fc.property(
        refArbitrary,
        refArbitrary,
        fc.string(),
        fc.string(),
        json,
        (joinRef, ref, topic, event, payload) => {
          const decoded = decodeTextFrame(encodeTextFrame(joinRef, ref, topic, event, payload));
          expect(decoded).toEqual({
            ok: true,
            frame: { joinRef, ref, topic, event, payload: JSON.parse(JSON.stringify(payload)) },
          });
        },
      ),
    );
  });

  it("property: decoding never throws", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          json.map((value) => JSON.stringify(value)),
        ),
        (text) => {
          expect(() => decodeTextFrame(text)).not.toThrow();
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("Phoenix V2 binary push frames", () => {
  const encode = (joinRef: string, ref: string, topic: string, event: string, data: Uint8Array) => {
    const parts = [joinRef, ref, topic, event].map((text) => Buffer.from(text));
    return new Uint8Array(
      Buffer.concat([Buffer.from([0, ...parts.map((part) => part.length)]), ...parts, data]),
    );
  };

  it("property: decodes what the push layout encodes", () => {
    const short = fc.string({ maxLength: 20, unit: "binary-ascii" });
    fc.assert(
      fc.property(
        short,
        short,
        short,
        short,
        fc.uint8Array({ maxLength: 40 }),
        (joinRef, ref, topic, event, data) => {
          expect(decodeBinaryFrame(encode(joinRef, ref, topic, event, data))).toEqual({
            ok: true,
            frame: { joinRef, ref, topic, event, payload: data },
          });
        },
      ),
    );
  });

  it("refuses other kinds and short frames, and never throws", () => {
    expect(decodeBinaryFrame(new Uint8Array([1, 0, 0, 0, 0]))).toMatchObject({ ok: false });
    expect(decodeBinaryFrame(new Uint8Array([0, 9, 0, 0, 0, 1]))).toMatchObject({ ok: false });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        expect(() => decodeBinaryFrame(bytes)).not.toThrow();
      }),
    );
  });
});
