import { describe, expect, it } from "vitest";
import { percentOf, RateMeter } from "../src/progress.js";

describe("RateMeter", () => {
  it("measures bytes per second over the recent window", () => {
    const meter = new RateMeter(1_000);
    expect(meter.rate()).toBe(0);
    meter.record(0, 0);
    meter.record(500, 50_000);
    expect(meter.rate()).toBe(100_000);
    meter.record(1_000, 100_000);
    meter.record(3_000, 110_000);
    // The window keeps one sample at or before its start (1 000 ms back from 3 000).
    expect(meter.rate()).toBe(5_000);
  });

  it("ignores time going backwards and duplicate timestamps", () => {
    const meter = new RateMeter(1_000);
    meter.record(100, 10);
    meter.record(100, 20);
    meter.record(50, 30);
    meter.record(200, 40);
    expect(meter.rate()).toBe(((40 - 30) * 1000) / 100);
  });
});

describe("percentOf", () => {
  it("has two decimals, never exceeds 100, and is undefined without a total", () => {
    expect(percentOf(1, 3)).toBe(33.33);
    expect(percentOf(3, 3)).toBe(100);
    expect(percentOf(5, 3)).toBe(100);
    expect(percentOf(0, 0)).toBe(100);
    expect(percentOf(10, undefined)).toBeUndefined();
  });
});
