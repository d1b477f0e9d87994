import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ANY,
  END,
  matches,
  type Pattern,
  type PatternSegment,
  type PropertyPath,
  PropertyTable,
} from "../src/index.js";

// The matching table of the reference (property_table's StringPath matcher), row by row.
const properties: PropertyPath[] = [["a", "b"], ["a"], ["a", "b", "c"], []];
const table: Array<[Pattern, boolean[]]> = [
  [[], [true, true, true, true]],
  [["a"], [true, true, true, false]],
  [
    ["a", END],
    [false, true, false, false],
  ],
  [
    ["a", "b", END],
    [true, false, false, false],
  ],
  [
    [ANY, "b"],
    [true, false, true, false],
  ],
  [
    [ANY, ANY, END],
    [true, false, false, false],
  ],
  [[END], [false, false, false, true]],
];

describe("matches", () => {
  for (const [pattern, expected] of table) {
    const name = pattern.map((s) => (s === ANY ? "ANY" : s === END ? "END" : s)).join(",");
    it(`[${name}] against each property`, () => {
      expect(properties.map((property) => matches(pattern, property))).toEqual(expected);
    });
  }

  it("ANY matches exactly one segment, never zero", () => {
    expect(matches([ANY], [])).toBe(false);
    expect(matches(["a", ANY], ["a"])).toBe(false);
    expect(matches(["a", ANY], ["a", "x", "y"])).toBe(true);
    expect(matches(["a", ANY, END], ["a", "x", "y"])).toBe(false);
  });

  it("segments are compared exactly", () => {
    expect(matches(["eth0"], ["eth01"])).toBe(false);
    expect(matches([""], [""])).toBe(true);
    expect(matches(["a/b"], ["a", "b"])).toBe(false);
  });

  it("wildcards can never collide with a literal segment", () => {
    expect(matches(["Symbol(PropertyTable.ANY)"], ["x"])).toBe(false);
    expect(() => new PropertyTable().put([ANY as unknown as string], 1)).toThrow(TypeError);
  });
});

// Property-based: the table's indexed `match` and subscription dispatch against the naive
// definition (`matches` over every property).
const segment = fc.constantFrom("a", "b", "c", "");
const path = fc.array(segment, { maxLength: 4 });
const pattern: fc.Arbitrary<Pattern> = fc
  .tuple(
    fc.array(fc.oneof(segment, fc.constant<PatternSegment>(ANY)), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(([segments, anchored]) => (anchored ? [...segments, END] : segments));
const key = (p: PropertyPath) => JSON.stringify(p);

describe("match against a naive reference", () => {
  it("returns exactly the properties `matches` accepts", () => {
    fc.assert(
      fc.property(fc.uniqueArray(path, { selector: key, maxLength: 30 }), pattern, (paths, p) => {
        const t = new PropertyTable({ properties: paths.map((q, i) => [q, i]) });
        const indexed = t
          .match(p)
          .map(([q]) => key(q))
          .sort();
        const naive = paths
          .filter((q) => matches(p, q))
          .map(key)
          .sort();
        expect(indexed).toEqual(naive);
      }),
      { numRuns: 500 },
    );
  });

  it("delivers a change to exactly the subscriptions whose pattern matches", () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 12 }), path, (patterns, changed) => {
        const t = new PropertyTable();
        const heard: number[] = [];
        const unsubscribes = patterns.map((p, i) => t.subscribe(p, () => heard.push(i)));
        // Unsubscribe every third one to exercise removal and pruning as well.
        unsubscribes.forEach((unsubscribe, i) => {
          if (i % 3 === 2) unsubscribe();
        });
        t.put(changed, 1);
        const expected = patterns
          .map((p, i) => (i % 3 !== 2 && matches(p, changed) ? i : -1))
          .filter((i) => i >= 0);
        expect(heard).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("behaves like a Map under any sequence of puts and deletes", () => {
    const operation = fc.oneof(
      fc.record({ kind: fc.constant("put" as const), path, value: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant("delete" as const), path }),
      fc.record({ kind: fc.constant("deleteMatches" as const), pattern }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const t = new PropertyTable();
        const model = new Map<string, number>();
        for (const op of operations) {
          if (op.kind === "put") {
            t.put(op.path, op.value);
            model.set(key(op.path), op.value);
          } else if (op.kind === "delete") {
            t.delete(op.path);
            model.delete(key(op.path));
          } else {
            t.deleteMatches(op.pattern);
            for (const k of [...model.keys()]) {
              if (matches(op.pattern, JSON.parse(k))) model.delete(k);
            }
          }
        }
        const actual = new Map(t.getAll().map(([q, v]) => [key(q), v]));
        expect(actual).toEqual(model);
        expect(t.size).toBe(model.size);
      }),
      { numRuns: 300 },
    );
  });
});
