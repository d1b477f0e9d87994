import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decideRange } from "../src/http/range.js";

describe("decideRange", () => {
  it.each([
    [undefined, 100, { kind: "none" }],
    ["bytes=0-9", 100, { kind: "range", start: 0, end: 9 }],
    ["bytes=10-", 100, { kind: "range", start: 10, end: 99 }],
    ["bytes=90-100", 100, { kind: "range", start: 90, end: 99 }],
    ["bytes=-10", 100, { kind: "range", start: 90, end: 99 }],
    ["bytes=-1000", 100, { kind: "range", start: 0, end: 99 }],
    ["bytes=100-", 100, { kind: "unsatisfiable" }],
    ["bytes=100-200", 100, { kind: "unsatisfiable" }],
    ["bytes=-0", 100, { kind: "unsatisfiable" }],
    ["bytes=0-", 0, { kind: "unsatisfiable" }],
    ["bytes=5-2", 100, { kind: "ignored", reason: "range ends before it starts" }],
    ["bytes=0-1,5-6", 100, { kind: "ignored", reason: "multiple ranges" }],
    ["items=0-1", 100, { kind: "ignored", reason: "not a bytes range" }],
    ["bytes=a-b", 100, { kind: "ignored", reason: "malformed range" }],
  ] as const)("%s of %i bytes", (header, size, expected) => {
    expect(decideRange(header, size)).toEqual(expected);
  });

  it("property: a satisfied range always lies inside the file and starts where asked", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 10_000 }),
        fc.nat({ max: 12_000 }),
        fc.option(fc.nat({ max: 12_000 })),
        (size, first, last) => {
          const header = `bytes=${first}-${last ?? ""}`;
          const decision = decideRange(header, size);
          if (last !== null && last < first) expect(decision.kind).toBe("ignored");
          else if (first >= size) expect(decision.kind).toBe("unsatisfiable");
          else {
            expect(decision).toEqual({
              kind: "range",
              start: first,
              end: Math.min(last ?? size - 1, size - 1),
            });
          }
        },
      ),
    );
  });
});
