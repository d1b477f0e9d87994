import type { CommandRunner } from "@runtime/command";
import { errorMessage } from "@runtime/errors";
import { KEYS } from "./firmware-rules.js";
import type { KV } from "./kv.js";

/** What {@link readSerialNumber} returns when no source gives a serial number. */
export const UNCONFIGURED_SERIAL_NUMBER = "unconfigured";

export interface SerialNumberOptions {
  /** Consulted first: `nerves_serial_number`. */
  kv?: KV;
  /** Runs `command`. Without a runner the command is skipped. */
  runner?: CommandRunner;
  /** Second source: its trimmed stdout on exit status 0. Default `["boardid"]`; `false` skips it. */
  command?: readonly string[] | false;
  /** Third source: your own function (its errors are logged, never thrown). */
  provider?: () => string | undefined | Promise<string | undefined>;
  /** Returned when every source is empty or fails. Default `"unconfigured"`. */
  fallback?: string;
  /** Time limit for the command. Default 5 000 ms. */
  timeoutMs?: number;
  logger?: Pick<Console, "warn">;
}

/** What {@link readSerialNumberWithSource} reports. */
export interface SerialNumberResult {
  serialNumber: string;
  source: "kv" | "command" | "provider" | "fallback";
}

function usable(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Like {@link readSerialNumber}, and says where the answer came from. Never throws. */
export async function readSerialNumberWithSource(
  options: SerialNumberOptions = {},
): Promise<SerialNumberResult> {
  const logger = options.logger ?? console;
  const fromKv = usable(options.kv?.get(KEYS.serialNumber));
  if (fromKv) return { serialNumber: fromKv, source: "kv" };

  const command = options.command === undefined ? ["boardid"] : options.command;
  if (command !== false && command.length > 0 && options.runner) {
    try {
      const result = await options.runner.run(command, {
        timeoutMs: options.timeoutMs ?? 5_000,
      });
      const fromCommand = usable(result.stdout);
      if (fromCommand) return { serialNumber: fromCommand, source: "command" };
    } catch (error) {
      // A missing boardid is normal on many systems: say so once per call, quietly.
      logger.warn(`serial number: ${command.join(" ")} gave none (${errorMessage(error)})`);
    }
  }

  if (options.provider) {
    try {
      const fromProvider = usable(await options.provider());
      if (fromProvider) return { serialNumber: fromProvider, source: "provider" };
    } catch (error) {
      logger.warn(`serial number: provider failed (${errorMessage(error)})`);
    }
  }
  return { serialNumber: options.fallback ?? UNCONFIGURED_SERIAL_NUMBER, source: "fallback" };
}

/**
 * The device's serial number, from the first source that has one: `nerves_serial_number` in the
 * KV store, then `boardid` (or your command), then your `provider`, else `"unconfigured"`. Never
 * throws.
 */
export async function readSerialNumber(options: SerialNumberOptions = {}): Promise<string> {
  return (await readSerialNumberWithSource(options)).serialNumber;
}
