// StreamingUpdater: the firmware goes from the HTTP response straight into fwup's stdin, chunk by
// chunk, with back-pressure (no copy on disk). Within one attempt @hublink/downloader resumes
// with Range after a dropped connection; a server that can only send the file from byte 0 again
// fails the attempt (fwup cannot take the start twice).
import type { UpdaterOutcome } from "../update-machine.js";
import { type DownloadFunction, describeDownloadError, startDownload } from "./download.js";
import { fwupOutcome, startUpdateFwup } from "./run-fwup.js";
import type { Updater, UpdaterContext } from "./types.js";

export interface StreamingUpdaterOptions {
  /** Default: `download` from @hublink/downloader. */
  download?: DownloadFunction;
}

export function streamingUpdater(options: StreamingUpdaterOptions = {}): Updater {
  return {
    name: "streaming",
    canVerify: (keys) => keys.length > 0,
    async run(context: UpdaterContext): Promise<UpdaterOutcome> {
      const { info } = context;
      const abort = new AbortController();
      // Made before fwup starts: bad download options throw here, with nothing to clean up.
      const download = startDownload(context, options.download, abort.signal);
      const session = startUpdateFwup(context, context.devpath);
      const onAbort = () => abort.abort(context.signal.reason);
      if (context.signal.aborted) onAbort();
      else context.signal.addEventListener("abort", onAbort, { once: true });
      try {
        for await (const chunk of download) {
          try {
            await session.write(chunk);
          } catch {
            // fwup stopped taking input (it failed): its own words say why.
            abort.abort(new Error("fwup stopped"));
            return await fwupOutcome(session, false);
          }
        }
      } catch (error) {
        await session.stop();
        if (abort.signal.aborted && !context.signal.aborted)
          return await fwupOutcome(session, false);
        return {
          ok: false,
          kind: "download",
          reason: describeDownloadError(error, info.firmwareUrl),
        };
      } finally {
        context.signal.removeEventListener("abort", onAbort);
      }
      return fwupOutcome(session, true);
    },
  };
}
