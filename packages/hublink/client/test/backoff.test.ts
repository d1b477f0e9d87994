import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { acceptDelayList, cryptoRandom, delayFor, delayList } from "../src/backoff.js";

describe("reconnect back-off (reference §2.5)", () => {
  it("is 1 s doubling to 60 s, with the jitter on top", () => {
    expect(delayList({}, () => 0)).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000]);
    expect(delayList({}, () => 0.999999)).toEqual([1500, 3000, 6000, 12000, 24000, 48000, 90000]);
  });

  it("stays inside each step's range for any random draw", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 0.9999999, noNaN: true }), {
          minLength: 7,
          maxLength: 7,
        }),
        (draws) => {
          let index = 0;
          const delays = delayList({}, () => draws[index++]!);
          const bases = [1000, 2000, 4000, 8000, 16000, 32000, 60000];
          delays.forEach((delay, step) => {
            expect(delay).toBeGreaterThanOrEqual(bases[step]!);
            expect(delay).toBeLessThanOrEqual(bases[step]! * 1.5);
          });
        },
      ),
    );
  });

  it("repeats the last delay and counts tries from 1", () => {
    const delays = [10, 20, 30];
    expect([1, 2, 3, 4, 100].map((tries) => delayFor(delays, tries))).toEqual([10, 20, 30, 30, 30]);
    expect(delayFor(delays, 0)).toBe(10);
    expect(() => delayFor([], 1)).toThrow(RangeError);
  });

  it("honours other bounds and refuses nonsense", () => {
    expect(delayList({ minMs: 100, maxMs: 300, jitter: 0 })).toEqual([100, 200, 300]);
    expect(delayList({ minMs: 500, maxMs: 500, jitter: 0 })).toEqual([500]);
    expect(() => delayList({ minMs: 0 })).toThrow(RangeError);
    expect(() => delayList({ minMs: 10, maxMs: 5 })).toThrow(RangeError);
  });

  it("draws from a CSPRNG in [0, 1)", () => {
    for (let index = 0; index < 1000; index++) {
      const value = cryptoRandom();
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });

  it("accepts only non-empty lists of non-negative numbers from a client callback", () => {
    expect(acceptDelayList([5, 10.4])).toEqual([5, 10]);
    expect(acceptDelayList([])).toBeUndefined();
    expect(acceptDelayList(null)).toBeUndefined();
    expect(acceptDelayList([1, -1])).toBeUndefined();
    expect(acceptDelayList([1, Number.NaN])).toBeUndefined();
    expect(acceptDelayList(["1"])).toBeUndefined();
  });
});
