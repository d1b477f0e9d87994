/**
 * The per-interface state machine as a pure reducer: `(state, event) → { state, effects }`.
 * It decides; the executor (`InterfaceRunner`) does: it runs the effects and feeds completions,
 * timeouts and presence changes back as events. Nothing here does I/O or reads a clock.
 *
 * Phases (published as `["interface", ifname, "state"]`):
 * - `configured`: the recipe is applied and its daemons and services run.
 * - `configuring`: the up job runs (files written, up commands).
 * - `reconfiguring`: the tear-down job runs (children stopped, down commands, files removed).
 * - `retrying`: waiting for required interfaces or for the retry delay after a failure.
 * - `stopped` (not published): the engine stopped this interface.
 *
 * Differences from VintageNet, on purpose:
 * - A configure during tear-down is queued; the newest wins (VintageNet crashes).
 * - A failed, hung or interrupted bring-up is torn down (down commands, files removed) before
 *   anything else happens, so every bring-up starts from a clean slate.
 * - Presence is tracked for all interfaces and always checked against the recipe being applied,
 *   so a change of `requiredIfnames` takes effect at once.
 * - Only one job runs at a time: a new job starts only after the previous one has finished
 *   (an aborted job reports back once its processes are gone), so files of an old and a new
 *   recipe never race.
 */
import { isDeepStrictEqual } from "node:util";
import type { InterfaceState } from "../config.js";
import type { RawConfig } from "../raw-config.js";

export type Phase = InterfaceState | "stopped";

/** What to do once the running tear-down (or aborted bring-up) has finished. */
export type AfterTearDown = "apply" | "retry" | "stop";

export interface MachineState {
  readonly ifname: string;
  readonly phase: Phase;
  /** The recipe applied (configured), being applied, being torn down, or waited for (retrying). */
  readonly current: RawConfig;
  /** The recipe to apply after the running tear-down; the newest configure wins. */
  readonly next: RawConfig | undefined;
  readonly after: AfterTearDown;
  /** Interfaces known to be present. */
  readonly present: ReadonlySet<string>;
  /** Id of the running job, 0 when none. */
  readonly job: number;
  /** The running job was told to abort. */
  readonly aborting: boolean;
  /** Id of the armed timer, 0 when none. */
  readonly timer: number;
  /** Id of the bring-up job whose daemons and services run, 0 when none. */
  readonly children: number;
  /** Source of job and timer ids. */
  readonly counter: number;
}

export type MachineEvent =
  | { readonly type: "configure"; readonly config: RawConfig }
  | { readonly type: "presence"; readonly ifname: string; readonly present: boolean }
  | {
      readonly type: "jobDone";
      readonly job: number;
      readonly ok: boolean;
      readonly reason?: string;
    }
  | { readonly type: "childrenStopped"; readonly job: number }
  | { readonly type: "timeout"; readonly timer: number }
  | { readonly type: "childFailed"; readonly children: number; readonly reason: string }
  | { readonly type: "stop" };

export type Effect =
  | { readonly type: "publish"; readonly state: InterfaceState; readonly configType: string }
  /** Delete cleanup files, write files, run up commands; then report `jobDone`. */
  | { readonly type: "bringUp"; readonly job: number; readonly config: RawConfig }
  /**
   * Stop the children (when `stopChildren`), report `childrenStopped`, run the down commands,
   * delete files and cleanup files (always, even when aborted); then report `jobDone`.
   */
  | {
      readonly type: "tearDown";
      readonly job: number;
      readonly config: RawConfig;
      readonly stopChildren: boolean;
    }
  /** Kill the job's running command and skip the rest; the job still reports `jobDone`. */
  | { readonly type: "abortJob"; readonly job: number }
  /** Start daemons, then services; report `childFailed` if one gives up. */
  | { readonly type: "startChildren"; readonly children: number; readonly config: RawConfig }
  | { readonly type: "setTimer"; readonly timer: number; readonly ms: number }
  | { readonly type: "clearTimer"; readonly timer: number }
  /** Reject in-flight ioctls with CANCELLED. */
  | { readonly type: "cancelIoctls" }
  | { readonly type: "log"; readonly level: "debug" | "info" | "warn"; readonly message: string }
  /** The machine reached `stopped`. */
  | { readonly type: "stopped" };

export interface Transition {
  readonly state: MachineState;
  readonly effects: readonly Effect[];
}

/** Whether two recipes come from the same normalized configuration. */
export function sameConfig(a: RawConfig, b: RawConfig): boolean {
  return a.ifname === b.ifname && isDeepStrictEqual(a.sourceConfig, b.sourceConfig);
}

