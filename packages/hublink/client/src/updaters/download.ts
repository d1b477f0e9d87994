// How the updaters download: `@hublink/downloader` with the client's settings (retry knobs, TLS,
// proxy, the PropertyTable to name the interface) plus the offer's checksum and size.
import { type Download, type DownloadOptions, download } from "@hublink/downloader";
import { errorMessage } from "@runtime/errors";
import { redactUrl } from "../update-info.js";
import type { UpdaterContext } from "./types.js";

/**
 * `download` from `@hublink/downloader`, or a function that wraps it (to watch its events, add
 * headers or use your own undici dispatcher): it gets the options the client chose.
 */
export type DownloadFunction = (url: string, options: DownloadOptions) => Download;

/**
 * Starts the download of the offered firmware: the client's options, the offer's SHA-256 and size,
 * `started` reported on every connection (Link does the same on each retry), retries and warnings
 * logged.
 */
export function startDownload(
  context: UpdaterContext,
  downloadFunction: DownloadFunction = download,
  signal: AbortSignal = context.signal,
): Download {
  const { info } = context;
  const transfer = downloadFunction(info.firmwareUrl, {
    ...context.downloadOptions,
    ...(info.checksum ? { sha256: info.checksum.toLowerCase() } : {}),
    ...(info.size !== null ? { size: info.size } : {}),
    signal,
  });
  transfer.on("response", (event) => context.downloadStarted(event));
  transfer.on("retry", (event) =>
    context.logger.warn(
      `firmware download: retry ${event.attempt} in ${event.delay} ms (${event.reason}) from byte ${event.bytes}`,
    ),
  );
  transfer.on("warning", (event) => context.logger.warn(`firmware download: ${event.message}`));
  return transfer;
}

/** A short, secret-free description of a download failure (the URL query never appears). */
export function describeDownloadError(error: unknown, url: string): string {
  const code = (error as { code?: unknown })?.code;
  const status = (error as { status?: unknown })?.status;
  let message = errorMessage(error);
  // Presigned URLs carry credentials in their query: never let them reach the server or a log.
  try {
    const parsed = new URL(url);
    if (parsed.search) message = message.split(parsed.search).join("?****");
    message = message.split(url).join(redactUrl(url));
  } catch {}
  const prefix =
    typeof status === "number" ? `{:http_error, ${status}}` : typeof code === "string" ? code : "";
  return prefix ? `${prefix}: ${message}` : message;
}
