// A/B slots for the Node application itself (the I/O edge around bundle.ts).
//
//   <root>/slots/a/…, <root>/slots/b/…   the two application trees
//   <root>/current → slots/<active>       symlink the service starts from (node <root>/current/…)
//
// The KV store is the commit point: `nerves_fw_active` says which slot runs; the symlink follows
// it (re-pointed at start-up when a power cut fell between the two). A new slot is on trial with
// U-Boot's bootcount scheme (`upgrade_available=1`, `bootcount`, `bootlimit`), so kv's validation
// status, validateFirmware() and NervesHubLink's auto-revert rule all work unchanged.

import type { KeyObject } from "node:crypto";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readlink, rename, rm, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fsyncDirectory } from "@runtime/atomic-file";
import type { KV } from "@runtime/kv";
import {
  BundleError,
  type BundleManifest,
  BundleVerifier,
  publicKeyFrom,
  type VerifiedBundle,
} from "./bundle.js";

export interface AppSlotsOptions {
  /** Directory holding `slots/` and `current`. */
  root: string;
  kv: KV;
  /** Trusted Ed25519 keys (base64 raw 32 bytes, PEM, or KeyObjects). */
  publicKeys: ReadonlyArray<string | KeyObject>;
  /** Starts allowed on trial before the previous slot is restored. Default 1. */
  bootLimit?: number;
  /** Value for `nerves_fw_platform` when the bundle names none. Default `node`. */
  defaultPlatform?: string;
  /** Value for `nerves_fw_architecture` when the bundle names none. Default `process.arch`. */
  defaultArchitecture?: string;
}

export interface BootCheck {
  /** `trial`: the new slot runs unvalidated; `reverted`: the previous slot was restored. */
  action: "none" | "trial" | "reverted";
  slot: string;
  /** Starts so far on trial. */
  bootcount: number;
  /** The process runs code from another slot than the active one: restart it. */
  restartRequired: boolean;
}

const SLOTS = ["a", "b"] as const;

function other(slot: string): string {
  return slot === "a" ? "b" : "a";
}

export class AppSlots {
  readonly root: string;
  readonly #options: AppSlotsOptions;
  readonly #keys: KeyObject[];

  constructor(options: AppSlotsOptions) {
    this.#options = options;
    this.root = options.root;
    this.#keys = options.publicKeys.map(publicKeyFrom);
  }

  /** The slot KV says runs (`nerves_fw_active`, default `a`). */
  activeSlot(): string {
    const slot = this.#options.kv.get("nerves_fw_active") ?? "a";
    return slot === "b" ? "b" : "a";
  }

  directoryOf(slot: string): string {
    return join(this.root, "slots", slot);
  }

  get currentLink(): string {
    return join(this.root, "current");
  }

