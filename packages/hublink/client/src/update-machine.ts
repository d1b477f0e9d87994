import { errorMessage } from "@runtime/errors";
// The update decision state machine (reference §5.3), pure: events in, effects out. The edge
// (update-manager.ts) performs the effects: pushes to the server, asks the application, starts the
// updater, reboots.
import type { UpdateInfo } from "./update-info.js";

export type UpdatePhase = "idle" | "deciding" | "updating";

export interface UpdateState {
  phase: UpdatePhase;
  /** The offer being decided on or applied. */
  info: UpdateInfo | null;
}

export const INITIAL_UPDATE_STATE: UpdateState = Object.freeze({ phase: "idle", info: null });

/** What the application's `updateAvailable` callback may answer. */
export type UpdateDecision =
  | "apply"
  | "ignore"
  | { ignore: string }
  | { reschedule: number; reason?: string };

/** How an updater run ended. `kind` selects NervesHubLink's reason prefix. */
export type UpdaterOutcome =
  | { ok: true }
  | { ok: false; kind: "update" | "download" | "fwup" | "unexpected"; reason: string };

/** Unit of `delay_for` in `rescheduled` (quirk 1). */
export type RescheduleUnit = "milliseconds" | "minutes";

export type UpdateEvent =
  | {
      type: "offer";
      info: UpdateInfo;
      /** UUID of the running firmware. */
      runningUuid: string | undefined;
      /** The updater can verify what it installs (fwup public keys, bundle keys). */
      canVerify: boolean;
    }
  | {
      type: "decision";
      /** What the callback returned, or `{ thrown }` if it threw. */
      answer: unknown;
      rescheduleUnit: RescheduleUnit;
    }
  | { type: "finished"; outcome: UpdaterOutcome };

export type StatusPayload = { status: string } & Record<string, string | number | null>;

export type UpdateEffect =
  | { type: "status"; payload: StatusPayload }
  | { type: "progress"; stage: "downloading" | "updating"; value: number }
  | { type: "ask"; info: UpdateInfo }
  | { type: "apply"; info: UpdateInfo }
  | { type: "completed"; info: UpdateInfo }
  | { type: "failed"; info: UpdateInfo | null; reason: string }
  | { type: "log"; level: "debug" | "info" | "warn" | "error"; message: string };

export interface Transition {
  state: UpdateState;
  effects: UpdateEffect[];
}

export const NO_KEYS_REASON = "Refusing unverified firmware : no public keys available";

export type NormalizedDecision =
  | { kind: "apply"; valid: boolean; why?: string }
  | { kind: "ignore"; reason: string }
  | { kind: "reschedule"; ms: number; reason?: string };

/**
 * Reads a callback's answer. Anything unrecognised (including a thrown error) counts as `apply`,
 * like NervesHubLink: a broken callback must not block a fleet's updates forever; it is logged.
 */
export function normalizeDecision(answer: unknown): NormalizedDecision {
  if (answer === "apply") return { kind: "apply", valid: true };
  if (answer === "ignore") return { kind: "ignore", reason: "" };
  if (typeof answer === "object" && answer !== null) {
    const record = answer as Record<string, unknown>;
    if ("thrown" in record) {
      const thrown = record.thrown;
      return {
        kind: "apply",
        valid: false,
        why: `updateAvailable threw: ${errorMessage(thrown)}`,
      };
    }
    if (typeof record.ignore === "string") return { kind: "ignore", reason: record.ignore };
    if (
      typeof record.reschedule === "number" &&
      Number.isFinite(record.reschedule) &&
      record.reschedule >= 0 &&
      (record.reason === undefined || typeof record.reason === "string")
    ) {
      return {
        kind: "reschedule",
        ms: Math.round(record.reschedule),
        ...(typeof record.reason === "string" ? { reason: record.reason } : {}),
      };
    }
  }
  let shown: string;
  try {
    shown = JSON.stringify(answer) ?? String(answer);
  } catch {
    shown = String(answer);
  }
  return { kind: "apply", valid: false, why: `updateAvailable returned ${shown}` };
}

/** `delay_for` for a reschedule of `ms` milliseconds in the chosen unit (quirk 1). */
export function delayFor(ms: number, unit: RescheduleUnit): number {
  // NervesHubLink: max(5, round(ms / 60000)) minutes; the server adds the number as milliseconds.
  return unit === "minutes" ? Math.max(5, Math.round(ms / 60_000)) : Math.max(0, Math.round(ms));
}

/** The `failed` reason NervesHubLink sends for an outcome (its exact prefixes). */
export function failureReason(outcome: Exclude<UpdaterOutcome, { ok: true }>): string {
  switch (outcome.kind) {
    case "update":
      return `Update failed : ${outcome.reason}`;
    case "download":
      return `Download failed : ${outcome.reason}`;
    case "fwup":
      return `FWUP error : ${JSON.stringify(outcome.reason)}`;
    default:
      return `Unexpected error : ${outcome.reason}`;
  }
}

