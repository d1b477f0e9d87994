// fwup for updates: argv (pure), frame → message mapping (pure), and the version probe.
import type { CommandRunner } from "@runtime/command";
import type { FwupFrame } from "@runtime/kv";
import type { FwupSettings } from "../config.js";
import type { FwupMessage } from "./types.js";

/** Default `-d` when neither the configuration nor KV `nerves_fw_devpath` names a device. */
export const DEFAULT_DEVPATH = "/dev/mmcblk0";

/**
 * fwup's arguments for an update (reference §8.1), without `--framing`/`--exit-handshake` (which
 * `startFwup` adds): `--apply --no-unmount -d DEV --task TASK [-i FILE] [extra] --public-key K…`.
 */
export function fwupUpdateArgs(
  settings: Pick<FwupSettings, "task" | "extraOptions">,
  devpath: string,
  publicKeys: readonly string[],
  inputFile?: string,
): string[] {
  return [
    "--apply",
    "--no-unmount",
    "-d",
    devpath,
    "--task",
    settings.task,
    ...(inputFile !== undefined ? ["-i", inputFile] : []),
    ...settings.extraOptions,
    ...publicKeys.flatMap((key) => ["--public-key", key]),
  ];
}

/** Quirk 27: configuration first, then KV `nerves_fw_devpath`, then `/dev/mmcblk0`. */
export function resolveDevpath(
  configured: string | undefined,
  kvDevpath: string | undefined,
): string {
  return configured ?? kvDevpath ?? DEFAULT_DEVPATH;
}

/** A framed record as Link's `handle_fwup_message` argument. */
export function fwupMessageOf(frame: FwupFrame): FwupMessage {
  switch (frame.type) {
    case "PR":
      return { type: "progress", percent: frame.code };
    case "OK":
      return { type: "ok", code: frame.code, message: frame.text };
    case "WN":
      return { type: "warning", code: frame.code, message: frame.text };
    default:
      return { type: "error", code: frame.code, message: frame.text };
  }
}

/** `fwup --version` (trimmed), or undefined when fwup is not installed or fails. */
export async function fwupVersion(
  runner: CommandRunner,
  path: string,
): Promise<string | undefined> {
  try {
    const result = await runner.run([path, "--version"], { timeoutMs: 5_000, allowFailure: true });
    if (result.exitCode !== 0) return undefined;
    const version = result.stdout.trim();
    return version === "" ? undefined : version;
  } catch {
    return undefined;
  }
}
