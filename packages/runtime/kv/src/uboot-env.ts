/**
 * The I/O edge of the U-Boot environment: reads and writes blocks in device or image files.
 * Everything else (layout, CRC, choice of copy, serialization) is in env-codec.ts.
 */
import { open, readFile } from "node:fs/promises";
import { errorMessage } from "@runtime/errors";
import type { EnvChanges, KvBackend } from "./backend.js";
import {
  type EnvImage,
  type EnvLayout,
  type EnvRecords,
  encodeEnvBlock,
  entriesToRecords,
  planEnvWrite,
  readEnvBlocks,
  recordsToEntries,
  toByteString,
} from "./env-codec.js";
import { UBootEnvError } from "./errors.js";
import { checkLocations, type EnvLocation, parseFwEnvConfig } from "./fw-env-config.js";
import type { EnvEntries } from "./validation.js";

/** Default path of the configuration that `fw_printenv` also reads. */
export const DEFAULT_FW_ENV_CONFIG = "/etc/fw_env.config";

export interface UBootEnvOptions {
  /** Path of a `fw_env.config`. Default `/etc/fw_env.config`. Ignored when `locations` is given. */
  config?: string;
  /** Where the copies are, instead of a config file: one (single) or two (redundant). */
  locations?: readonly EnvLocation[];
  /** Receives config warnings (e.g. a size without `0x`) once. Default: `console`. */
  logger?: Pick<Console, "warn">;
}

/** What {@link UBootEnvBackend.read} found. */
export interface UBootEnvRead {
  entries: Record<string, string>;
  layout: EnvLayout;
  locations: readonly EnvLocation[];
  /** Index of the copy in use and its flag (redundant). */
  copy: number;
  flag: number | undefined;
  /** For each copy: `valid`, or why not. */
  copies: ReadonlyArray<{ valid: boolean; flag?: number; reason?: string }>;
}

function describe(location: EnvLocation): string {
  return `${location.path} @ 0x${location.offset.toString(16)}`;
}

/**
 * Reads `size` bytes at `offset`; `undefined` when the file ends first (an image file that was
 * never written that far). Throws `ENV_DEVICE_UNREADABLE` when the file cannot be opened or read.
 */
async function readBlock(location: EnvLocation): Promise<Buffer | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(location.path, "r");
    const block = Buffer.alloc(location.size);
    let filled = 0;
    while (filled < location.size) {
      const { bytesRead } = await handle.read(
        block,
        filled,
        location.size - filled,
        location.offset + filled,
      );
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === location.size ? block : block.subarray(0, filled);
  } catch (error) {
    throw new UBootEnvError(
      "ENV_DEVICE_UNREADABLE",
      `cannot read the U-Boot environment at ${describe(location)}: ${errorMessage(error)}`,
      { path: location.path, cause: error },
    );
  } finally {
    await handle?.close();
  }
}

/**
 * Writes the whole block at its offset, then fsyncs, so the block is on the medium (as far as the
 * medium tells the truth) before the promise resolves. Opened read-write without truncation:
 * works for block devices and image files alike.
 */
async function writeBlock(location: EnvLocation, block: Buffer): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(location.path, "r+");
    let written = 0;
    while (written < block.length) {
      const { bytesWritten } = await handle.write(
        block,
        written,
        block.length - written,
        location.offset + written,
      );
      written += bytesWritten;
    }
    await handle.sync();
  } catch (error) {
    throw new UBootEnvError(
      "ENV_WRITE_FAILED",
      `cannot write the U-Boot environment at ${describe(location)}: ${errorMessage(error)}`,
      { path: location.path, cause: error },
    );
  } finally {
    await handle?.close();
  }
}

/**
 * A {@link KvBackend} over a U-Boot environment in a block device or image file, configured by a
 * `fw_env.config` (one line: single copy, two lines: redundant) or by `locations`.
 *
 * - Reads take the newer valid copy (U-Boot's flag rule) and survive one corrupt copy.
 * - Writes re-read, merge, serialize and refuse an environment larger than its block before
 *   touching anything (`ENV_TOO_LARGE`). Redundant: the new block goes to the older or corrupt
 *   copy with the flag advanced (mod 256), so a power cut leaves the previous environment
 *   readable. Single: the only copy is overwritten in place; a power cut during that write can
 *   leave no valid copy (U-Boot then boots with its built-in default environment). That is why
 *   redundant layouts exist. Every write is fsynced.
 * - No locking against other processes (`fw_setenv`, fwup) writing the same environment.
 */
