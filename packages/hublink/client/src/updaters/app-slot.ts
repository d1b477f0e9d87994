// The app-slot updater: for devices without fwup, the "firmware" is a signed bundle of the Node
// application (see app-slot/bundle.ts). It is downloaded into the cache (resumable), verified
// completely, unpacked into the inactive slot, and the active slot switched atomically; the
// `reboot` callback then restarts the application, which validates or falls back (AppSlots).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "@runtime/errors";
import { BundleError } from "../app-slot/bundle.js";
import { AppSlots, type AppSlotsOptions } from "../app-slot/slots.js";
import type { UpdaterOutcome } from "../update-machine.js";
import { downloadToCache } from "./caching.js";
import type { DownloadFunction } from "./download.js";
import type { Updater, UpdaterContext } from "./types.js";

export interface AppSlotUpdaterOptions extends AppSlotsOptions {
  /** Default: `download` from @hublink/downloader. */
  download?: DownloadFunction;
  /** Default `<dataPath>/app-bundles`. */
  cacheDir?: string;
}

export function appSlotUpdater(options: AppSlotUpdaterOptions): Updater & { slots: AppSlots } {
  const slots = new AppSlots(options);
  return {
    name: "appSlot",
    slots,
    // Bundles are verified with the configured Ed25519 keys, not fwup's.
    canVerify: () => options.publicKeys.length > 0,
    async run(context: UpdaterContext): Promise<UpdaterOutcome> {
      const cacheDir = options.cacheDir ?? join(context.dataPath, "app-bundles");
      const file = await downloadToCache(context, options.download, cacheDir);
      if (typeof file !== "string") return file;
      try {
        context.progress("updating", 0);
        const installed = await slots.install(file, {
          signal: context.signal,
          onProgress: (percent) => context.progress("updating", percent),
        });
        context.logger.info(
          `app bundle ${installed.manifest.firmware.version} installed in slot ${installed.slot}`,
        );
        return { ok: true };
      } catch (error) {
        const reason = errorMessage(error);
        if (error instanceof BundleError)
          return { ok: false, kind: "update", reason: `${error.code}: ${reason}` };
        return { ok: false, kind: "unexpected", reason };
      } finally {
        // A verified bundle is in the slot now; a refused one must not be tried again.
        await rm(file, { force: true });
      }
    },
  };
}
