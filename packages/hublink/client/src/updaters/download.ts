// What the updaters need from a downloader: the shape of @hublink/downloader's `download()`
// (async iterable of chunks, `response`/`progress` events, `toFile()` with on-disk resume).
import { redactUrl } from "../update-info.js";

export interface DownloadResponseEvent {
  status: number;
  attempt: number;
  /** The local network interface the connection uses, when known. */
  interface: string | undefined;
}

export interface DownloadProgressEvent {
  bytes: number;
  total: number | undefined;
  percent: number | undefined;
}

export interface FirmwareDownload extends AsyncIterable<Uint8Array> {
  on(event: "response", listener: (event: DownloadResponseEvent) => void): unknown;
  on(event: "progress", listener: (event: DownloadProgressEvent) => void): unknown;
  toFile(
    path: string,
    options?: { resume?: boolean },
  ): Promise<{ path: string; bytes: number; resumedFrom: number }>;
}

export interface FirmwareDownloadOptions {
  sha256?: string;
  size?: number;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  progressInterval?: number;
}

export type DownloadFunction = (url: string, options: FirmwareDownloadOptions) => FirmwareDownload;

/** A short, secret-free description of a download failure (the URL query never appears). */
export function describeDownloadError(error: unknown, url: string): string {
  const code = (error as { code?: unknown })?.code;
  const status = (error as { status?: unknown })?.status;
  let message = error instanceof Error ? error.message : String(error);
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

/** The HTTP status of a download failure, if it was one. */
export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown })?.status;
  return typeof status === "number" ? status : undefined;
}
