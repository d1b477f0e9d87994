// CachingUpdater: download into a cache directory first, then `fwup -i <file>`. The download is
// @hublink/downloader's `toFile`: `<uuid>.fw.partial` plus a checkpointed `.partial.state`, so a
// crash or a reboot resumes where the last checkpoint was (even with a freshly presigned URL). A
// 404 or 410 while a partial download exists proves the partial stale (the downloader says so with
// `partialStale`): the whole cache is cleared, like Link; the attempt still fails and the next
// offer starts afresh.
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { HttpStatusError } from "@hublink/downloader";
import type { UpdaterOutcome } from "../update-machine.js";
import { type DownloadFunction, describeDownloadError, startDownload } from "./download.js";
import { fwupOutcome, startUpdateFwup } from "./run-fwup.js";
import type { Updater, UpdaterContext } from "./types.js";

export interface CachingUpdaterOptions {
  /** Default: `download` from @hublink/downloader. */
  download?: DownloadFunction;
  /** Default `<dataPath>/firmware`. */
  cacheDir?: string;
}

/** The cache file name for a firmware: its UUID, made safe for a file name. */
export function cacheFileName(uuid: string): string {
  return `${uuid.replace(/[^A-Za-z0-9._-]/g, "_")}.fw`;
}

export function cachingUpdater(options: CachingUpdaterOptions = {}): Updater {
  return {
    name: "caching",
    canVerify: (keys) => keys.length > 0,
    async run(context: UpdaterContext): Promise<UpdaterOutcome> {
      const cacheDir = options.cacheDir ?? join(context.dataPath, "firmware");
      const file = await downloadToCache(context, options.download, cacheDir);
      if (typeof file !== "string") return file;
      const session = startUpdateFwup(context, context.devpath, file);
      const outcome = await fwupOutcome(session, true);
      if (outcome.ok) await rm(file, { force: true });
      return outcome;
    },
  };
}

/**
 * Downloads the update into `cacheDir` (resuming what is there), reporting `downloading` progress.
 * Returns the complete file's path, or a failed outcome.
 */
export async function downloadToCache(
  context: UpdaterContext,
  downloadFunction: DownloadFunction | undefined,
  cacheDir: string,
): Promise<string | UpdaterOutcome> {
  const { info } = context;
  const name = cacheFileName(info.firmwareMeta.uuid);
  const file = join(cacheDir, name);
  await mkdir(cacheDir, { recursive: true });
  // Anything but this firmware's files is from an older update.
  for (const entry of await readdir(cacheDir)) {
    if (entry !== name && !entry.startsWith(`${name}.partial`)) {
      await rm(join(cacheDir, entry), { recursive: true, force: true });
    }
  }
  const transfer = startDownload(context, downloadFunction);
  transfer.on("progress", (event) => {
    if (event.percent !== undefined) context.progress("downloading", event.percent);
  });
  try {
    const result = await transfer.toFile(file);
    if (result.resumedFrom > 0) {
      context.logger.info(
        `firmware ${info.firmwareMeta.uuid}: resumed the cached download from byte ${result.resumedFrom}`,
      );
    }
  } catch (error) {
    if (error instanceof HttpStatusError && error.partialStale) {
      context.logger.warn(
        `firmware ${info.firmwareMeta.uuid}: HTTP ${error.status} for a partial download; clearing the cache ${cacheDir}`,
      );
      await rm(cacheDir, { recursive: true, force: true });
    }
    return { ok: false, kind: "download", reason: describeDownloadError(error, info.firmwareUrl) };
  }
  context.progress("downloading", 100);
  return file;
}