/** A machine with nothing applied: `configured` with `initial` (normally the `null` recipe). */
export function initialMachineState(
  ifname: string,
  initial: RawConfig,
  present: Iterable<string>,
): MachineState {
  return {
    ifname,
    phase: "configured",
    current: initial,
    next: undefined,
    after: "apply",
    present: new Set(present),
    job: 0,
    aborting: false,
    timer: 0,
    children: 0,
    counter: 0,
  };
}

function allPresent(config: RawConfig, present: ReadonlySet<string>): boolean {
  return config.requiredIfnames.every((ifname) => present.has(ifname));
}

/** Accumulates effects while a transition is computed. */
class Builder {
  readonly effects: Effect[] = [];
  constructor(public state: MachineState) {}

  set(changes: Partial<MachineState>): this {
    this.state = { ...this.state, ...changes };
    return this;
  }

  emit(effect: Effect): this {
    this.effects.push(effect);
    return this;
  }

  nextId(): number {
    const id = this.state.counter + 1;
    this.state = { ...this.state, counter: id };
    return id;
  }

  publish(): this {
    const { phase, current } = this.state;
    if (phase !== "stopped") this.emit({ type: "publish", state: phase, configType: current.type });
    return this;
  }

  clearTimer(): this {
    if (this.state.timer !== 0) {
      this.emit({ type: "clearTimer", timer: this.state.timer });
      this.set({ timer: 0 });
    }
    return this;
  }

  armTimer(ms: number): this {
    this.clearTimer();
    const timer = this.nextId();
    this.set({ timer });
    return this.emit({ type: "setTimer", timer, ms });
  }

  done(): Transition {
    return { state: this.state, effects: this.effects };
  }
}

function startBringUp(builder: Builder, config: RawConfig): Builder {
  builder.clearTimer();
  const job = builder.nextId();
  builder.set({
    phase: "configuring",
    current: config,
    next: undefined,
    after: "apply",
    job,
    aborting: false,
  });
  builder.publish();
  builder.emit({ type: "bringUp", job, config });
  return builder.armTimer(config.upCommandMillis);
}

function startTearDown(builder: Builder, next: RawConfig, after: AfterTearDown): Builder {
  builder.clearTimer();
  const job = builder.nextId();
  const stopChildren = builder.state.children !== 0;
  builder.set({ phase: "reconfiguring", next, after, job, aborting: false, children: 0 });
  builder.publish();
  builder.emit({ type: "cancelIoctls" });
  return builder.emit({ type: "tearDown", job, config: builder.state.current, stopChildren });
}

function enterRetrying(builder: Builder, config: RawConfig): Builder {
  builder.set({ phase: "retrying", current: config, next: undefined, after: "apply", job: 0 });
  builder.publish();
  return builder.armTimer(config.retryMillis);
}

function finishTearDown(builder: Builder): Builder {
  builder.clearTimer();
  const { after, next, current } = builder.state;
  const config = next ?? current;
  builder.set({ job: 0, aborting: false, next: undefined });
  if (after === "stop") {
    builder.set({ phase: "stopped" });
    return builder.emit({ type: "stopped" });
  }
  if (after === "retry") return enterRetrying(builder, config);
  if (allPresent(config, builder.state.present)) return startBringUp(builder, config);
  builder.emit({
    type: "log",
    level: "debug",
    message: `${builder.state.ifname}: waiting for ${config.requiredIfnames.filter((name) => !builder.state.present.has(name)).join(", ")}`,
  });
  return enterRetrying(builder, config);
}

/** Asks the running bring-up to abort and remembers what to do once it has. */
function abortBringUp(builder: Builder, next: RawConfig, after: AfterTearDown): Builder {
  if (!builder.state.aborting) {
    builder.emit({ type: "abortJob", job: builder.state.job });
    builder.clearTimer();
  }
  return builder.set({ aborting: true, next, after });
}

function withPresence(state: MachineState, ifname: string, present: boolean): MachineState {
  if (state.present.has(ifname) === present) return state;
  const updated = new Set(state.present);
  if (present) updated.add(ifname);
  else updated.delete(ifname);
  return { ...state, present: updated };
}