  /** Reads a bundle file once and checks it completely. Writes nothing. */
  async verifyFile(path: string, signal?: AbortSignal): Promise<VerifiedBundle> {
    const verifier = new BundleVerifier(this.#keys);
    for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024, signal })) {
      verifier.push(chunk as Buffer);
    }
    return verifier.finish();
  }

  /**
   * Installs a bundle into the inactive slot and makes it active (on trial): verify everything
   * first (nothing is written if that fails), unpack into a staging directory, swap it in, commit
   * in KV, re-point `current`. The caller restarts the application afterwards.
   */
  async install(
    bundlePath: string,
    options: { signal?: AbortSignal; onProgress?: (percent: number) => void } = {},
  ): Promise<{ slot: string; manifest: BundleManifest }> {
    const verified = await this.verifyFile(bundlePath, options.signal);
    const { manifest } = verified;
    const target = other(this.activeSlot());
    const slotsDirectory = join(this.root, "slots");
    await mkdir(slotsDirectory, { recursive: true });
    const staging = join(slotsDirectory, `.${target}.staging-${randomBytes(4).toString("hex")}`);
    try {
      await this.#unpack(bundlePath, verified, staging, options);
      await rm(this.directoryOf(target), { recursive: true, force: true });
      await rename(staging, this.directoryOf(target));
      await fsyncDirectory(slotsDirectory);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
    const firmware = manifest.firmware;
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(firmware)) {
      if (typeof value === "string") metadata[`${target}.nerves_fw_${name}`] = value;
    }
    metadata[`${target}.nerves_fw_platform`] ??= this.#options.defaultPlatform ?? "node";
    metadata[`${target}.nerves_fw_architecture`] ??=
      this.#options.defaultArchitecture ?? process.arch;
    // One KV write is the commit point: the slot's metadata, the switch and the trial together.
    await this.#options.kv.put({
      ...metadata,
      [`${target}.nerves_fw_validated`]: "0",
      nerves_fw_active: target,
      upgrade_available: "1",
      bootcount: "0",
      bootlimit: String(this.#options.bootLimit ?? 1),
    });
    await this.#point(target);
    return { slot: target, manifest };
  }

  /**
   * Call early at every application start. Re-points `current` at the active slot if a power cut
   * left them apart, counts a start on trial, and restores the previous slot when the new one
   * used up its starts without being validated.
   */
  async checkBoot(runningSlot?: string): Promise<BootCheck> {
    const kv = this.#options.kv;
    let slot = this.activeSlot();
    let action: BootCheck["action"] = "none";
    let bootcount = Number(kv.get("bootcount") ?? "0") || 0;
    if (kv.get("upgrade_available") === "1") {
      bootcount += 1;
      const limit = Number(kv.get("bootlimit") ?? String(this.#options.bootLimit ?? 1)) || 1;
      if (bootcount > limit) {
        const previous = other(slot);
        await kv.put({
          nerves_fw_active: previous,
          [`${slot}.nerves_fw_validated`]: "0",
          upgrade_available: "0",
          bootcount: "0",
        });
        slot = previous;
        action = "reverted";
        bootcount = 0;
      } else {
        await kv.put("bootcount", String(bootcount));
        action = "trial";
      }
    }
    const pointed = await this.pointedSlot();
    if (pointed !== slot) await this.#point(slot);
    const running = runningSlot ?? pointed;
    return { action, slot, bootcount, restartRequired: running !== undefined && running !== slot };
  }

  /** Marks the running slot good (ends the trial). */
  async validate(): Promise<void> {
    const slot = this.activeSlot();
    await this.#options.kv.put({
      upgrade_available: "0",
      bootcount: "0",
      nerves_fw_validated: "1",
      [`${slot}.nerves_fw_validated`]: "1",
    });
  }

  /** The slot `current` points at, if any. */
  async pointedSlot(): Promise<string | undefined> {
    try {
      const target = await readlink(this.currentLink);
      const slot = target.split("/").at(-1);
      return SLOTS.includes(slot as "a") ? slot : undefined;
    } catch {
      return undefined;
    }
  }

  /** Atomic symlink swap: a new link under a temporary name renamed over `current`. */
  async #point(slot: string): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const temporary = join(this.root, `.current-${randomBytes(4).toString("hex")}`);
    await symlink(join("slots", slot), temporary);
    try {
      await rename(temporary, this.currentLink);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    await fsyncDirectory(this.root);
  }

  async #unpack(
    bundlePath: string,
    verified: VerifiedBundle,
    staging: string,
    options: { signal?: AbortSignal; onProgress?: (percent: number) => void },
  ): Promise<void> {
    await mkdir(staging, { recursive: true });
    const files = verified.manifest.files;
    const total = files.reduce((sum, file) => sum + file.size, 0);
    let written = 0;
    let index = 0;
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    let remaining = 0;
    let hash = createHash("sha256");
    const openNext = async () => {
      while (index < files.length) {
        const entry = files[index]!;
        const path = join(staging, entry.path);
        await mkdir(dirname(path), { recursive: true });
        handle = await open(path, "wx", entry.mode);
        remaining = entry.size;
        hash = createHash("sha256");
        if (remaining > 0) return;
        await closeCurrent();
      }
    };
    const closeCurrent = async () => {
      const entry = files[index]!;
      // The file is read a second time: check again so a file changed since verification is caught.
      if (hash.digest("hex") !== entry.sha256) {
        throw new BundleError("BUNDLE_CONTENT", `${entry.path} changed after verification`);
      }
      await handle!.sync();
      await handle!.chmod(entry.mode);
      await handle!.close();
      handle = undefined;
      index++;
    };
    try {
      await openNext();
      const stream = createReadStream(bundlePath, {
        start: verified.payloadOffset,
        highWaterMark: 256 * 1024,
        signal: options.signal,
      });
      for await (const raw of stream) {
        let chunk = raw as Buffer;
        while (chunk.length > 0) {
          if (!handle)
            throw new BundleError(
              "BUNDLE_CONTENT",
              "bundle changed after verification (extra bytes)",
            );
          const take = chunk.subarray(0, Math.min(remaining, chunk.length));
          await handle.write(take);
          hash.update(take);
          remaining -= take.length;
          written += take.length;
          chunk = chunk.subarray(take.length);
          if (remaining === 0) {
            await closeCurrent();
            await openNext();
          }
        }
        options.onProgress?.(total === 0 ? 100 : (written * 100) / total);
      }
      if (index < files.length)
        throw new BundleError("BUNDLE_CONTENT", "bundle changed after verification (truncated)");
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }
}
