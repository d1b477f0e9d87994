/**
 * Firmware state operations: validation, slots, revert. Runs the system's fwup ops tasks when
 * fwup and an ops archive exist, and otherwise writes the documented variables directly.
 */
import { access, constants } from "node:fs/promises";
import type { CommandRunner } from "@runtime/command";
import { FwupError } from "./errors.js";
import {
  type FirmwareMetadata,
  type FirmwareSlots,
  firmwareMetadata,
  isFirmwareValid,
  otherSlot,
  revertChanges,
  slotsFromEntries,
  slotsFromFwupStatus,
  type ValidationStatus,
  validationChanges,
  validationStatus,
} from "./firmware-rules.js";
import { type FwupOutcome, fwupOutcomeError, startFwup } from "./fwup.js";
import type { KV } from "./kv.js";
import type { Power } from "./power.js";

/** Default ops archive of a Nerves-style system. */
export const DEFAULT_OPS_FW_PATH = "/usr/share/fwup/ops.fw";
/** Older systems ship only this one. */
export const LEGACY_OPS_FW_PATH = "/usr/share/fwup/revert.fw";
/** Default device passed to fwup (a Nerves symlink to the real disk). */
export const DEFAULT_FWUP_DEVPATH = "/dev/rootdisk0";

export interface FwupOpsOptions {
  /** fwup executable, found on the runner's PATH. Default `fwup`. */
  fwupPath?: string;
  /** Ops archive; the first existing of this, then `legacyOpsFwPath`, is used. */
  opsFwPath?: string;
  /** Default `/usr/share/fwup/revert.fw`; `false` to not look for it. */
  legacyOpsFwPath?: string | false;
  /** Device for `-d`. Default `/dev/rootdisk0`. */
  devpath?: string;
  /** Extra environment variables for fwup. */
  env?: Readonly<Record<string, string>>;
  /** Extra arguments after the standard ones, e.g. `["--unsafe"]`. */
  extraOptions?: readonly string[];
  /** Time limit per task. Default 120 000 ms (TRIM of a large partition takes a while). */
  timeoutMs?: number;
}

export interface FirmwareOptions {
  kv: KV;
  /** Runs fwup. Without a runner, fwup is never tried (the direct fallbacks are used). */
  runner?: CommandRunner;
  /** fwup ops settings; `false`: never run fwup. */
  fwup?: FwupOpsOptions | false;
  /** Reboots after `revert()` (unless `reboot: false`). */
  power?: Power;
  /**
   * When fwup is not installed or there is no ops archive, write the documented variables
   * directly (see README). Default true. With `false` those cases throw the `FwupError`.
   */
  directFallback?: boolean;
  /**
   * When fwup ran and its `validate` task failed, also write the variables directly (what
   * nerves_runtime does for every error). Default false: the `FwupError` is thrown.
   */
  fallbackOnFwupError?: boolean;
  logger?: Pick<Console, "warn">;
}

/** Why a direct fallback was used: fwup or its ops archive is missing. */
function isUnavailable(error: unknown): error is FwupError {
  return (
    error instanceof FwupError &&
    (error.code === "FWUP_NOT_FOUND" || error.code === "OPS_FW_NOT_FOUND")
  );
}

/**
 * Firmware metadata, validation, slots and revert on top of a {@link KV} store.
 *
 * ```ts
 * const firmware = new Firmware({ kv, runner: createCommandRunner(), power });
 * if (firmware.validationStatus() === "unvalidated" && (await healthy())) {
 *   await firmware.validateFirmware();
 * }
 * ```
 */
export class Firmware {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly kv: KV;

  constructor(private readonly options: FirmwareOptions) {
    this.kv = options.kv;
  }

  /** Metadata of the running firmware (`<active>.nerves_fw_*`). */
  active(): FirmwareMetadata {
    return firmwareMetadata(this.kv.getAll(), this.kv.activeSlot);
  }

  /** Metadata of the other slot (previous or next firmware), possibly empty. */
  inactive(): FirmwareMetadata {
    return firmwareMetadata(this.kv.getAll(), otherSlot(this.kv.activeSlot));
  }

  /**
   * `validated`, `unvalidated` or `unknown` from the cached variables (see README for the rule).
   * Call `kv.reload()` first if something outside this process may have changed them.
   */
  validationStatus(): ValidationStatus {
    return validationStatus(this.kv.getAll(), this.kv.activeSlot);
  }

  /** True unless the firmware is explicitly unvalidated. */
  isFirmwareValid(): boolean {
    return isFirmwareValid(this.kv.getAll(), this.kv.activeSlot);
  }