/** The transition for `event` in `state`. Unexpected or stale events change nothing. */
export function reduce(state: MachineState, event: MachineEvent): Transition {
  const builder = new Builder(state);
  if (state.phase === "stopped") return builder.done();

  if (event.type === "presence") {
    builder.set({ present: withPresence(state, event.ifname, event.present).present });
    const required = builder.state.current.requiredIfnames.includes(event.ifname);
    if (!required) return builder.done();
    if (!event.present) {
      if (state.phase === "configured") {
        builder.emit({
          type: "log",
          level: "info",
          message: `${state.ifname}: ${event.ifname} disappeared; tearing down`,
        });
        return startTearDown(builder, state.current, "apply").done();
      }
      if (state.phase === "configuring" && !state.aborting) {
        return abortBringUp(builder, state.current, "apply").done();
      }
      return builder.done();
    }
    if (state.phase === "retrying" && allPresent(state.current, builder.state.present)) {
      return startBringUp(builder, state.current).done();
    }
    return builder.done();
  }

  switch (state.phase) {
    case "configured":
      switch (event.type) {
        case "configure":
          if (sameConfig(event.config, state.current)) return builder.done();
          return startTearDown(builder, event.config, "apply").done();
        case "childFailed":
          if (event.children !== state.children || state.children === 0) return builder.done();
          builder.emit({
            type: "log",
            level: "warn",
            message: `${state.ifname}: ${event.reason}; tearing down, retrying in ${state.current.retryMillis} ms`,
          });
          return startTearDown(builder, state.current, "retry").done();
        case "stop":
          return startTearDown(builder, state.current, "stop").done();
        default:
          return builder.done();
      }

    case "configuring":
      switch (event.type) {
        case "jobDone": {
          if (event.job !== state.job) return builder.done();
          if (event.ok && !state.aborting) {
            builder.clearTimer();
            builder.set({ phase: "configured", job: 0, children: state.job });
            builder.publish();
            return builder
              .emit({ type: "startChildren", children: state.job, config: state.current })
              .done();
          }
          if (!state.aborting) {
            builder.emit({
              type: "log",
              level: "warn",
              message: `${state.ifname}: bring-up failed (${event.reason ?? "unknown reason"}); retrying in ${state.current.retryMillis} ms`,
            });
          }
          const next = state.aborting ? (state.next ?? state.current) : state.current;
          const after = state.aborting ? state.after : "retry";
          return startTearDown(builder, next, after).done();
        }
        case "timeout":
          if (event.timer !== state.timer) return builder.done();
          builder.set({ timer: 0 });
          builder.emit({
            type: "log",
            level: "warn",
            message: `${state.ifname}: up commands did not finish within ${state.current.upCommandMillis} ms; aborting`,
          });
          return abortBringUp(builder, state.current, "retry").done();
        case "configure":
          if (state.after === "stop" && state.aborting) return builder.done();
          if (!state.aborting && sameConfig(event.config, state.current)) return builder.done();
          return abortBringUp(builder, event.config, "apply").done();
        case "stop":
          return abortBringUp(builder, state.current, "stop").done();
        default:
          return builder.done();
      }

    case "reconfiguring":
      switch (event.type) {
        case "configure":
          if (state.after === "stop") return builder.done();
          return builder.set({ next: event.config, after: "apply" }).done();
        case "childrenStopped":
          if (event.job !== state.job) return builder.done();
          return builder.armTimer(state.current.downCommandMillis).done();
        case "timeout":
          if (event.timer !== state.timer) return builder.done();
          builder.set({ timer: 0, aborting: true });
          builder.emit({
            type: "log",
            level: "warn",
            message: `${state.ifname}: down commands did not finish within ${state.current.downCommandMillis} ms; aborting`,
          });
          return builder.emit({ type: "abortJob", job: state.job }).done();
        case "jobDone":
          if (event.job !== state.job) return builder.done();
          return finishTearDown(builder).done();
        case "stop":
          return builder.set({ after: "stop" }).done();
        default:
          return builder.done();
      }

    case "retrying":
      switch (event.type) {
        case "timeout":
          if (event.timer !== state.timer) return builder.done();
          builder.set({ timer: 0 });
          if (allPresent(state.current, state.present)) {
            return startBringUp(builder, state.current).done();
          }
          return builder.armTimer(state.current.retryMillis).done();
        case "configure":
          if (sameConfig(event.config, state.current)) return builder.done();
          if (allPresent(event.config, state.present)) {
            return startBringUp(builder, event.config).done();
          }
          return enterRetrying(builder, event.config).done();
        case "stop":
          builder.clearTimer();
          builder.set({ phase: "stopped" });
          return builder.emit({ type: "stopped" }).done();
        default:
          return builder.done();
      }
  }
  return builder.done();
}