export class UBootEnvBackend implements KvBackend {
  readonly description: string;
  private resolved: { locations: readonly EnvLocation[]; layout: EnvLayout } | undefined;

  constructor(private readonly options: UBootEnvOptions = {}) {
    this.description = options.locations
      ? `U-Boot environment (${options.locations.map(describe).join(", ")})`
      : `U-Boot environment (${options.config ?? DEFAULT_FW_ENV_CONFIG})`;
  }

  /** The locations and layout, from the options or the config file (read once). */
  async configuration(): Promise<{ locations: readonly EnvLocation[]; layout: EnvLayout }> {
    if (this.resolved) return this.resolved;
    if (this.options.locations) {
      const layout = checkLocations(this.options.locations);
      this.resolved = { locations: [...this.options.locations], layout };
      return this.resolved;
    }
    const path = this.options.config ?? DEFAULT_FW_ENV_CONFIG;
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      throw new UBootEnvError(
        "ENV_CONFIG_UNREADABLE",
        `cannot read the U-Boot environment configuration ${path}: ${errorMessage(error)}`,
        { path, cause: error },
      );
    }
    const config = parseFwEnvConfig(text, path);
    for (const warning of config.warnings) (this.options.logger ?? console).warn(warning);
    this.resolved = { locations: config.locations, layout: config.layout };
    return this.resolved;
  }

  private async readImage(): Promise<{
    image: EnvImage;
    locations: readonly EnvLocation[];
    layout: EnvLayout;
  }> {
    const { locations, layout } = await this.configuration();
    const blocks = await Promise.all(locations.map(readBlock));
    const image = readEnvBlocks(blocks, {
      layout,
      size: locations[0]!.size,
      where: locations.map(describe),
    });
    return { image, locations, layout };
  }

  /** Reads the environment and reports which copy was used and the state of every copy. */
  async read(): Promise<UBootEnvRead> {
    const { image, locations, layout } = await this.readImage();
    return {
      entries: recordsToEntries(image.records, { ascii: image.ascii }),
      layout,
      locations,
      copy: image.copy,
      flag: image.flag,
      copies: image.copies.map((copy) =>
        copy.valid
          ? { valid: true, ...(copy.flag !== undefined ? { flag: copy.flag } : {}) }
          : { valid: false, reason: copy.reason },
      ),
    };
  }

  async load(): Promise<Record<string, string>> {
    return (await this.read()).entries;
  }

  async update(changes: EnvChanges): Promise<Record<string, string>> {
    const { image, locations, layout } = await this.readImage();
    // Merge at the byte level: variables we do not change keep their exact bytes.
    const records: EnvRecords = new Map(image.records);
    let ascii = image.ascii;
    for (const [key, value] of changes) {
      const byteKey = toByteString(key);
      if (value === null) records.delete(byteKey);
      else {
        const byteValue = toByteString(value);
        records.set(byteKey, byteValue);
        ascii &&= byteKey === key && byteValue === value;
      }
    }
    await this.writeRecords(records, image.copies, locations, layout);
    return recordsToEntries(records, { ascii });
  }

  async replace(entries: EnvEntries): Promise<Record<string, string>> {
    const { locations, layout } = await this.configuration();
    const records = entriesToRecords(entries);
    // Plan against what is there (a readable newer copy must not be overwritten), tolerating
    // copies that cannot be decoded: that is what this method is for.
    let copies: EnvImage["copies"];
    try {
      copies = (await this.readImage()).image.copies;
    } catch (error) {
      if (!(error instanceof UBootEnvError) || error.code !== "ENV_NO_VALID_COPY") throw error;
      copies = locations.map(() => ({ valid: false as const, reason: "replaced" }));
    }
    await this.writeRecords(records, copies, locations, layout);
    return recordsToEntries(records);
  }

  private async writeRecords(
    records: EnvRecords,
    copies: EnvImage["copies"],
    locations: readonly EnvLocation[],
    layout: EnvLayout,
  ): Promise<void> {
    const plan = planEnvWrite(copies, layout);
    const target = locations[plan.copy]!;
    // Throws ENV_TOO_LARGE before anything is opened for writing.
    const block = encodeEnvBlock(records, {
      size: target.size,
      layout,
      ...(plan.flag !== undefined ? { flag: plan.flag } : {}),
    });
    await writeBlock(target, block);
  }
}

/** A {@link KvBackend} over the U-Boot environment. See {@link UBootEnvBackend}. */
export function ubootEnv(options: UBootEnvOptions = {}): UBootEnvBackend {
  return new UBootEnvBackend(options);
}