  /**
   * Marks the running firmware good so the bootloader keeps it: runs the ops task `validate`
   * and reloads the store; without fwup or an ops archive, writes the variables directly
   * (`validationChanges`). A failing fwup throws a `FwupError` carrying fwup's message.
   */
  async validateFirmware(): Promise<void> {
    try {
      await this.runOpsTask("validate");
      await this.kv.reload();
    } catch (error) {
      const fallback =
        (isUnavailable(error) && this.options.directFallback !== false) ||
        (error instanceof FwupError &&
          error.code === "FWUP_FAILED" &&
          this.options.fallbackOnFwupError === true);
      if (!fallback) throw error;
      (this.options.logger ?? console).warn(
        `firmware: ${(error as Error).message}; writing the validation variables directly`,
      );
      await this.kv.reload();
      await this.kv.put(validationChanges(this.kv.getAll(), this.kv.activeSlot));
    }
  }

  /**
   * The running slot and the one the next boot will run: from the ops task `status` when
   * available, otherwise from the variables (next = active unless unvalidated). A failing `status`
   * task (fwup error, no slot line) also falls back to the variables.
   */
  async firmwareSlots(): Promise<FirmwareSlots> {
    try {
      const outcome = await this.runOpsTask("status");
      const slots = slotsFromFwupStatus(outcome.frames);
      if (slots) return slots;
      throw new FwupError("FWUP_BAD_STATUS", "fwup task status printed no slot (a or a->b)", {
        task: "status",
      });
    } catch (error) {
      if (!(error instanceof FwupError)) throw error;
      return slotsFromEntries(this.kv.getAll());
    }
  }

  /**
   * Switches back to the other slot: runs the ops task `revert`, reloads the store, then reboots
   * through `power` unless `reboot: false`. Without fwup or an ops archive, writes
   * `nerves_fw_active` and friends directly after checking the other slot holds compatible,
   * not-rejected firmware (`REVERT_UNAVAILABLE` otherwise).
   */
  async revert(options: { reboot?: boolean } = {}): Promise<void> {
    // Checked first: reverting and then not rebooting would leave the device half-way.
    if (options.reboot !== false && !this.options.power) {
      throw new TypeError(
        "revert() reboots through `power`: pass one to Firmware, or call revert({ reboot: false })",
      );
    }
    try {
      await this.runOpsTask("revert");
      await this.kv.reload();
    } catch (error) {
      if (!isUnavailable(error) || this.options.directFallback === false) throw error;
      (this.options.logger ?? console).warn(
        `firmware: ${error.message}; switching slots by writing nerves_fw_active directly`,
      );
      await this.kv.reload();
      await this.kv.put(revertChanges(this.kv.getAll()));
    }
    if (options.reboot === false) return;
    await this.options.power!.reboot();
  }

  /** Runs the ops task `prevent-revert` (no fallback) and reloads the store. */
  async preventRevert(): Promise<void> {
    await this.runOpsTask("prevent-revert");
    await this.kv.reload();
  }

  /**
   * Runs one task of the system's ops archive:
   * `fwup -a -i OPS -t TASK -d DEVPATH -q -U --enable-trim --framing [extra...]`.
   * Tasks are serialized. Throws a {@link FwupError} unless fwup exits 0.
   */
  runOpsTask(task: string): Promise<FwupOutcome> {
    const run = async () => {
      const runner = this.options.runner;
      const settings = this.options.fwup;
      if (!runner || settings === false) {
        throw new FwupError("FWUP_NOT_FOUND", "can't find fwup (no command runner configured)", {
          task,
        });
      }
      const fwup = settings ?? {};
      const opsFw = await this.findOpsFw(fwup, task);
      const args = [
        "-a",
        "-i",
        opsFw,
        "-t",
        task,
        "-d",
        fwup.devpath ?? DEFAULT_FWUP_DEVPATH,
        "-q",
        "-U",
        "--enable-trim",
        "--framing",
        ...(fwup.extraOptions ?? []),
      ];
      const session = startFwup(runner, args, {
        task,
        timeoutMs: fwup.timeoutMs ?? 120_000,
        ...(fwup.fwupPath ? { fwupPath: fwup.fwupPath } : {}),
        ...(fwup.env ? { env: fwup.env } : {}),
      });
      const outcome = await session.outcome;
      const error = fwupOutcomeError(outcome, task);
      if (error) throw error;
      return outcome;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async findOpsFw(fwup: FwupOpsOptions, task: string): Promise<string> {
    const candidates = [fwup.opsFwPath ?? DEFAULT_OPS_FW_PATH];
    const legacy = fwup.legacyOpsFwPath === undefined ? LEGACY_OPS_FW_PATH : fwup.legacyOpsFwPath;
    if (legacy !== false) candidates.push(legacy);
    for (const candidate of candidates) {
      try {
        await access(candidate, constants.R_OK);
        return candidate;
      } catch {
        // try the next one
      }
    }
    throw new FwupError(
      "OPS_FW_NOT_FOUND",
      `ops.fw not found in the system (looked for ${candidates.join(", ")})`,
      { task },
    );
  }
}
