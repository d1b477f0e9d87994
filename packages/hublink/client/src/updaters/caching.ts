// CachingUpdater: download into a cache directory first (resumable across crashes and reboots
// through the downloader's on-disk state), then `fwup -i <file>`. A 404 or 416 while a partial
// download exists means the partial file is stale: the cache is cleared (the attempt still fails,
// the next offer starts afresh).
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { UpdaterOutcome } from "../update-machine.js";
import { type DownloadFunction, describeDownloadError, httpStatusOf } from "./download.js";
import { fwupOutcome, startUpdateFwup } from "./run-fwup.js";
import type { Updater, UpdaterContext } from "./types.js";

export interface CachingUpdaterOptions {
  download: DownloadFunction;
  /** Default `<dataPath>/firmware`. */
  cacheDir?: string;
}

/** The cache file name for a firmware: its UUID, made safe for a file name. */
export function cacheFileName(uuid: string): string {
  return `${uuid.replace(/[^A-Za-z0-9._-]/g, "_")}.fw`;
}

export function cachingUpdater(options: CachingUpdaterOptions): Updater {
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
  download: DownloadFunction,
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
  const hadPartial = (await readdir(cacheDir)).some((entry) => entry.startsWith(`${name}.partial`));
  const transfer = download(info.firmwareUrl, {
    ...(info.checksum ? { sha256: info.checksum.toLowerCase() } : {}),
    ...(info.size !== null ? { size: info.size } : {}),
    signal: context.signal,
  });
  transfer.on("response", (event) => context.downloadStarted(event.interface ?? null));
  transfer.on("progress", (event) => {
    if (event.percent !== undefined) context.progress("downloading", event.percent);
  });
  try {
    await transfer.toFile(file, { resume: true });
  } catch (error) {
    const status = httpStatusOf(error);
    if (hadPartial && (status === 404 || status === 416)) {
      context.logger.warn(
        `firmware ${info.firmwareMeta.uuid}: HTTP ${status} while resuming; clearing the cache ${cacheDir}`,
      );
      await rm(cacheDir, { recursive: true, force: true });
    }
    return { ok: false, kind: "download", reason: describeDownloadError(error, info.firmwareUrl) };
  }
  context.progress("downloading", 100);
  return file;
}
