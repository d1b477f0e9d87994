import { describe, expect, it } from "vitest";
import {
  CheckLogic,
  type CheckState,
  DEFAULT_CONNECTIVITY_TIMING,
  resolveConnectivityTiming,
} from "../src/connectivity/check-logic.js";

const logic = new CheckLogic();

describe("CheckLogic", () => {
  it("init follows VintageNet", () => {
    expect(logic.init("internet")).toEqual({
      connectivity: "internet",
      strikes: 0,
      intervalMs: 500,
    });
    expect(logic.init("lan")).toEqual({ connectivity: "lan", strikes: 3, intervalMs: 500 });
    expect(logic.init(undefined)).toEqual({
      connectivity: "disconnected",
      strikes: 3,
      intervalMs: Number.POSITIVE_INFINITY,
    });
  });

  it("only ifup leaves disconnected (optimistic lan, check at once); only ifdown enters it", () => {
    const down = logic.init("disconnected");
    expect(logic.checkSucceeded(down)).toEqual(down);
    expect(logic.checkFailed(down)).toEqual(down);
    const up = logic.ifup(down);
    expect(up).toEqual({ connectivity: "lan", strikes: 3, intervalMs: 0 });
    expect(logic.ifup(logic.init("internet"))).toEqual(logic.init("internet"));
    expect(logic.ifdown(logic.init("internet")).connectivity).toBe("disconnected");
    expect(logic.probesForNextCheck(down)).toBe(0);
  });

  it("a success means internet, checked every second", () => {
    const state = logic.checkSucceeded(logic.ifup(logic.init("disconnected")));
    expect(state).toEqual({ connectivity: "internet", strikes: 0, intervalMs: 1_000 });
    expect(logic.probesForNextCheck(state)).toBe(1);
  });

  it("a failure while internet probes the remaining strikes at once; failing them all means lan", () => {
    let state = logic.checkSucceeded(logic.ifup(logic.init("disconnected")));
    state = logic.checkFailed(state, 1);
    expect(state).toEqual({ connectivity: "internet", strikes: 1, intervalMs: 0 });
    expect(logic.probesForNextCheck(state)).toBe(2);
    state = logic.checkFailed(state, 2);
    expect(state).toEqual({ connectivity: "lan", strikes: 3, intervalMs: 500 });
  });

  it("one good answer among the follow-up probes keeps internet (no false alarm)", () => {
    let state = logic.checkSucceeded(logic.ifup(logic.init("disconnected")));
    state = logic.checkFailed(state, 1);
    state = logic.checkSucceeded(state);
    expect(state).toEqual({ connectivity: "internet", strikes: 0, intervalMs: 1_000 });
  });

  it("backs off while lan: 500, 1000, ... up to lanMaxIntervalMs", () => {
    let state: CheckState = logic.ifup(logic.init("disconnected"));
    const intervals: number[] = [];
    for (let i = 0; i < 8; i++) {
      state = logic.checkFailed(state);
      intervals.push(state.intervalMs);
    }
    expect(intervals).toEqual([500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
    expect(logic.checkSucceeded(state).connectivity).toBe("internet");
  });

  it("with the defaults, a dark uplink is declared lan within 5 s of the last success", () => {
    // Worst case: the uplink dies right after a successful probe. Each round waits the
    // interval, then its probes all run for the full timeout.
    const timing = DEFAULT_CONNECTIVITY_TIMING;
    let state = logic.checkSucceeded(logic.ifup(logic.init("disconnected")));
    let elapsed = 0;
    while (state.connectivity === "internet") {
      elapsed += state.intervalMs + timing.probeTimeoutMs;
      state = logic.checkFailed(state, logic.probesForNextCheck(state));
    }
    expect(state.connectivity).toBe("lan");
    expect(elapsed).toBe(3_000);
    expect(elapsed).toBeLessThanOrEqual(5_000);
  });

  it("resolveConnectivityTiming checks values", () => {
    expect(resolveConnectivityTiming({ probeTimeoutMs: 2_000 }).probeTimeoutMs).toBe(2_000);
    expect(() => resolveConnectivityTiming({ strikesToLan: 0 })).toThrow(/strikesToLan/);
    expect(() => resolveConnectivityTiming({ internetIntervalMs: -1 })).toThrow(
      /internetIntervalMs/,
    );
    expect(() => resolveConnectivityTiming({ lanMinIntervalMs: 5, lanMaxIntervalMs: 1 })).toThrow(
      /lanMaxIntervalMs/,
    );
  });
});
