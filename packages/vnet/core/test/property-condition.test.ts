import { PropertyTable } from "@runtime/property-table";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  conditionHolds,
  matchesPartially,
  parsePropertyCondition,
} from "../src/property-condition.js";

describe("property conditions", () => {
  it("objects match by the pattern's fields; everything else by equality", () => {
    expect(matchesPartially({ status: "success", authorized: true }, { authorized: true })).toBe(
      true,
    );
    expect(matchesPartially({ authorized: false }, { authorized: true })).toBe(false);
    expect(matchesPartially({}, { authorized: true })).toBe(false);
    expect(matchesPartially({ a: { b: 1, c: 2 } }, { a: { b: 1 } })).toBe(true);
    expect(matchesPartially(undefined, { authorized: true })).toBe(false);
    expect(matchesPartially([1, 2], [1, 2])).toBe(true);
    expect(matchesPartially([1, 2, 3], [1, 2])).toBe(false);
    expect(matchesPartially({ 0: 1 }, [1])).toBe(false);
    expect(matchesPartially(true, true)).toBe(true);
    expect(matchesPartially("true", true)).toBe(false);
    expect(matchesPartially(null, null)).toBe(true);
    expect(matchesPartially({ toString: 1 }, { toString: 1 })).toBe(true);
    expect(matchesPartially({}, { toString: 1 })).toBe(false); // own fields only
  });

  it("any JSON value matches itself, and an object matches each of its sub-objects", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(matchesPartially(value, value as never)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.nat(), (object, drop) => {
        const keys = Object.keys(object);
        const subset = Object.fromEntries(
          keys
            .filter((_, index) => index !== drop % (keys.length + 1))
            .map((key) => [key, object[key]!]),
        );
        expect(matchesPartially(object, subset as never)).toBe(true);
      }),
    );
  });

  it("parses conditions from service options and evaluates them on a table", () => {
    const table = new PropertyTable();
    const condition = parsePropertyCondition(
      { path: ["interface", "eth0", "eap_status"], matches: { authorized: true } },
      "x",
    );
    expect(conditionHolds(table, condition)).toBe(false);
    table.put(["interface", "eth0", "eap_status"], { authorized: true, status: "success" });
    expect(conditionHolds(table, condition)).toBe(true);
    expect(conditionHolds(table, undefined)).toBe(true);
    expect(parsePropertyCondition(undefined, "x")).toBeUndefined();
    for (const bad of [{ path: [], matches: 1 }, { path: [1], matches: 1 }, { path: ["a"] }, "a"]) {
      expect(() => parsePropertyCondition(bad, "run_while")).toThrow(
        "run_while must be { path: string[], matches }",
      );
    }
  });
});
