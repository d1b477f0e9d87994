import { describe, expect, it, vi } from "vitest";
import { ANY, END, type PropertyEvent, PropertyTable } from "../src/index.js";

/** A fake monotonic clock: each call returns the current value; tests advance it. */
function fakeClock(start = 1_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

function record(table: PropertyTable, pattern: Parameters<PropertyTable["subscribe"]>[0] = []) {
  const events: PropertyEvent[] = [];
  table.subscribe(pattern, (event) => events.push(event));
  return events;
}

describe("reading", () => {
  it("gets values, defaults and timestamps", () => {
    const clock = fakeClock();
    const table = new PropertyTable({ now: clock.now, properties: [[["a", "b"], 1]] });
    expect(table.get(["a", "b"])).toBe(1);
    expect(table.get(["a"])).toBeUndefined();
    expect(table.get(["a"], "fallback")).toBe("fallback");
    expect(table.fetchWithTimestamp(["a", "b"])).toEqual({ value: 1, timestamp: 1_000 });
    expect(table.fetchWithTimestamp(["missing"])).toBeUndefined();
    expect(table.has(["a", "b"])).toBe(true);
    expect(table.size).toBe(1);
  });

  it("stores the empty path and paths that are prefixes of others", () => {
    const table = new PropertyTable();
    table.putMany([
      [[], "root"],
      [["a"], 1],
      [["a", "b"], 2],
    ]);
    expect(table.get([])).toBe("root");
    expect(table.get(["a"])).toBe(1);
    expect(table.get(["a", "b"])).toBe(2);
    table.delete(["a"]);
    expect(table.get(["a", "b"])).toBe(2);
  });

  it("getAll and match return path/value pairs", () => {
    const table = new PropertyTable({
      properties: [
        [["interface", "eth0", "connection"], "internet"],
        [["interface", "wlan0", "connection"], "lan"],
        [["interface", "eth0", "state"], "configured"],
      ],
    });
    const sorted = (pairs: Array<[readonly string[], unknown]>) =>
      pairs.map(([path, value]) => `${path.join("/")}=${value}`).sort();
    expect(sorted(table.match(["interface", ANY, "connection"]))).toEqual([
      "interface/eth0/connection=internet",
      "interface/wlan0/connection=lan",
    ]);
    expect(sorted(table.getAll())).toHaveLength(3);
    expect(table.getAllWithTimestamps()).toHaveLength(3);
  });
});

describe("when events fire (the reference's event table)", () => {
  it("put of an absent key: event with no previous value and the start time", () => {
    const clock = fakeClock();
    const table = new PropertyTable({ now: clock.now });
    const events = record(table);
    clock.advance(5);
    table.put(["a"], 1);
    expect(events).toEqual([
      {
        table,
        property: ["a"],
        value: 1,
        previousValue: undefined,
        timestamp: 1_005,
        previousTimestamp: 1_000,
        deleted: false,
      },
    ]);
  });

  it("put of a deep-equal value: no event and the old timestamp stays", () => {
    const clock = fakeClock();
    const table = new PropertyTable({ now: clock.now });
    table.put(["a"], { list: [1, 2], nested: { x: "y" } });
    const events = record(table);
    clock.advance(10);
    table.put(["a"], { list: [1, 2], nested: { x: "y" } });
    expect(events).toEqual([]);
    expect(table.fetchWithTimestamp(["a"])?.timestamp).toBe(1_000);
  });

  it("equality is strict: 1 and '1' differ, as do 0 and -0", () => {
    const table = new PropertyTable({ properties: [[["a"], 1]] });
    const events = record(table);
    table.put(["a"], "1");
    table.put(["a"], 0);
    table.put(["a"], -0);
    expect(events.map((event) => event.value)).toEqual(["1", 0, -0]);
  });

  it("put of a different value: event with the previous value and its timestamp", () => {
    const clock = fakeClock();
    const table = new PropertyTable({ now: clock.now });
    clock.advance(1);
    table.put(["a"], 1);
    const events = record(table);
    clock.advance(1);
    table.put(["a"], 2);
    expect(events[0]).toMatchObject({
      value: 2,
      previousValue: 1,
      timestamp: 1_002,
      previousTimestamp: 1_001,
    });
  });

  it("null is a value, not a deletion", () => {
    const table = new PropertyTable();
    const events = record(table);
    table.put(["a"], null);
    expect(table.has(["a"])).toBe(true);
    expect(events[0]).toMatchObject({ value: null, deleted: false });
  });

  it("put of undefined is refused: delete removes", () => {
    const table = new PropertyTable();
    expect(() => table.put(["a"], undefined)).toThrow(/use delete/);
    expect(table.size).toBe(0);
  });

  it("putMany: one timestamp, events for real changes only, last value wins, last-occurrence order", () => {
    const clock = fakeClock();
    const table = new PropertyTable({ now: clock.now, properties: [[["same"], 1]] });
    const events = record(table);
    clock.advance(7);
    table.putMany([
      [["x"], 1],
      [["same"], 1],
      [["y"], 1],
      [["x"], 2],
    ]);
    expect(events.map((event) => [event.property, event.value])).toEqual([
      [["y"], 1],
      [["x"], 2],
    ]);
    expect(new Set(events.map((event) => event.timestamp))).toEqual(new Set([1_007]));
    expect(table.get(["x"])).toBe(2);
  });

  it("delete of an existing key: event flagged deleted, with the old value", () => {
    const table = new PropertyTable({ properties: [[["a"], 1]] });
    const events = record(table);
    table.delete(["a"]);
    expect(events[0]).toMatchObject({ value: undefined, previousValue: 1, deleted: true });
    expect(table.has(["a"])).toBe(false);
  });

  it("delete of an absent key: nothing", () => {
    const table = new PropertyTable();
    const events = record(table);
    table.delete(["nope"]);
    expect(events).toEqual([]);
  });

  it("deleteMatches removes every match before the first event", () => {
    const table = new PropertyTable({
      properties: [
        [["interface", "eth0", "a"], 1],
        [["interface", "eth0", "b"], 2],
        [["interface", "wlan0", "a"], 3],
      ],
    });
    const seenDuringEvents: number[] = [];
    table.subscribe(["interface"], () => {
      seenDuringEvents.push(table.match(["interface", "eth0"]).length);
    });
    table.deleteMatches(["interface", "eth0"]);
    expect(seenDuringEvents).toEqual([0, 0]);
    expect(table.match(["interface"])).toEqual([[["interface", "wlan0", "a"], 3]]);
  });

  it("initial properties produce no events", () => {
    const listener = vi.fn();
    const table = new PropertyTable({ properties: [[["a"], 1]] });
    table.subscribe([], listener);
    expect(listener).not.toHaveBeenCalled();
  });
});

describe("subscriptions", () => {
  it("patterns select the properties heard", () => {
    const table = new PropertyTable();
    const eth0 = record(table, ["interface", "eth0"]);
    const anyState = record(table, ["interface", ANY, "state"]);
    const exact = record(table, ["interface", END]);
    table.put(["interface", "eth0", "state"], "configured");
    table.put(["interface", "wlan0", "state"], "configuring");
    table.put(["interface"], "top");
    table.put(["other"], 1);
    expect(eth0.map((event) => event.property)).toEqual([["interface", "eth0", "state"]]);
    expect(anyState).toHaveLength(2);
    expect(exact.map((event) => event.property)).toEqual([["interface"]]);
  });

  it("the same listener subscribed twice hears the event twice", () => {
    const table = new PropertyTable();
    const listener = vi.fn();
    table.subscribe(["a"], listener);
    table.subscribe([ANY], listener);
    table.put(["a"], 1);
    expect(listener).toHaveBeenCalledTimes(2);
  });

  it("unsubscribe stops delivery and is idempotent", () => {
    const table = new PropertyTable();
    const listener = vi.fn();
    const unsubscribe = table.subscribe(["a"], listener);
    table.put(["a"], 1);
    unsubscribe();
    unsubscribe();
    table.put(["a"], 2);
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it("a subscriber removed during dispatch hears nothing more", () => {
    const table = new PropertyTable();
    const second = vi.fn();
    let unsubscribeSecond = () => {};
    table.subscribe([], () => unsubscribeSecond());
    unsubscribeSecond = table.subscribe([], second);
    table.put(["a"], 1);
    expect(second).not.toHaveBeenCalled();
  });

  it("every subscriber sees every change in one order, also when a subscriber writes", () => {
    const table = new PropertyTable();
    const orders: string[][] = [[], [], []];
    table.subscribe([], (event) => {
      orders[0]!.push(`${event.property.join("/")}=${event.value}`);
      if (event.property[0] === "a" && event.value === 1) {
        table.put(["b"], 1);
        table.put(["a"], 2);
      }
    });
    table.subscribe([], (event) => {
      orders[1]!.push(`${event.property.join("/")}=${event.value}`);
      if (event.property[0] === "b") table.put(["c"], 1);
    });
    table.subscribe([], (event) => orders[2]!.push(`${event.property.join("/")}=${event.value}`));
    table.put(["a"], 1);
    expect(orders[0]).toEqual(["a=1", "b=1", "a=2", "c=1"]);
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);
    expect(table.get(["a"])).toBe(2);
  });

  it("a nested write is stored at once, and its event follows the current one", () => {
    const table = new PropertyTable();
    const seen: unknown[] = [];
    table.subscribe(["a"], () => {
      table.put(["b"], "written");
      seen.push(table.get(["b"]));
    });
    table.put(["a"], 1);
    expect(seen).toEqual(["written"]);
  });

  it("a throwing subscriber affects neither the writer nor the others, and is reported", () => {
    const reported: Array<{ error: unknown; property: readonly string[] }> = [];
    const table = new PropertyTable({
      onSubscriberError: (error, event) => reported.push({ error, property: event.property }),
    });
    const after = vi.fn();
    table.subscribe([], () => {
      throw new Error("boom");
    });
    table.subscribe([], after);
    expect(() => table.put(["a"], 1)).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
    expect(table.get(["a"])).toBe(1);
    expect(reported).toEqual([{ error: new Error("boom"), property: ["a"] }]);
  });

  it("without a handler, a throwing subscriber becomes a process warning (never silent)", () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    const table = new PropertyTable();
    table.subscribe(["a", ANY], () => {
      throw new Error("listener bug");
    });
    table.put(["a", "b"], 1);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(
      /\["a", ANY\] threw on \["a","b"\].*listener bug/s,
    );
  });

  it("events carry frozen paths the subscriber cannot corrupt", () => {
    const table = new PropertyTable();
    table.subscribe([], (event) => {
      expect(Object.isFrozen(event.property)).toBe(true);
    });
    const path = ["a", "b"];
    table.put(path, 1);
    path[0] = "changed";
    expect(table.get(["a", "b"])).toBe(1);
  });
});

describe("bad input", () => {
  const table = new PropertyTable();

  it.each([
    ["a string", "interface", /property must be an array of strings/],
    ["a number element", ["a", 1], /property element 1 must be a string: got 1/],
    [
      "a wildcard in a path",
      ["a", ANY],
      /property element 1 must be a string: got ANY \(wildcards/,
    ],
    ["END in a path", [END], /property element 0 must be a string: got END/],
    ["null", null, /property must be an array/],
  ])("put refuses %s with a TypeError naming it", (_name, path, message) => {
    expect(() => table.put(path as never, 1)).toThrow(TypeError);
    expect(() => table.put(path as never, 1)).toThrow(message);
    expect(table.size).toBe(0);
  });

  it.each([
    ["END before the end", ["a", END, "b"], /pattern element 1 is END, which may only be the last/],
    ["a number", ["a", 2], /pattern element 1 must be a string, ANY or END: got 2/],
    ["a foreign symbol", [Symbol("x")], /pattern element 0 .*Symbol\(x\)/],
    ["not an array", "a", /pattern must be an array/],
  ])("subscribe and match refuse %s", (_name, pattern, message) => {
    expect(() => table.subscribe(pattern as never, () => {})).toThrow(message);
    expect(() => table.match(pattern as never)).toThrow(message);
    expect(() => table.deleteMatches(pattern as never)).toThrow(message);
  });

  it("putMany stores nothing when any entry is invalid", () => {
    const events = record(table);
    expect(() =>
      table.putMany([
        [["ok"], 1],
        [["bad", 3 as never], 2],
      ]),
    ).toThrow(/entry 1 path element 1 must be a string/);
    expect(table.size).toBe(0);
    expect(events).toEqual([]);
  });

  it("the constructor refuses invalid initial properties", () => {
    expect(() => new PropertyTable({ properties: [[["a", ANY as never], 1]] })).toThrow(
      /properties\[0\] path element 1/,
    );
  });

  it("subscribe refuses a listener that is not a function", () => {
    expect(() => table.subscribe([], "nope" as never)).toThrow(/listener must be a function/);
  });
});
