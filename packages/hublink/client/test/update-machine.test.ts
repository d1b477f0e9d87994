import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { UpdateInfo } from "../src/update-info.js";
import {
  delayFor,
  failureReason,
  gateProgress,
  INITIAL_PROGRESS_GATE,
  INITIAL_UPDATE_STATE,
  NO_KEYS_REASON,
  normalizeDecision,
  type UpdateEvent,
  type UpdateState,
  updateTransition,
} from "../src/update-machine.js";

function info(uuid = "new-uuid"): UpdateInfo {
  return {
    firmwareUrl: "http://h/fw",
    firmwareMeta: {
      uuid,
      version: "2.0.0",
      product: "p",
      platform: "x",
      architecture: "y",
      author: null,
      description: null,
      misc: null,
      vcsIdentifier: null,
      fwupVersion: null,
    },
    size: 10,
    checksum: null,
    partialsChecksums: [],
    deploymentId: null,
  };
}

const offer = (uuid = "new-uuid", runningUuid = "old-uuid", canVerify = true): UpdateEvent => ({
  type: "offer",
  info: info(uuid),
  runningUuid,
  canVerify,
});

const decide = (answer: unknown): UpdateEvent => ({
  type: "decision",
  answer,
  rescheduleUnit: "milliseconds",
});

function statuses(effects: ReturnType<typeof updateTransition>["effects"]) {
  return effects.flatMap((effect) => (effect.type === "status" ? [effect.payload] : []));
}

describe("update decision state machine (reference §5.3)", () => {
  it("sends received, asks the application, then applies", () => {
    const offered = updateTransition(INITIAL_UPDATE_STATE, offer());
    expect(offered.state.phase).toBe("deciding");
    expect(statuses(offered.effects)).toEqual([{ status: "received" }]);
    expect(offered.effects.some((effect) => effect.type === "ask")).toBe(true);
    const applied = updateTransition(offered.state, decide("apply"));
    expect(applied.state).toMatchObject({
      phase: "updating",
      info: { firmwareMeta: { uuid: "new-uuid" } },
    });
    expect(applied.effects).toEqual([{ type: "apply", info: info() }]);
  });

  it("skips firmware already running without asking (received → ignored, quirk 28)", () => {
    const result = updateTransition(INITIAL_UPDATE_STATE, offer("same", "same"));
    expect(result.state).toEqual(INITIAL_UPDATE_STATE);
    expect(statuses(result.effects)).toEqual([
      { status: "received" },
      { status: "ignored", reason: "firmware same is already running" },
    ]);
    expect(result.effects.some((effect) => effect.type === "ask")).toBe(false);
  });

  it("refuses unverifiable firmware like NervesHubLink 2.12", () => {
    const result = updateTransition(INITIAL_UPDATE_STATE, offer("n", "o", false));
    expect(statuses(result.effects)).toEqual([{ status: "failed", reason: NO_KEYS_REASON }]);
    expect(result.state.phase).toBe("idle");
  });

  it("drops a second offer silently while deciding or updating (quirk 8)", () => {
    const deciding = updateTransition(INITIAL_UPDATE_STATE, offer()).state;
    const updating = updateTransition(deciding, decide("apply")).state;
    for (const state of [deciding, updating]) {
      const result = updateTransition(state, offer("other"));
      expect(result.state).toBe(state);
      expect(statuses(result.effects)).toEqual([]);
      expect(result.effects).toEqual([expect.objectContaining({ type: "log", level: "info" })]);
    }
  });

  it("answers ignore and reschedule with their statuses and goes idle", () => {
    const deciding = updateTransition(INITIAL_UPDATE_STATE, offer()).state;
    expect(statuses(updateTransition(deciding, decide("ignore")).effects)).toEqual([
      { status: "ignored", reason: "" },
    ]);
    expect(statuses(updateTransition(deciding, decide({ ignore: "on battery" })).effects)).toEqual([
      { status: "ignored", reason: "on battery" },
    ]);
    expect(statuses(updateTransition(deciding, decide({ reschedule: 900_000 })).effects)).toEqual([
      { status: "rescheduled", delay_for: 900_000 },
    ]);
    const minutes = updateTransition(deciding, {
      type: "decision",
      answer: { reschedule: 60_000, reason: "busy" },
      rescheduleUnit: "minutes",
    });
    expect(statuses(minutes.effects)).toEqual([
      { status: "rescheduled", delay_for: 5, reason: "busy" },
    ]);
    expect(minutes.state).toEqual(INITIAL_UPDATE_STATE);
  });

  it("applies after an unrecognised or throwing callback, and says so", () => {
    const deciding = updateTransition(INITIAL_UPDATE_STATE, offer()).state;
    for (const answer of [
      undefined,
      "later",
      { reschedule: -1 },
      { thrown: new Error("boom") },
      42,
    ]) {
      const result = updateTransition(deciding, decide(answer));
      expect(result.state.phase).toBe("updating");
      expect(result.effects[0]).toMatchObject({ type: "log", level: "error" });
      expect(result.effects[1]).toMatchObject({ type: "apply" });
    }
  });

  it("reports completion with a final 100 % and failure with Link's reason prefixes", () => {
    const updating = updateTransition(
      updateTransition(INITIAL_UPDATE_STATE, offer()).state,
      decide("apply"),
    ).state;
    const done = updateTransition(updating, { type: "finished", outcome: { ok: true } });
    expect(done.effects.slice(0, 2)).toEqual([
      { type: "progress", stage: "updating", value: 100 },
      { type: "status", payload: { status: "completed" } },
    ]);
    expect(done.effects[2]).toMatchObject({ type: "completed" });
    expect(done.state).toEqual(INITIAL_UPDATE_STATE);
    const failed = updateTransition(updating, {
      type: "finished",
      outcome: { ok: false, kind: "fwup", reason: "Bad signature" },
    });
    expect(statuses(failed.effects)).toEqual([
      { status: "failed", reason: 'FWUP error : "Bad signature"' },
    ]);
  });

  it("ignores decisions and outcomes that arrive out of order", () => {
    expect(updateTransition(INITIAL_UPDATE_STATE, decide("apply")).effects[0]).toMatchObject({
      type: "log",
      level: "warn",
    });
    expect(
      updateTransition(INITIAL_UPDATE_STATE, { type: "finished", outcome: { ok: true } }).state,
    ).toEqual(INITIAL_UPDATE_STATE);
  });

  it("never has more than one update at a time, whatever the event sequence", () => {
    const event = fc.oneof(
      fc.record({
        type: fc.constant("offer" as const),
        uuid: fc.constantFrom("a", "b", "run"),
        canVerify: fc.boolean(),
      }),
      fc.record({
        type: fc.constant("decision" as const),
        answer: fc.constantFrom<unknown>("apply", "ignore", { reschedule: 5 }, null),
      }),
      fc.record({ type: fc.constant("finished" as const), ok: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        let state: UpdateState = INITIAL_UPDATE_STATE;
        let applying = 0;
        for (const item of events) {
          const next: UpdateEvent =
            item.type === "offer"
              ? {
                  type: "offer",
                  info: info(item.uuid),
                  runningUuid: "run",
                  canVerify: item.canVerify,
                }
              : item.type === "decision"
                ? decide(item.answer)
                : {
                    type: "finished",
                    outcome: item.ok ? { ok: true } : { ok: false, kind: "download", reason: "x" },
                  };
          const result = updateTransition(state, next);
          for (const effect of result.effects) {
            if (effect.type === "apply") applying++;
            if (effect.type === "completed" || effect.type === "failed")
              applying = Math.max(0, applying - (effect.info ? 1 : 0));
          }
          expect(applying).toBeLessThanOrEqual(1);
          expect(result.state.phase === "idle").toBe(result.state.info === null);
          // An offer while busy never produces a status.
          if (next.type === "offer" && state.phase !== "idle")
            expect(statuses(result.effects)).toEqual([]);
          state = result.state;
        }
      }),
    );
  });
});

