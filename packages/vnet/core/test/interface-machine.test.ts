import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Effect,
  initialMachineState,
  type MachineEvent,
  type MachineState,
  reduce,
  sameConfig,
} from "../src/machine/interface-machine.js";
import { type RawConfig, rawConfig } from "../src/raw-config.js";

const nullRecipe = rawConfig("eth0", { type: "null", reason: "" }, { requiredIfnames: [] });
const recipeA = rawConfig("eth0", { type: "test", name: "A" }, { retryMillis: 1_000 });
const recipeB = rawConfig("eth0", { type: "test", name: "B" }, { retryMillis: 1_000 });
const recipeC = rawConfig("eth0", { type: "test", name: "C" }, { retryMillis: 1_000 });
const onWlan = rawConfig(
  "eth0",
  { type: "test", name: "wlan" },
  { requiredIfnames: ["wlan0"], retryMillis: 1_000 },
);

/** Applies events in order, collecting all effects. */
function run(state: MachineState, ...events: MachineEvent[]) {
  const effects: Effect[] = [];
  let current = state;
  for (const event of events) {
    const transition = reduce(current, event);
    current = transition.state;
    effects.push(...transition.effects);
  }
  return { state: current, effects };
}

function types(effects: readonly Effect[]): string[] {
  return effects.filter((effect) => effect.type !== "log").map((effect) => effect.type);
}

function published(effects: readonly Effect[]): string[] {
  return effects.flatMap((effect) => (effect.type === "publish" ? [effect.state] : []));
}

const start = (present: string[] = ["eth0"]) => initialMachineState("eth0", nullRecipe, present);

/** Drives a machine from null to configured with `recipe`. */
function configured(recipe: RawConfig, present: string[] = ["eth0"]): MachineState {
  let { state } = run(start(present), { type: "configure", config: recipe });
  state = run(state, { type: "childrenStopped", job: state.job }).state;
  state = run(state, { type: "jobDone", job: state.job, ok: true }).state;
  state = run(state, { type: "jobDone", job: state.job, ok: true }).state;
  expect(state.phase).toBe("configured");
  expect(sameConfig(state.current, recipe)).toBe(true);
  return state;
}