export function updateTransition(state: UpdateState, event: UpdateEvent): Transition {
  switch (event.type) {
    case "offer": {
      const uuid = event.info.firmwareMeta.uuid;
      if (state.phase !== "idle") {
        // Quirk 8: an offer during an update is dropped without a status; the server offers it
        // again after the reboot if it still applies.
        return {
          state,
          effects: [
            {
              type: "log",
              level: "info",
              message: `update to ${uuid} ignored: an update (${state.info?.firmwareMeta.uuid}) is ${state.phase === "deciding" ? "being decided" : "in progress"}`,
            },
          ],
        };
      }
      if (!event.canVerify) {
        return {
          state,
          effects: [
            { type: "status", payload: { status: "failed", reason: NO_KEYS_REASON } },
            { type: "failed", info: event.info, reason: NO_KEYS_REASON },
          ],
        };
      }
      // Quirk 28: `received` first, whatever follows.
      const received: UpdateEffect = { type: "status", payload: { status: "received" } };
      if (event.runningUuid !== undefined && event.runningUuid === uuid) {
        return {
          state,
          effects: [
            received,
            {
              type: "status",
              payload: { status: "ignored", reason: `firmware ${uuid} is already running` },
            },
            { type: "log", level: "info", message: `update to ${uuid} skipped: already running` },
          ],
        };
      }
      return {
        state: { phase: "deciding", info: event.info },
        effects: [received, { type: "ask", info: event.info }],
      };
    }
    case "decision": {
      if (state.phase !== "deciding" || state.info === null) {
        return {
          state,
          effects: [
            { type: "log", level: "warn", message: "a decision arrived with no update pending" },
          ],
        };
      }
      const info = state.info;
      const decision = normalizeDecision(event.answer);
      if (decision.kind === "ignore") {
        return {
          state: INITIAL_UPDATE_STATE,
          effects: [{ type: "status", payload: { status: "ignored", reason: decision.reason } }],
        };
      }
      if (decision.kind === "reschedule") {
        return {
          state: INITIAL_UPDATE_STATE,
          effects: [
            {
              type: "status",
              payload: {
                status: "rescheduled",
                delay_for: delayFor(decision.ms, event.rescheduleUnit),
                ...(decision.reason !== undefined ? { reason: decision.reason } : {}),
              },
            },
          ],
        };
      }
      const effects: UpdateEffect[] = [];
      if (!decision.valid) {
        effects.push({
          type: "log",
          level: "error",
          message: `${decision.why}; applying the update (unrecognised answers count as "apply")`,
        });
      }
      effects.push({ type: "apply", info });
      return { state: { phase: "updating", info }, effects };
    }
    case "finished": {
      if (state.phase !== "updating" || state.info === null) {
        return {
          state,
          effects: [
            { type: "log", level: "warn", message: "an updater finished with no update running" },
          ],
        };
      }
      const info = state.info;
      if (event.outcome.ok) {
        return {
          state: INITIAL_UPDATE_STATE,
          effects: [
            // Older servers need the 100 % progress before `completed` (reference §15).
            { type: "progress", stage: "updating", value: 100 },
            { type: "status", payload: { status: "completed" } },
            { type: "completed", info },
          ],
        };
      }
      const reason = failureReason(event.outcome);
      return {
        state: INITIAL_UPDATE_STATE,
        effects: [
          { type: "status", payload: { status: "failed", reason } },
          { type: "failed", info, reason },
        ],
      };
    }
  }
}

/** Progress throttling shared by all updaters (reference §5.3). */
export interface ProgressGate {
  lastValue: number | null;
  lastSentMs: number;
}

export const INITIAL_PROGRESS_GATE: ProgressGate = Object.freeze({
  lastValue: null,
  lastSentMs: 0,
});

/**
 * Whether to send a progress value: the first always; later ones only when the rounded percent
 * went up and at least `intervalMs` passed since the last one sent. 100 (the stage is done, e.g.
 * the caching updater's "downloading 100", as Link reports it) is never held back.
 */
export function gateProgress(
  gate: ProgressGate,
  percent: number,
  nowMs: number,
  intervalMs = 500,
): { send: boolean; value: number; gate: ProgressGate } {
  const value = Math.min(100, Math.max(0, Math.round(percent)));
  if (gate.lastValue === null)
    return { send: true, value, gate: { lastValue: value, lastSentMs: nowMs } };
  if (value > gate.lastValue && (nowMs - gate.lastSentMs >= intervalMs || value === 100)) {
    return { send: true, value, gate: { lastValue: value, lastSentMs: nowMs } };
  }
  return { send: false, value, gate };
}
