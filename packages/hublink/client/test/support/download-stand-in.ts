// STAND-IN for @hublink/downloader (being finished on its own branch; not merged into main when
// these tests were written). It implements the subset the updaters use — chunks as an async
// iterable, `response`/`progress` events, resume with `Range: bytes=N-` after a dropped
// connection, SHA-256 and size checks, `toFile()` through a `.partial` file — with Node's fetch.
// The updaters take the real downloader's `download` the same way.
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { appendFile, rename, rm, stat } from "node:fs/promises";
import type {
  DownloadFunction,
  FirmwareDownload,
  FirmwareDownloadOptions,
} from "../../src/index.js";

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

class StandInDownload extends EventEmitter implements FirmwareDownload {
  #from = 0;
  constructor(
    private readonly url: string,
    private readonly options: FirmwareDownloadOptions,
  ) {
    super();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const hash = createHash("sha256");
    let received = this.#from;
    let total: number | undefined = this.options.size;
    for (let attempt = 0; attempt < 10; attempt++) {
      let response: Response;
      try {
        response = await fetch(this.url, {
          headers: received > 0 ? { range: `bytes=${received}-` } : {},
          ...(this.options.signal ? { signal: this.options.signal } : {}),
        });
      } catch (error) {
        if (this.options.signal?.aborted) throw error;
        continue;
      }
      this.emit("response", { status: response.status, attempt, interface: undefined });
      if (response.status >= 400) throw new HttpStatusError(response.status);
      if (received > 0 && response.status !== 206) throw new Error("server ignored Range");
      if (total === undefined) total = Number(response.headers.get("content-length")) + received;
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          received += chunk.length;
          this.emit("progress", {
            bytes: received,
            total,
            percent: total ? (received * 100) / total : undefined,
          });
          yield chunk;
        }
      } catch (error) {
        if (this.options.signal?.aborted) throw error;
        continue; // dropped mid-body: resume from `received`
      }
      if (total !== undefined && received < total) continue;
      if (this.#from === 0 && this.options.sha256 && hash.digest("hex") !== this.options.sha256) {
        throw new Error("SHA-256 mismatch");
      }
      return;
    }
    throw new Error("too many disconnects");
  }

  async toFile(path: string): Promise<{ path: string; bytes: number; resumedFrom: number }> {
    const partial = `${path}.partial`;
    const resumedFrom = await stat(partial).then(
      (info) => info.size,
      () => 0,
    );
    this.#from = resumedFrom;
    let bytes = resumedFrom;
    try {
      for await (const chunk of this) {
        await appendFile(partial, chunk);
        bytes += chunk.length;
      }
    } catch (error) {
      if (error instanceof HttpStatusError && error.status === 404)
        await rm(partial, { force: true });
      throw error;
    }
    await rename(partial, path);
    return { path, bytes, resumedFrom };
  }
}

export const downloadStandIn: DownloadFunction = (url, options) =>
  new StandInDownload(url, options);
