import { errorMessage } from "@runtime/errors";
// Runs fwup for an update through @runtime/kv's startFwup and maps how it ended to an outcome:
// `ER` records and non-zero exits → `fwup` (Link's "FWUP error : …"), a missing or misbehaving
// fwup → `update`.
import { FwupError, type FwupSession, fwupOutcomeError, startFwup } from "@runtime/kv";
import type { UpdaterOutcome } from "../update-machine.js";
import { fwupMessageOf, fwupUpdateArgs } from "./fwup.js";
import type { UpdaterContext } from "./types.js";

export function startUpdateFwup(
  context: UpdaterContext,
  devpath: string,
  inputFile?: string,
): FwupSession {
  return startFwup(
    context.runner,
    fwupUpdateArgs(context.fwup, devpath, context.fwupPublicKeys, inputFile),
    {
      fwupPath: context.fwup.path,
      env: context.fwup.env,
      input: inputFile === undefined,
      exitHandshake: true,
      timeoutMs: context.fwup.timeoutMs,
      signal: context.signal,
      onFrame: (frame) => {
        const message = fwupMessageOf(frame);
        if (message.type === "progress") context.progress("updating", message.percent);
        context.fwupMessage(message);
      },
    },
  );
}

/** The outcome of a finished fwup session (never throws). */
export async function fwupOutcome(session: FwupSession, finish: boolean): Promise<UpdaterOutcome> {
  try {
    const outcome = finish ? await session.finish() : await session.outcome;
    const error = fwupOutcomeError(outcome);
    if (!error) return { ok: true };
    return { ok: false, kind: "fwup", reason: error.fwupMessage ?? error.message };
  } catch (error) {
    if (error instanceof FwupError)
      return { ok: false, kind: "update", reason: `${error.code}: ${error.message}` };
    return {
      ok: false,
      kind: "unexpected",
      reason: errorMessage(error),
    };
  }
}
