import type { ConnectionStatus } from "../config.js";

/**
 * Timing of Internet connectivity checks. VintageNet checks every 30 s and needs three failures,
 * so a dark uplink is noticed after up to ~55 s. These defaults notice it within ~3 s: one probe
 * per second while `internet`, and after a failed probe the remaining strikes are probed at once,
 * in parallel, against different hosts, so a single slow or dead host never raises an alarm.
 */
export interface ConnectivityTiming {
  /** Between checks while `internet`. */
  internetIntervalMs: number;
  /** Time limit of one TCP probe. */
  probeTimeoutMs: number;
  /** Delay before the follow-up probes after a failure while `internet`. */
  suspectIntervalMs: number;
  /** Consecutive failed probes that turn `internet` into `lan`. */
  strikesToLan: number;
  /** First delay between checks while `lan`; doubles after each failure... */
  lanMinIntervalMs: number;
  /** ...up to this. Also bounds how long recovery takes to be noticed. */
  lanMaxIntervalMs: number;
  /** Traffic reported by the application within this window counts as a successful check. */
  trafficEvidenceMs: number;
}

/** Defaults: loss noticed within `internetIntervalMs + 2 * probeTimeoutMs` (≈ 3 s). */
export const DEFAULT_CONNECTIVITY_TIMING: Readonly<ConnectivityTiming> = Object.freeze({
  internetIntervalMs: 1_000,
  probeTimeoutMs: 1_000,
  suspectIntervalMs: 0,
  strikesToLan: 3,
  lanMinIntervalMs: 500,
  lanMaxIntervalMs: 10_000,
  trafficEvidenceMs: 1_000,
});

/** State of the pure check logic. `intervalMs` is Infinity when no check should run. */
export interface CheckState {
  readonly connectivity: ConnectionStatus;
  readonly strikes: number;
  readonly intervalMs: number;
}

/**
 * VintageNet's CheckLogic as pure functions, with faster constants and one addition: a failed
 * probe while `internet` asks for all remaining strikes at once (`probesForNextCheck`), so loss
 * is declared after two rounds instead of three full intervals.
 *
 * Only `ifdown` enters `disconnected` and only `ifup` leaves it.
 */
export class CheckLogic {
  constructor(readonly timing: ConnectivityTiming = DEFAULT_CONNECTIVITY_TIMING) {}

  init(status: ConnectionStatus | undefined): CheckState {
    switch (status) {
      case "internet":
        return { connectivity: "internet", strikes: 0, intervalMs: this.timing.lanMinIntervalMs };
      case "lan":
        return {
          connectivity: "lan",
          strikes: this.timing.strikesToLan,
          intervalMs: this.timing.lanMinIntervalMs,
        };
      default:
        return {
          connectivity: "disconnected",
          strikes: this.timing.strikesToLan,
          intervalMs: Number.POSITIVE_INFINITY,
        };
    }
  }

  /** The link is up and has an address: optimistic `lan`, first check at once. */
  ifup(state: CheckState): CheckState {
    if (state.connectivity !== "disconnected") return state;
    return { connectivity: "lan", strikes: this.timing.strikesToLan, intervalMs: 0 };
  }

  /** Carrier lost or address gone: `disconnected`, no checks. */
  ifdown(_state: CheckState): CheckState {
    return {
      connectivity: "disconnected",
      strikes: this.timing.strikesToLan,
      intervalMs: Number.POSITIVE_INFINITY,
    };
  }

  checkSucceeded(state: CheckState): CheckState {
    if (state.connectivity === "disconnected") return state;
    return { connectivity: "internet", strikes: 0, intervalMs: this.timing.internetIntervalMs };
  }

  /** `probes` probes of one check all failed. */
  checkFailed(state: CheckState, probes = 1): CheckState {
    switch (state.connectivity) {
      case "disconnected":
        return state;
      case "internet": {
        const strikes = state.strikes + Math.max(1, probes);
        if (strikes < this.timing.strikesToLan) {
          return { connectivity: "internet", strikes, intervalMs: this.timing.suspectIntervalMs };
        }
        return {
          connectivity: "lan",
          strikes: this.timing.strikesToLan,
          intervalMs: this.timing.lanMinIntervalMs,
        };
      }
      case "lan":
        return {
          ...state,
          intervalMs: Math.min(
            this.timing.lanMaxIntervalMs,
            Math.max(this.timing.lanMinIntervalMs, state.intervalMs * 2),
          ),
        };
    }
  }

  /** How many probes (to different hosts, in parallel) the next check should send. */
  probesForNextCheck(state: CheckState): number {
    if (state.connectivity === "internet" && state.strikes > 0) {
      return Math.max(1, this.timing.strikesToLan - state.strikes);
    }
    return state.connectivity === "disconnected" ? 0 : 1;
  }
}

/** Fills in and checks a partial timing; throws a RangeError naming the bad field. */
export function resolveConnectivityTiming(
  partial: Partial<ConnectivityTiming> = {},
): ConnectivityTiming {
  const timing = { ...DEFAULT_CONNECTIVITY_TIMING, ...partial };
  for (const [name, value] of Object.entries(timing)) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`connectivity.${name} must be a finite number >= 0: got ${value}`);
    }
  }
  if (!Number.isInteger(timing.strikesToLan) || timing.strikesToLan < 1) {
    throw new RangeError(
      `connectivity.strikesToLan must be an integer >= 1: got ${timing.strikesToLan}`,
    );
  }
  if (timing.lanMaxIntervalMs < timing.lanMinIntervalMs) {
    throw new RangeError("connectivity.lanMaxIntervalMs must be >= lanMinIntervalMs");
  }
  return timing;
}