describe("decisions, units and reasons", () => {
  it("normalizes answers", () => {
    expect(normalizeDecision("apply")).toEqual({ kind: "apply", valid: true });
    expect(normalizeDecision({ reschedule: 1.6 })).toEqual({ kind: "reschedule", ms: 2 });
    expect(normalizeDecision({ reschedule: 10, reason: 3 })).toMatchObject({
      kind: "apply",
      valid: false,
    });
  });

  it("converts the reschedule delay (quirk 1)", () => {
    expect(delayFor(900_000, "milliseconds")).toBe(900_000);
    expect(delayFor(900_000, "minutes")).toBe(15);
    expect(delayFor(1_000, "minutes")).toBe(5);
  });

  it("uses NervesHubLink's failure prefixes", () => {
    expect(failureReason({ ok: false, kind: "update", reason: "x" })).toBe("Update failed : x");
    expect(failureReason({ ok: false, kind: "download", reason: "x" })).toBe("Download failed : x");
    expect(failureReason({ ok: false, kind: "unexpected", reason: "x" })).toBe(
      "Unexpected error : x",
    );
  });
});

describe("progress throttling", () => {
  /** The values gateProgress lets through for these [percent, now] reports. */
  function sentValues(reports: ReadonlyArray<readonly [number, number]>): number[] {
    let gate = INITIAL_PROGRESS_GATE;
    const sent: number[] = [];
    for (const [percent, now] of reports) {
      const result = gateProgress(gate, percent, now);
      if (result.send) sent.push(result.value);
      gate = result.gate;
    }
    return sent;
  }

  it("sends the first value, then only increases at least 500 ms apart", () => {
    expect(
      sentValues([
        [0, 1000],
        [1, 1100],
        [2, 1600],
        [2, 2200],
        [2.6, 1900],
        [50, 3000],
        [49, 4000],
        [100, 4600],
      ]),
    ).toEqual([0, 2, 50, 100]);
  });

  it("never holds back the end of a stage (100), and sends it once", () => {
    expect(
      sentValues([
        [10, 1000],
        [99.6, 1010],
        [100, 1020],
        [100, 2000],
      ]),
    ).toEqual([10, 100]);
  });
});
