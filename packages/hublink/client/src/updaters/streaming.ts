// StreamingUpdater: the firmware goes from the HTTP response straight into fwup's stdin, chunk by
// chunk, with back-pressure (no copy on disk). Within one attempt the downloader resumes with
// Range after a dropped connection.
import type { UpdaterOutcome } from "../update-machine.js";
import { type DownloadFunction, describeDownloadError } from "./download.js";
import { fwupOutcome, startUpdateFwup } from "./run-fwup.js";
import type { Updater, UpdaterContext } from "./types.js";

export interface StreamingUpdaterOptions {
  /** `download` from @hublink/downloader (or a compatible function). */
  download: DownloadFunction;
}

export function streamingUpdater(options: StreamingUpdaterOptions): Updater {
  return {
    name: "streaming",
    canVerify: (keys) => keys.length > 0,
    async run(context: UpdaterContext): Promise<UpdaterOutcome> {
      const { info } = context;
      const session = startUpdateFwup(context, context.devpath);
      const abort = new AbortController();
      const onAbort = () => abort.abort(context.signal.reason);
      context.signal.addEventListener("abort", onAbort, { once: true });
      const download = options.download(info.firmwareUrl, {
        ...(info.checksum ? { sha256: info.checksum.toLowerCase() } : {}),
        ...(info.size !== null ? { size: info.size } : {}),
        signal: abort.signal,
      });
      download.on("response", (event) => context.downloadStarted(event.interface ?? null));
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
