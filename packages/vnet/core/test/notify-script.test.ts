import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodePayload,
  type EventRecord,
  encodeRecord,
  notifyScript,
  RELAYED_VARIABLES,
  RecordDecoder,
} from "../src/notify/script.js";

const record: EventRecord = {
  source: "udhcpc",
  args: ["bound"],
  env: {
    interface: "eth0",
    ip: "10.0.0.5",
    message: "line one\nline two ✓",
    dns: "1.1.1.1 8.8.8.8",
  },
};

describe("notify script framing", () => {
  it("round-trips a record, including newlines and UTF-8 in values", () => {
    const decoder = new RecordDecoder();
    expect(decoder.push(encodeRecord(record))).toEqual({ records: [record], errors: [] });
  });

  it("decodes any split of any sequence of records (property)", () => {
    const value = fc
      .string({ unit: "binary", maxLength: 40 })
      .filter((text) => !text.includes("\x1f"));
    const arbitraryRecord = fc.record({
      source: fc.constantFrom("udhcpc", "udhcpd"),
      args: fc.array(value, { maxLength: 3 }),
      env: fc.dictionary(
        fc.constantFrom(...RELAYED_VARIABLES),
        value.filter((text) => text !== ""),
      ),
    });
    fc.assert(
      fc.property(
        fc.array(arbitraryRecord, { maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (records, cuts) => {
          const bytes = Buffer.concat(records.map(encodeRecord));
          const positions = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const decoder = new RecordDecoder();
          const decoded: EventRecord[] = [];
          let start = 0;
          for (const position of [...positions, bytes.length]) {
            const result = decoder.push(bytes.subarray(start, position));
            expect(result.errors).toEqual([]);
            decoded.push(...result.records);
            start = position;
          }
          expect(decoded).toEqual(records);
        },
      ),
      { numRuns: 300 },
    );
  }, 30_000);

  it("skips a malformed frame and keeps decoding what follows", () => {
    const decoder = new RecordDecoder();
    const garbage = Buffer.from("garbage line\n5 abc\n");
    const { records, errors } = decoder.push(Buffer.concat([garbage, encodeRecord(record)]));
    expect(records).toEqual([record]);
    expect(errors.length).toBeGreaterThan(0);
  });

  it("decodePayload splits arguments from variables by the argument count", () => {
    expect(decodePayload("udhcpd\x1f1\x1f/tmp/leases")).toEqual({
      source: "udhcpd",
      args: ["/tmp/leases"],
      env: {},
    });
    expect(decodePayload("x\x1f2\x1fonly-one")).toBeUndefined();
    expect(decodePayload("x\x1fnot-a-number")).toBeUndefined();
  });

  it("the script forwards exactly the relayed variables and writes one framed record", () => {
    const script = notifyScript();
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script).toContain(`for n in ${RELAYED_VARIABLES.join(" ")}; do`);
    expect(script).toContain(`printf '%s %s\\n' "\${#r}" "$r" 1<>"$VNET_EVENT_FIFO"`);
    expect(script).toContain("S='\x1f'");
  });
});
