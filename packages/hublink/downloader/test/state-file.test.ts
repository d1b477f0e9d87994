import { sealEnvelope } from "@runtime/atomic-file";
import { describe, expect, it } from "vitest";
import { decodePartialState, encodePartialState } from "../src/state-file.js";

const seal = (value: unknown, version = 1) =>
  sealEnvelope(Buffer.from(JSON.stringify(value)), { magic: "HLDLPART", version });

describe("partial state file", () => {
  it("round-trips every field", () => {
    const state = {
      key: "https://cdn.example/fw.fw",
      bytes: 1234,
      etag: '"abc"',
      lastModified: "Wed, 21 Oct 2026 07:28:00 GMT",
      total: 5000,
      sha256: "a".repeat(64),
      size: 5000,
    };
    expect(decodePartialState(encodePartialState(state))).toEqual(state);
    expect(decodePartialState(encodePartialState({ key: "k", bytes: 0 }))).toEqual({
      key: "k",
      bytes: 0,
    });
  });

  it("rejects every truncation and every flipped byte", () => {
    const bytes = encodePartialState({ key: "https://cdn.example/fw.fw", bytes: 99, etag: '"x"' });
    for (let length = 0; length < bytes.length; length++) {
      expect(() => decodePartialState(bytes.subarray(0, length))).toThrow();
    }
    for (let index = 0; index < bytes.length; index++) {
      const corrupt = Buffer.from(bytes);
      corrupt[index] = (corrupt[index] ?? 0) ^ 0x01;
      expect(() => decodePartialState(corrupt)).toThrow();
    }
  });

  it("rejects well-sealed content that does not make sense", () => {
    expect(() => decodePartialState(seal({ key: "k", bytes: 1 }, 2))).toThrow(/version/);
    expect(() => decodePartialState(seal([]))).toThrow(/object/);
    expect(() => decodePartialState(seal({ bytes: 1 }))).toThrow(/key/);
    expect(() => decodePartialState(seal({ key: "k", bytes: -1 }))).toThrow(/byte count/);
    expect(() => decodePartialState(seal({ key: "k", bytes: 1, etag: 5 }))).toThrow(/etag/);
    expect(() => decodePartialState(seal({ key: "k", bytes: 1, total: "x" }))).toThrow(/total/);
    expect(() => decodePartialState(seal({ key: "k", bytes: 10, total: 5 }))).toThrow(/more bytes/);
  });
});
