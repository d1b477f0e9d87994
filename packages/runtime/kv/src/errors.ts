import { DeviceError } from "@runtime/errors";

/**
 * The environment does not fit its block. Thrown before anything is written, so the stored
 * environment is unchanged.
 */
export class EnvTooLargeError extends DeviceError {
  override name = "EnvTooLargeError";
  constructor(
    /** Bytes the serialized `key=value\0…\0` data needs. */
    readonly bytesNeeded: number,
    /** Bytes available for data in one block (block size minus the 4- or 5-byte header). */
    readonly capacity: number,
  ) {
    super(
      "ENV_TOO_LARGE",
      `environment needs ${bytesNeeded} bytes but its block holds ${capacity}; nothing was written`,
    );
  }
}

/** Why a copy of the environment was not used. */
export interface EnvCopyProblem {
  /** Index of the copy in the layout (0 or 1). */
  copy: number;
  /** Where it was read from, when known (`/dev/mmcblk0 @ 0x100000`). */
  where?: string;
  reason: string;
}

/**
 * Reading, writing or configuring a U-Boot environment failed. `code` says which:
 *
 * - `ENV_NO_VALID_COPY`: no copy has a matching CRC (`problems` says why for each);
 * - `ENV_CONFIG_UNREADABLE`: the `fw_env.config` file cannot be read (`path`);
 * - `ENV_DEVICE_UNREADABLE` / `ENV_WRITE_FAILED`: the device or image file (`path`) failed.
 */
export class UBootEnvError extends DeviceError {
  override name = "UBootEnvError";
  readonly path: string | undefined;
  readonly problems: readonly EnvCopyProblem[];
  constructor(
    code: string,
    message: string,
    details: { path?: string; problems?: readonly EnvCopyProblem[]; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.path = details.path;
    this.problems = details.problems ?? [];
  }
}

/** Codes of {@link FwupError}. */
export type FwupErrorCode =
  /** The fwup executable is not installed (not on the runner's PATH). */
  | "FWUP_NOT_FOUND"
  /** No ops archive at any of the configured paths. */
  | "OPS_FW_NOT_FOUND"
  /** fwup ran and failed; `fwupMessage` holds fwup's own words (its first `ER` frame). */
  | "FWUP_FAILED"
  /** fwup did not finish in time; its process group was killed. */
  | "FWUP_TIMEOUT"
  /** fwup's output was not valid `--framing` output. */
  | "FWUP_BAD_OUTPUT"
  /** The `status` task succeeded but printed no slot line (`a` or `a->b`). */
  | "FWUP_BAD_STATUS";

/** A fwup run that did not succeed. The message includes fwup's own message when it gave one. */
export class FwupError extends DeviceError {
  override name = "FwupError";
  declare readonly code: FwupErrorCode;
  /** The ops task (`validate`, `revert`, …) or `undefined` for other fwup runs. */
  readonly task: string | undefined;
  /** fwup's own error text (first `ER` frame), `"Unknown"` when it exited non-zero without one. */
  readonly fwupMessage: string | undefined;
  readonly exitCode: number | null | undefined;
  constructor(
    code: FwupErrorCode,
    message: string,
    details: {
      task?: string;
      fwupMessage?: string;
      exitCode?: number | null;
      cause?: unknown;
    } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.task = details.task;
    this.fwupMessage = details.fwupMessage;
    this.exitCode = details.exitCode;
  }
}