describe("interface state machine", () => {
  it("starts configured with the null recipe and ignores configuring it again", () => {
    const state = start();
    expect(state.phase).toBe("configured");
    expect(reduce(state, { type: "configure", config: nullRecipe }).effects).toEqual([]);
  });

  it("tears the old recipe down, then brings the new one up, then starts its children", () => {
    let step = run(start(), { type: "configure", config: recipeA });
    expect(step.state.phase).toBe("reconfiguring");
    expect(types(step.effects)).toEqual(["publish", "cancelIoctls", "tearDown"]);
    expect(step.effects).toContainEqual({
      type: "tearDown",
      job: step.state.job,
      config: nullRecipe,
      stopChildren: false,
    });

    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    expect(step.effects).toEqual([{ type: "setTimer", timer: step.state.timer, ms: 5_000 }]);

    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    expect(step.state.phase).toBe("configuring");
    expect(types(step.effects)).toEqual(["clearTimer", "publish", "bringUp", "setTimer"]);
    expect(step.effects).toContainEqual({ type: "bringUp", job: step.state.job, config: recipeA });

    const upJob = step.state.job;
    step = run(step.state, { type: "jobDone", job: upJob, ok: true });
    expect(step.state.phase).toBe("configured");
    expect(types(step.effects)).toEqual(["clearTimer", "publish", "startChildren"]);
    expect(step.effects).toContainEqual({
      type: "startChildren",
      children: upJob,
      config: recipeA,
    });
    expect(step.state.children).toBe(upJob);
  });

  it("treats a configure with the same normalized config as a no-op (no bounce)", () => {
    const state = configured(recipeA);
    const same = rawConfig("eth0", { type: "test", name: "A" }, { retryMillis: 1_000 });
    expect(reduce(state, { type: "configure", config: same })).toEqual({ state, effects: [] });
  });

  it("stops the children of the old recipe when reconfiguring from configured", () => {
    const state = configured(recipeA);
    const step = run(state, { type: "configure", config: recipeB });
    expect(step.effects).toContainEqual({
      type: "tearDown",
      job: step.state.job,
      config: recipeA,
      stopChildren: true,
    });
    expect(step.state.children).toBe(0);
  });

  it("queues configures that arrive during tear-down; the newest wins", () => {
    let step = run(configured(recipeA), { type: "configure", config: recipeB });
    const teardown = step.state.job;
    step = run(
      step.state,
      { type: "configure", config: recipeB },
      { type: "configure", config: recipeC },
    );
    expect(step.state.phase).toBe("reconfiguring");
    expect(types(step.effects)).toEqual([]);
    step = run(step.state, { type: "childrenStopped", job: teardown });
    step = run(step.state, { type: "jobDone", job: teardown, ok: true });
    expect(step.effects).toContainEqual({ type: "bringUp", job: step.state.job, config: recipeC });
    expect(
      step.effects.some((effect) => effect.type === "bringUp" && effect.config === recipeB),
    ).toBe(false);
  });

  it("tears down a failed bring-up, then retries after retryMillis", () => {
    let step = run(configured(recipeA), { type: "configure", config: recipeB });
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    const upJob = step.state.job;
    step = run(step.state, { type: "jobDone", job: upJob, ok: false, reason: "ip: exit 1" });
    expect(step.state.phase).toBe("reconfiguring");
    expect(step.effects).toContainEqual({
      type: "tearDown",
      job: step.state.job,
      config: recipeB,
      stopChildren: false,
    });
    expect(step.effects).toContainEqual(
      expect.objectContaining({
        type: "log",
        level: "warn",
        message: expect.stringContaining("ip: exit 1"),
      }),
    );
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    expect(step.state.phase).toBe("retrying");
    expect(step.effects).toContainEqual({ type: "setTimer", timer: step.state.timer, ms: 1_000 });
    step = run(step.state, { type: "timeout", timer: step.state.timer });
    expect(step.state.phase).toBe("configuring");
    expect(step.effects).toContainEqual({ type: "bringUp", job: step.state.job, config: recipeB });
  });

  it("aborts up commands that exceed upCommandMillis, tears down, and retries", () => {
    let step = run(start(), { type: "configure", config: recipeA });
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    const upJob = step.state.job;
    step = run(step.state, { type: "timeout", timer: step.state.timer });
    expect(step.effects).toContainEqual({ type: "abortJob", job: upJob });
    expect(step.state.phase).toBe("configuring");
    // The aborted job reports back once its processes are gone (ok is ignored when aborting).
    step = run(step.state, { type: "jobDone", job: upJob, ok: true });
    expect(step.state.phase).toBe("reconfiguring");
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    expect(step.state.phase).toBe("retrying");
  });

  it("aborts down commands that exceed downCommandMillis and carries on", () => {
    let step = run(configured(recipeA), { type: "configure", config: recipeB });
    const teardown = step.state.job;
    step = run(step.state, { type: "childrenStopped", job: teardown });
    step = run(step.state, { type: "timeout", timer: step.state.timer });
    expect(step.effects).toContainEqual({ type: "abortJob", job: teardown });
    step = run(step.state, { type: "jobDone", job: teardown, ok: false });
    expect(step.state.phase).toBe("configuring");
    expect(step.effects).toContainEqual({ type: "bringUp", job: step.state.job, config: recipeB });
  });

  it("a configure during bring-up aborts it, tears it down, then applies the new recipe", () => {
    let step = run(start(), { type: "configure", config: recipeA });
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    const upJob = step.state.job;
    step = run(step.state, { type: "configure", config: recipeB });
    expect(types(step.effects)).toEqual(["abortJob", "clearTimer"]);
    step = run(step.state, { type: "configure", config: recipeC });
    expect(types(step.effects)).toEqual([]);
    step = run(step.state, { type: "jobDone", job: upJob, ok: false });
    expect(step.effects).toContainEqual({
      type: "tearDown",
      job: step.state.job,
      config: recipeA,
      stopChildren: false,
    });
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    expect(step.effects).toContainEqual({ type: "bringUp", job: step.state.job, config: recipeC });
  });

  it("hotplug: a required interface that disappears is torn down and brought up when it returns", () => {
    let step = run(configured(recipeA), { type: "presence", ifname: "eth0", present: false });
    expect(step.state.phase).toBe("reconfiguring");
    expect(step.effects).toContainEqual(
      expect.objectContaining({ type: "tearDown", stopChildren: true }),
    );
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    expect(step.state.phase).toBe("retrying");
    expect(sameConfig(step.state.current, recipeA)).toBe(true);
    // The retry timer alone does not bring it up while it is missing.
    step = run(step.state, { type: "timeout", timer: step.state.timer });
    expect(step.state.phase).toBe("retrying");
    expect(types(step.effects)).toEqual(["setTimer"]);
    // It comes back: bring-up at once, no waiting for the timer.
    step = run(step.state, { type: "presence", ifname: "eth0", present: true });
    expect(step.state.phase).toBe("configuring");
    expect(types(step.effects)).toEqual(["clearTimer", "publish", "bringUp", "setTimer"]);
  });

  it("waits in retrying when the required interface is missing at configure time", () => {
    let step = run(start([]), { type: "configure", config: recipeA });
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    expect(step.state.phase).toBe("retrying");
    expect(published(step.effects)).toEqual(["retrying"]);
  });

  it("unplug during bring-up aborts it and waits", () => {
    let step = run(start(), { type: "configure", config: recipeA });
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    const upJob = step.state.job;
    step = run(step.state, { type: "presence", ifname: "eth0", present: false });
    expect(step.effects).toContainEqual({ type: "abortJob", job: upJob });
    step = run(step.state, { type: "jobDone", job: upJob, ok: false });
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    expect(step.state.phase).toBe("retrying");
  });

  it("presence follows every config switch: the new recipe's required interfaces count", () => {
    // Waiting for eth0 with recipe A; switch to a recipe that needs wlan0, which is present.
    let step = run(start(["wlan0"]), { type: "configure", config: recipeA });
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    expect(step.state.phase).toBe("retrying");
    step = run(step.state, { type: "configure", config: onWlan });
    expect(step.state.phase).toBe("configuring");
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    expect(step.state.phase).toBe("configured");
    // eth0 no longer matters; wlan0 does.
    expect(run(step.state, { type: "presence", ifname: "eth0", present: true }).effects).toEqual(
      [],
    );
    step = run(step.state, { type: "presence", ifname: "wlan0", present: false });
    expect(step.state.phase).toBe("reconfiguring");
  });

  it("a configure in retrying applies the new recipe at once when its interfaces are present", () => {
    let step = run(start([]), { type: "configure", config: recipeA });
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    const waiting = step.state;
    expect(reduce(waiting, { type: "configure", config: recipeA }).effects).toEqual([]);
    step = run(waiting, { type: "configure", config: recipeB });
    expect(step.state.phase).toBe("retrying");
    expect(sameConfig(step.state.current, recipeB)).toBe(true);
    expect(types(step.effects)).toEqual(["publish", "clearTimer", "setTimer"]);
  });

  it("a daemon or service that gives up makes the machine tear down and retry", () => {
    const state = configured(recipeA);
    expect(reduce(state, { type: "childFailed", children: 999, reason: "old" }).effects).toEqual(
      [],
    );
    let step = run(state, {
      type: "childFailed",
      children: state.children,
      reason: "udhcpc gave up",
    });
    expect(step.effects).toContainEqual(
      expect.objectContaining({ type: "tearDown", stopChildren: true }),
    );
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    expect(step.state.phase).toBe("retrying");
  });

  it("ignores stale completions and timers", () => {
    let step = run(configured(recipeA), { type: "configure", config: recipeB });
    const before = step.state;
    step = run(
      before,
      { type: "jobDone", job: before.job - 1, ok: true },
      { type: "timeout", timer: 12345 },
      { type: "childrenStopped", job: before.job + 7 },
    );
    expect(step.state).toEqual(before);
    expect(step.effects).toEqual([]);
  });

  it("stop tears down whatever runs and ends in stopped, ignoring everything after", () => {
    let step = run(configured(recipeA), { type: "stop" });
    expect(step.effects).toContainEqual(
      expect.objectContaining({ type: "tearDown", stopChildren: true }),
    );
    step = run(step.state, { type: "configure", config: recipeB });
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    expect(step.state.phase).toBe("stopped");
    expect(types(step.effects)).toContainEqual("stopped");
    expect(reduce(step.state, { type: "configure", config: recipeC }).effects).toEqual([]);
  });

  it("stop during bring-up aborts it and tears it down", () => {
    let step = run(start(), { type: "configure", config: recipeA });
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    const upJob = step.state.job;
    step = run(step.state, { type: "stop" }, { type: "configure", config: recipeB });
    expect(step.effects).toContainEqual({ type: "abortJob", job: upJob });
    step = run(step.state, { type: "jobDone", job: upJob, ok: false });
    expect(step.effects).toContainEqual(
      expect.objectContaining({ type: "tearDown", config: recipeA }),
    );
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    expect(step.state.phase).toBe("stopped");
  });

  it("stop while retrying clears the timer and stops at once", () => {
    let step = run(start([]), { type: "configure", config: recipeA });
    step = run(step.state, { type: "childrenStopped", job: step.state.job });
    step = run(step.state, { type: "jobDone", job: step.state.job, ok: true });
    const timer = step.state.timer;
    step = run(step.state, { type: "stop" });
    expect(step.effects).toEqual([{ type: "clearTimer", timer }, { type: "stopped" }]);
  });

  describe("property: any event sequence", () => {
    const recipes = [recipeA, recipeB, recipeC, onWlan, nullRecipe];
    type Action =
      | { kind: "configure"; index: number }
      | { kind: "presence"; ifname: string; present: boolean }
      | { kind: "finishJob"; ok: boolean }
      | { kind: "childrenStopped" }
      | { kind: "fireTimer" }
      | { kind: "childFailed" };
    const action: fc.Arbitrary<Action> = fc.oneof(
      fc.record({ kind: fc.constant("configure" as const), index: fc.nat(recipes.length - 1) }),
      fc.record({
        kind: fc.constant("presence" as const),
        ifname: fc.constantFrom("eth0", "wlan0"),
        present: fc.boolean(),
      }),
      fc.record({ kind: fc.constant("finishJob" as const), ok: fc.boolean() }),
      fc.record({ kind: fc.constant("childrenStopped" as const) }),
      fc.record({ kind: fc.constant("fireTimer" as const) }),
      fc.record({ kind: fc.constant("childFailed" as const) }),
    );

    /** A model executor: tracks the one running job and the armed timers. */
    class Model {
      state = start([]);
      runningJob:
        | { id: number; kind: "bringUp" | "tearDown"; childrenStopped: boolean }
        | undefined;
      timers = new Set<number>();
      lastPublished: string | undefined = "configured";
      lastConfigured: RawConfig = nullRecipe;

      deliver(event: MachineEvent): void {
        const { state, effects } = reduce(this.state, event);
        this.state = state;
        for (const effect of effects) {
          switch (effect.type) {
            case "bringUp":
            case "tearDown":
              // Never two jobs at once.
              expect(this.runningJob).toBeUndefined();
              this.runningJob = { id: effect.job, kind: effect.type, childrenStopped: false };
              break;
            case "setTimer":
              this.timers.add(effect.timer);
              break;
            case "clearTimer":
              this.timers.delete(effect.timer);
              break;
            case "publish":
              this.lastPublished = effect.state;
              break;
          }
        }
        if (state.phase !== "stopped") expect(this.lastPublished).toBe(state.phase);
        // A job id in the state always belongs to the running job.
        if (state.job !== 0) expect(this.runningJob?.id).toBe(state.job);
      }

      apply(step: Action): void {
        switch (step.kind) {
          case "configure":
            this.lastConfigured = recipes[step.index]!;
            this.deliver({ type: "configure", config: this.lastConfigured });
            return;
          case "presence":
            this.deliver({ type: "presence", ifname: step.ifname, present: step.present });
            return;
          case "finishJob": {
            const job = this.runningJob;
            if (!job) return;
            if (job.kind === "tearDown" && !job.childrenStopped) this.childrenStopped();
            this.runningJob = undefined;
            this.deliver({ type: "jobDone", job: job.id, ok: step.ok });
            return;
          }
          case "childrenStopped":
            this.childrenStopped();
            return;
          case "fireTimer": {
            const [timer] = this.timers;
            if (timer === undefined) return;
            this.timers.delete(timer);
            this.deliver({ type: "timeout", timer });
            return;
          }
          case "childFailed":
            this.deliver({
              type: "childFailed",
              children: this.state.children,
              reason: "x",
            });
            return;
        }
      }

      childrenStopped(): void {
        const job = this.runningJob;
        if (job?.kind !== "tearDown" || job.childrenStopped) return;
        job.childrenStopped = true;
        this.deliver({ type: "childrenStopped", job: job.id });
      }

      /** Everything present, every job succeeds, timers fire: must end configured as asked. */
      settle(): void {
        this.deliver({ type: "presence", ifname: "eth0", present: true });
        this.deliver({ type: "presence", ifname: "wlan0", present: true });
        for (let round = 0; round < 20; round++) {
          if (this.runningJob) this.apply({ kind: "finishJob", ok: true });
          else if (this.timers.size > 0) this.apply({ kind: "fireTimer" });
          else break;
        }
      }
    }

    it("keeps one job at a time, publishes every phase, and settles on the last config", () => {
      fc.assert(
        fc.property(fc.array(action, { maxLength: 60 }), (actions) => {
          const model = new Model();
          for (const step of actions) model.apply(step);
          model.settle();
          expect(model.state.phase).toBe("configured");
          expect(model.runningJob).toBeUndefined();
          expect(sameConfig(model.state.current, model.lastConfigured)).toBe(true);
        }),
        { numRuns: 500 },
      );
    });
  });
});
