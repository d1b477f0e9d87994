// The downloader end to end over loopback against the fault-injecting server: every failure mode
// of the issue, asserted on what the server saw (Range headers, bytes sent, connections) and on
// what the consumer got (bytes equal to the source, events, typed errors).
import { readFileSync } from "node:fs";
import { PropertyTable } from "@runtime/property-table";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type CompleteEvent,
  ContentLengthMismatchError,
  createDispatcher,
  DeadlineExceededError,
  DownloadAbortedError,
  download,
  HttpStatusError,
  IdleTimeoutError,
  IntegrityError,
  localConnectionOf,
  MaxDisconnectsError,
  MaxTimeoutError,
  type ProgressEvent,
  RangeNotSatisfiableError,
  type ResponseEvent,
  type RestartEvent,
  RestartRequiredError,
  type RetryEvent,
  TooManyRedirectsError,
  type WarningEvent,
} from "../src/index.js";
import { ConnectProxy } from "./support/connect-proxy.js";
import { etagOf, FaultServer, patternBytes } from "./support/fault-server.js";
import {
  closedPort,
  collect,
  record,
  sameBytes,
  sha256,
  waitFor,
  waitForStable,
} from "./support/helpers.js";

const SOURCE = patternBytes(1 << 20, 7);
const ETAG = etagOf(SOURCE);
/** Retries without the anchor's 15 s pause, so tests stay quick. */
const quick = { retry: { timeBetweenRetries: 5 } };

let server: FaultServer;
beforeEach(async () => {
  server = await FaultServer.start();
  server.setResource("/file", { content: SOURCE });
});
afterEach(async () => {
  await server.close();
});

describe("a plain download", () => {
  it("delivers the bytes with progress, one request, and closes its connection", async () => {
    const job = download(server.url(), { computeSha256: true, progressInterval: 0 });
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(server.ranges()).toEqual(["-"]);
    const [complete] = seen.of<CompleteEvent>("complete");
    expect(complete).toMatchObject({
      bytes: SOURCE.length,
      sha256: sha256(SOURCE),
      attempts: 1,
      restarts: 0,
      localAddress: "127.0.0.1",
    });
    const progress = seen.of<ProgressEvent>("progress");
    expect(progress.at(-1)).toMatchObject({
      bytes: SOURCE.length,
      total: SOURCE.length,
      percent: 100,
    });
    const bytes = progress.map((event) => event.bytes);
    expect(bytes).toEqual([...bytes].sort((a, b) => a - b));
    expect(seen.of<ResponseEvent>("response")).toEqual([
      expect.objectContaining({ status: 200, attempt: 1, from: 0, localAddress: "127.0.0.1" }),
    ]);
    expect(seen.of("error")).toEqual([]);
    // The download's own dispatcher is closed at the end.
    await waitFor(
      () => server.openConnections,
      (open) => open === 0,
      { what: "the connection to close" },
    );
  });

  it("sends its headers and the caller's", async () => {
    await collect(download(server.url(), { headers: { Authorization: "Bearer t0k3n" } }));
    expect(server.requests[0]?.headers).toMatchObject({
      "accept-encoding": "identity",
      "x-retry-number": "0",
      "user-agent": "hublink-downloader",
      authorization: "Bearer t0k3n",
    });
  });

  it("names the local interface from the PropertyTable", async () => {
    const table = new PropertyTable({
      properties: [
        [
          ["interface", "lo", "addresses"],
          [
            {
              family: "inet",
              address: "127.0.0.1",
              prefix_length: 8,
              netmask: "255.0.0.0",
              scope: "host",
            },
          ],
        ],
      ],
    });
    const job = download(server.url(), { table, progressInterval: 0 });
    const seen = record(job);
    await collect(job);
    expect(seen.of<ResponseEvent>("response")[0]?.interface).toBe("lo");
    expect(seen.of<ProgressEvent>("progress").every((event) => event.interface === "lo")).toBe(
      true,
    );
    expect(seen.of<CompleteEvent>("complete")[0]?.interface).toBe("lo");
    expect(job.interface).toBe("lo");
  });

  it("can be consumed only once", async () => {
    const job = download(server.url());
    await collect(job);
    await expect(collect(job)).rejects.toMatchObject({ code: "ALREADY_CONSUMED" });
  });

  it("reports progress without percent when there is no content-length", async () => {
    for (const framing of ["chunked", "close"] as const) {
      server.script("/file", [{ kind: "serve", framing }]);
      const job = download(server.url(), { progressInterval: 0 });
      const seen = record(job);
      expect(sameBytes(await collect(job), SOURCE)).toBe("same");
      const progress = seen.of<ProgressEvent>("progress");
      expect(
        progress
          .slice(0, -1)
          .every((event) => event.total === undefined && event.percent === undefined),
      ).toBe(true);
      expect(progress.every((event) => typeof event.rate === "number")).toBe(true);
    }
  });
});

describe("drops", () => {
  it("resumes from exactly where the data stopped, with Range and If-Range", async () => {
    server.script("/file", [
      { kind: "serve", dropAt: 300_000 },
      { kind: "serve", dropAt: 700_001 },
    ]);
    const job = download(server.url(), quick);
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(server.ranges()).toEqual(["-", "bytes=300000-", "bytes=700001-"]);
    expect(server.requests.map((request) => request.ifRange)).toEqual([undefined, ETAG, ETAG]);
    expect(server.requests.map((request) => request.headers["x-retry-number"])).toEqual([
      "0",
      "1",
      "2",
    ]);
    // Nothing was downloaded twice.
    expect(server.bodyBytesSent()).toBe(SOURCE.length);
    expect(seen.of<RetryEvent>("retry")).toEqual([
      expect.objectContaining({
        reason: "content_length_mismatch",
        attempt: 2,
        bytes: 300_000,
        delay: 5,
      }),
      expect.objectContaining({ reason: "content_length_mismatch", attempt: 3, bytes: 700_001 }),
    ]);
    expect(seen.of<CompleteEvent>("complete")[0]).toMatchObject({ attempts: 3 });
  });

  it("survives resets (RST), re-fetching only what was lost in flight", async () => {
    server.script("/file", [
      { kind: "serve", dropAt: 250_000, reset: true },
      { kind: "serve", dropAt: 800_000, reset: true },
    ]);
    const job = download(server.url(), quick);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    const starts = server
      .ranges()
      .slice(1)
      .map((range) => Number(/\d+/.exec(range)?.[0]));
    expect(starts).toHaveLength(2);
    expect(starts[0]).toBeLessThanOrEqual(250_000);
    expect(starts[1]).toBeLessThanOrEqual(800_000);
    expect(starts[1]).toBeGreaterThan(starts[0] ?? 0);
  });

  it("gives up with CONTENT_LENGTH_MISMATCH once maxDisconnects retries are spent", async () => {
    server.script("/file", [
      { kind: "serve", dropAt: 100 },
      { kind: "serve", dropAt: 200 },
      { kind: "serve", dropAt: 300 },
    ]);
    const job = download(server.url(), { retry: { maxDisconnects: 2, timeBetweenRetries: 5 } });
    const seen = record(job);
    const error = await collect(job).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ContentLengthMismatchError);
    expect(error).toMatchObject({
      code: "CONTENT_LENGTH_MISMATCH",
      expected: SOURCE.length,
      received: 300,
      attempts: 3,
    });
    expect(server.requests).toHaveLength(3);
    expect(seen.of("error")).toEqual([error]);
  });

  it("retries a body cut short of its Content-Length from where it stopped", async () => {
    server.script("/file", [
      { kind: "serve", dropAt: 1000 },
      { kind: "serve", framing: "chunked", dropAt: 5000 },
    ]);
    const job = download(server.url(), quick);
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(server.ranges()).toEqual(["-", "bytes=1000-", "bytes=5000-"]);
    expect(seen.of<RetryEvent>("retry").map((retry) => retry.reason)).toEqual([
      "content_length_mismatch",
      "content_length_mismatch",
    ]);
  });

  it("does not take a 416 for completion when the first Content-Length overstated the file", async () => {
    // The server announces 1000 bytes more than it has, then closes: the resume at the real end
    // gets a 416 naming the true length, which contradicts the announced one.
    server.script("/file", [{ kind: "serve", declaredLength: SOURCE.length + 1000 }]);
    const job = download(server.url(), quick);
    const seen = record(job);
    const error = await collect(job).catch((failure: unknown) => failure);
    expect(seen.of<RetryEvent>("retry")[0]?.reason).toBe("content_length_mismatch");
    expect(server.ranges()).toEqual(["-", `bytes=${SOURCE.length}-`]);
    expect(error).toBeInstanceOf(RangeNotSatisfiableError);

    // A consumer that can restart gets the true file.
    server.script("/file", [{ kind: "serve", declaredLength: SOURCE.length + 1000 }]);
    expect(
      sameBytes(await collect(download(server.url(), { ...quick, allowRestart: true })), SOURCE),
    ).toBe("same");
  });

  it("retries a chunked 206 that ends cleanly before its range", async () => {
    server.script("/file", [
      { kind: "serve", dropAt: 1000 },
      {
        kind: "serve",
        framing: "chunked",
        shortRange: 4000,
        contentRange: `bytes 1000-${SOURCE.length - 1}/${SOURCE.length}`,
      },
    ]);
    const job = download(server.url(), quick);
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(seen.of<RetryEvent>("retry").map((retry) => retry.reason)).toEqual([
      "content_length_mismatch",
      "content_length_mismatch",
    ]);
    expect(server.ranges()).toEqual(["-", "bytes=1000-", "bytes=5000-"]);
  });
});

describe("stalls and deadlines", () => {
  it("abandons a stalled body after idleTimeout and resumes where it stalled", async () => {
    server.script("/file", [{ kind: "serve", stallAt: 400_000 }]);
    const job = download(server.url(), { retry: { idleTimeout: 300, timeBetweenRetries: 5 } });
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(server.ranges()).toEqual(["-", "bytes=400000-"]);
    expect(seen.of<RetryEvent>("retry")).toEqual([
      expect.objectContaining({ reason: "idle_timeout", bytes: 400_000 }),
    ]);
    // The stalled connection was closed by the client.
    await server.requests[0]?.closed;
  });

  it("abandons a request whose headers never come", async () => {
    server.script("/file", [{ kind: "hang" }]);
    const job = download(server.url(), { retry: { idleTimeout: 300, timeBetweenRetries: 5 } });
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(seen.of<RetryEvent>("retry").map((retry) => retry.reason)).toEqual(["idle_timeout"]);
  });

  it("gives up with IDLE_TIMEOUT when stalls use up the budget", async () => {
    server.script("/file", [
      { kind: "serve", stallAt: 10 },
      { kind: "serve", stallAt: 20 },
    ]);
    const job = download(server.url(), {
      retry: { idleTimeout: 200, timeBetweenRetries: 5, maxDisconnects: 1 },
    });
    await expect(collect(job)).rejects.toBeInstanceOf(IdleTimeoutError);
  });

  it("gives up with DEADLINE_EXCEEDED when the body is slower than the worst case", async () => {
    server.script("/file", [{ kind: "serve", rate: 100_000 }]);
    const job = download(server.url(), {
      retry: {
        worstCaseDownloadSpeed: 80_000_000,
        worstCaseMinimumTimeout: 100,
        idleTimeout: 5_000,
      },
    });
    const error = await collect(job).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    // 1 MiB × 8 / 80 Mbit/s = 105 ms of network time, while the server needs about 10 s.
    expect(error).toMatchObject({ code: "DEADLINE_EXCEEDED", limitMs: 105 });
    expect(server.requests).toHaveLength(1);
  });

  it("gives up with MAX_TIMEOUT when the whole download takes too long", async () => {
    server.script("/file", [{ kind: "serve", stallAt: 1000 }]);
    const job = download(server.url(), { retry: { maxTimeout: 300, idleTimeout: 10_000 } });
    await expect(collect(job)).rejects.toBeInstanceOf(MaxTimeoutError);
  });

  it("paces the socket to a slow consumer instead of buffering", async () => {
    const big = patternBytes(96 * 1024 * 1024, 3);
    server.setResource("/big", { content: big });
    const job = download(server.url("/big"), { highWaterMark: 64 * 1024 });
    const iterator = job[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    // The consumer now holds on to its first chunk. The server can only push what the socket
    // buffers and the 64 KiB queue take, then its writes block.
    const sentWhilePaused = await waitForStable(() => server.requests[0]?.bytesSent ?? 0);
    expect(sentWhilePaused).toBeLessThan(big.length / 2);
    const chunks = [Buffer.from(first.value as Uint8Array)];
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      chunks.push(Buffer.from(next.value));
    }
    expect(sameBytes(Buffer.concat(chunks), big)).toBe("same");
  });
});

describe("connections that fail", () => {
  it("gives up with MAX_DISCONNECTS after maxDisconnects + 1 refused connections", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/file`;
    const job = download(url, { retry: { maxDisconnects: 3, timeBetweenRetries: 5 } });
    const seen = record(job);
    const error = await collect(job).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(MaxDisconnectsError);
    expect(error).toMatchObject({ attempts: 4, lastReason: "connect_failed" });
    expect((error as Error).cause).toMatchObject({ code: "ECONNREFUSED" });
    expect(seen.of<RetryEvent>("retry").map((retry) => retry.attempt)).toEqual([2, 3, 4]);
  });

  it("treats a connection closed without an answer as a failed attempt", async () => {
    server.script("/file", [{ kind: "destroy" }]);
    expect(sameBytes(await collect(download(server.url(), quick)), SOURCE)).toBe("same");
    expect(server.ranges()).toEqual(["-", "-"]);
  });
});

describe("statuses", () => {
  it.each([404, 403, 401, 410])("does not retry %i", async (status) => {
    server.script("/file", [{ kind: "status", status }]);
    const error = await collect(download(server.url(), quick)).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error).toMatchObject({ code: "HTTP_STATUS", status, attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it("retries 5xx and gives up with the status when they persist", async () => {
    server.script("/file", [
      { kind: "status", status: 500 },
      { kind: "status", status: 502 },
    ]);
    const job = download(server.url(), quick);
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(seen.of<RetryEvent>("retry").map((retry) => [retry.reason, retry.status])).toEqual([
      ["http_status", 500],
      ["http_status", 502],
    ]);

    server.script("/file", [
      { kind: "status", status: 503 },
      { kind: "status", status: 500 },
    ]);
    const error = await collect(
      download(server.url(), { retry: { maxDisconnects: 1, timeBetweenRetries: 5 } }),
    ).catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: "HTTP_STATUS", status: 500, lastReason: "http_status" });
  });

  it("backs off on 429 and honours Retry-After", async () => {
    server.script("/file", [
      { kind: "status", status: 429 },
      { kind: "status", status: 429 },
      { kind: "status", status: 503, headers: { "retry-after": "1" } },
    ]);
    const job = download(server.url(), { retry: { timeBetweenRetries: 10 } });
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(seen.of<RetryEvent>("retry").map((retry) => retry.delay)).toEqual([10, 20, 1_000]);
  });
});

describe("redirects", () => {
  it("follows a chain, and starts every retry at the original URL", async () => {
    server.script("/a", [
      { kind: "redirect", location: "/b" },
      { kind: "redirect", location: "/b", status: 307 },
    ]);
    server.script("/b", [
      { kind: "redirect", location: server.url("/file") },
      { kind: "redirect", location: "/file", status: 308 },
    ]);
    server.script("/file", [{ kind: "serve", dropAt: 500_000 }]);
    const job = download(server.url("/a"), quick);
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(server.requests.map((request) => `${request.path} ${request.range ?? "-"}`)).toEqual([
      "/a -",
      "/b -",
      "/file -",
      "/a bytes=500000-",
      "/b bytes=500000-",
      "/file bytes=500000-",
    ]);
    expect(seen.of<ResponseEvent>("response").map((event) => event.status)).toEqual([
      302, 302, 200, 307, 308, 206,
    ]);
  });

  it("stops after maxRedirects", async () => {
    server.script("/a", [{ kind: "redirect", location: "/b" }]);
    server.script("/b", [{ kind: "redirect", location: "/c" }]);
    const error = await collect(download(server.url("/a"), { maxRedirects: 1 })).catch(
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(TooManyRedirectsError);
    expect(server.requests.map((request) => request.path)).toEqual(["/a", "/b"]);
  });
});

describe("servers that ignore Range", () => {
  it("skips the bytes already held when the ETag proves it is the same file", async () => {
    server.script("/file", [
      { kind: "serve", dropAt: 300_000 },
      { kind: "serve", ignoreRange: true },
    ]);
    const job = download(server.url(), quick);
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(server.ranges()).toEqual(["-", "bytes=300000-"]);
    expect(seen.of("restart")).toEqual([]);
    expect(server.bodyBytesSent()).toBe(SOURCE.length + 300_000);
  });

  it("fails with RESTART_REQUIRED for a plain iterator when nothing proves it is the same file", async () => {
    server.setResource("/file", { content: SOURCE, etag: null });
    server.script("/file", [
      { kind: "serve", dropAt: 300_000 },
      { kind: "serve", ignoreRange: true },
    ]);
    const error = await collect(download(server.url(), quick)).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(RestartRequiredError);
    expect(error).toMatchObject({ bytes: 300_000 });
  });

  it("restarts from zero with allowRestart, telling the consumer first", async () => {
    server.setResource("/file", { content: SOURCE, etag: null });
    server.script("/file", [
      { kind: "serve", dropAt: 300_000 },
      { kind: "serve", ignoreRange: true },
    ]);
    const job = download(server.url(), { ...quick, allowRestart: true, sha256: sha256(SOURCE) });
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(seen.of<RestartEvent>("restart")).toEqual([{ discardedBytes: 300_000 }]);
    expect(seen.of<CompleteEvent>("complete")[0]).toMatchObject({
      restarts: 1,
      sha256: sha256(SOURCE),
    });
  });
});

describe("a file that changes between attempts", () => {
  const NEW = patternBytes(SOURCE.length + 333, 99);

  it("gets the new file whole when If-Range no longer matches", async () => {
    server.script("/file", [{ kind: "serve", dropAt: 300_000 }]);
    const job = download(server.url(), { ...quick, allowRestart: true, computeSha256: true });
    const seen = record(job);
    job.once("retry", () => server.setResource("/file", { content: NEW }));
    expect(sameBytes(await collect(job), NEW)).toBe("same");
    expect(server.requests[1]).toMatchObject({
      range: "bytes=300000-",
      ifRange: ETAG,
      status: 200,
    });
    expect(seen.of<RestartEvent>("restart")).toEqual([{ discardedBytes: 300_000 }]);
    expect(seen.of<CompleteEvent>("complete")[0]?.sha256).toBe(sha256(NEW));
  });

  it("notices a server that ignores If-Range by the new ETag, and fetches the file again", async () => {
    server.script("/file", [
      { kind: "serve", dropAt: 300_000 },
      { kind: "serve", ignoreIfRange: true },
    ]);
    const job = download(server.url(), { ...quick, allowRestart: true });
    const seen = record(job);
    job.once("retry", () => server.setResource("/file", { content: NEW }));
    expect(sameBytes(await collect(job), NEW)).toBe("same");
    expect(server.ranges()).toEqual(["-", "bytes=300000-", "-"]);
    expect(seen.of<RetryEvent>("retry").map((retry) => retry.reason)).toEqual([
      "content_length_mismatch",
      "resource_changed",
    ]);
  });

  it("fails a plain iterator with RESTART_REQUIRED", async () => {
    server.script("/file", [{ kind: "serve", dropAt: 300_000 }]);
    const job = download(server.url(), quick);
    job.once("retry", () => server.setResource("/file", { content: NEW }));
    await expect(collect(job)).rejects.toBeInstanceOf(RestartRequiredError);
  });
});

describe("416", () => {
  it("completes at once when the resume point is already the end", async () => {
    const job = download(server.url(), {
      resumeFrom: { bytes: SOURCE.length, etag: ETAG, total: SOURCE.length },
    });
    const seen = record(job);
    expect(sameBytes(await collect(job), Buffer.alloc(0))).toBe("same");
    expect(server.requests[0]).toMatchObject({ range: `bytes=${SOURCE.length}-`, status: 416 });
    expect(seen.of<CompleteEvent>("complete")[0]).toMatchObject({ bytes: SOURCE.length });
  });

  it("fails with RANGE_NOT_SATISFIABLE for a resume point beyond the end", async () => {
    const job = download(server.url(), { resumeFrom: { bytes: SOURCE.length + 10, etag: ETAG } });
    await expect(collect(job)).rejects.toBeInstanceOf(RangeNotSatisfiableError);
  });

  it("starts over when allowed", async () => {
    const job = download(server.url(), {
      resumeFrom: { bytes: SOURCE.length + 10, etag: ETAG },
      allowRestart: true,
    });
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(server.ranges()).toEqual([`bytes=${SOURCE.length + 10}-`, "-"]);
  });
});

describe("ranges", () => {
  it("asks for the rest when the server caps range sizes, without counting failures", async () => {
    server.script("/file", [
      { kind: "serve", dropAt: 100_000 },
      { kind: "serve", shortRange: 400_000 },
      { kind: "serve", shortRange: 400_000 },
    ]);
    const job = download(server.url(), quick);
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(server.ranges()).toEqual(["-", "bytes=100000-", "bytes=500000-", "bytes=900000-"]);
    expect(seen.of<RetryEvent>("retry")).toHaveLength(1);
  });

  it("retries a 206 whose Content-Range leaves a gap", async () => {
    server.script("/file", [
      { kind: "serve", dropAt: 100_000 },
      { kind: "serve", contentRange: `bytes 100100-${SOURCE.length - 1}/${SOURCE.length}` },
    ]);
    const job = download(server.url(), quick);
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(seen.of<RetryEvent>("retry").map((retry) => retry.reason)).toEqual([
      "content_length_mismatch",
      "invalid_content_range",
    ]);
  });

  it("never delivers bytes beyond the announced end, and warns", async () => {
    server.script("/file", [
      { kind: "serve", dropAt: 100_000 },
      { kind: "serve", framing: "chunked", extra: 5_000 },
    ]);
    const job = download(server.url(), quick);
    const seen = record(job);
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(seen.of<WarningEvent>("warning")).toEqual([
      expect.objectContaining({ code: "bytes_beyond_content_length", expected: SOURCE.length }),
    ]);
  });

  it("is not fooled by extra bytes after a Content-Length body", async () => {
    server.script("/file", [{ kind: "serve", extra: 5_000 }]);
    expect(sameBytes(await collect(download(server.url(), quick)), SOURCE)).toBe("same");
  });
});

describe("integrity", () => {
  it("verifies the SHA-256 and the size while streaming", async () => {
    const job = download(server.url(), {
      sha256: sha256(SOURCE).toUpperCase(),
      size: SOURCE.length,
    });
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
  });

  it("fails with INTEGRITY on a SHA-256 mismatch", async () => {
    const wrong = sha256(Buffer.from("something else"));
    const error = await collect(download(server.url(), { sha256: wrong })).catch(
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error).toMatchObject({
      code: "INTEGRITY",
      check: "sha256",
      expected: wrong,
      actual: sha256(SOURCE),
    });
  });

  it("fails with INTEGRITY as soon as the announced size is not the expected one", async () => {
    const error = await collect(download(server.url(), { size: SOURCE.length - 1 })).catch(
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({
      code: "INTEGRITY",
      check: "size",
      expected: SOURCE.length - 1,
      actual: SOURCE.length,
    });
    expect(server.requests).toHaveLength(1);
  });

  it("hashes across a resume from a given point with the caller's hash state", async () => {
    const { createHash } = await import("node:crypto");
    const resumeHash = createHash("sha256").update(SOURCE.subarray(0, 123_456));
    const job = download(server.url(), {
      sha256: sha256(SOURCE),
      resumeFrom: { bytes: 123_456, etag: ETAG },
      resumeHash,
    });
    expect(sameBytes(await collect(job), SOURCE.subarray(123_456))).toBe("same");
    expect(server.ranges()).toEqual(["bytes=123456-"]);
  });
});

describe("abort", () => {
  it("cancels promptly, closes the socket and rejects with ABORTED", async () => {
    server.script("/file", [{ kind: "serve", stallAt: 200_000 }]);
    const controller = new AbortController();
    const job = download(server.url(), { signal: controller.signal });
    const seen = record(job);
    const reading = collect(job).catch((failure: unknown) => failure);
    await waitFor(
      () => server.requests[0]?.bytesSent ?? 0,
      (sent) => sent >= 200_000,
    );
    const reason = new Error("user pressed cancel");
    controller.abort(reason);
    const error = await reading;
    expect(error).toBeInstanceOf(DownloadAbortedError);
    expect((error as Error).cause).toBe(reason);
    expect(seen.of("error")).toEqual([error]);
    // The server sees its connection closed.
    await server.requests[0]?.closed;
    expect(server.openConnections).toBe(0);
  });

  it("closes the socket even while the consumer is busy with a chunk", async () => {
    const job = download(server.url());
    const iterator = job[Symbol.asyncIterator]();
    await iterator.next();
    job.abort(new Error("stop"));
    await server.requests[0]?.closed;
    await expect(iterator.next()).rejects.toBeInstanceOf(DownloadAbortedError);
  });

  it("fails at once with an already aborted signal", async () => {
    const error = await collect(
      download(server.url(), { signal: AbortSignal.abort("gone") }),
    ).catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: "ABORTED", cause: "gone" });
    expect(server.requests).toHaveLength(0);
  });

  it("treats a consumer that stops iterating as an abort", async () => {
    const job = download(server.url());
    const seen = record(job);
    for await (const _chunk of job) break;
    expect(seen.of<Error>("error")[0]).toMatchObject({ code: "ABORTED" });
    await server.requests[0]?.closed;
  });
});

describe("dispatchers", () => {
  it("shares a dispatcher made by createDispatcher without closing it", async () => {
    const dispatcher = createDispatcher();
    try {
      const first = download(server.url(), { dispatcher });
      const seen = record(first);
      await collect(first);
      expect(seen.of<CompleteEvent>("complete")[0]?.localAddress).toBe("127.0.0.1");
      expect(localConnectionOf(dispatcher, server.url())?.localAddress).toBe("127.0.0.1");
      expect(sameBytes(await collect(download(server.url(), { dispatcher })), SOURCE)).toBe("same");
      // The downloads left the shared dispatcher open: its idle keep-alive connection is still
      // there, and it serves a third download.
      expect(server.openConnections).toBeGreaterThan(0);
      expect(sameBytes(await collect(download(server.url(), { dispatcher })), SOURCE)).toBe("same");
    } finally {
      await dispatcher.close();
    }
  });

  it("goes through an HTTP proxy with CONNECT", async () => {
    const proxy = await ConnectProxy.start();
    try {
      const job = download(server.url(), {
        proxy: { uri: proxy.url, token: "Bearer proxy-secret" },
      });
      const seen = record(job);
      expect(sameBytes(await collect(job), SOURCE)).toBe("same");
      expect(proxy.tunnels).toEqual([
        { target: `127.0.0.1:${server.port}`, authorization: "Bearer proxy-secret" },
      ]);
      expect(seen.of<CompleteEvent>("complete")[0]?.localAddress).toBe("127.0.0.1");
    } finally {
      await proxy.close();
    }
  });
});

describe("TLS", () => {
  const fixture = (name: string) =>
    readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url));
  let secure: FaultServer;
  beforeEach(async () => {
    secure = await FaultServer.start({
      tls: {
        key: fixture("server.key"),
        cert: fixture("server.pem"),
        ca: fixture("ca.pem"),
        requestCert: true,
      },
    });
    secure.setResource("/file", { content: SOURCE });
  });
  afterEach(async () => {
    await secure.close();
  });

  it("trusts the given CA and presents the device certificate", async () => {
    const job = download(secure.url("/file"), {
      tls: { ca: fixture("ca.pem"), cert: fixture("device.pem"), key: fixture("device.key") },
    });
    expect(sameBytes(await collect(job), SOURCE)).toBe("same");
    expect(secure.requests[0]?.clientCertificate).toBe("device-0042");
  });

  it("does mutual TLS through a CONNECT proxy", async () => {
    const proxy = await ConnectProxy.start();
    try {
      const job = download(secure.url("/file"), {
        proxy: proxy.url,
        tls: { ca: fixture("ca.pem"), cert: fixture("device.pem"), key: fixture("device.key") },
      });
      const seen = record(job);
      expect(sameBytes(await collect(job), SOURCE)).toBe("same");
      expect(proxy.tunnels.map((tunnel) => tunnel.target)).toEqual([`127.0.0.1:${secure.port}`]);
      expect(secure.requests[0]?.clientCertificate).toBe("device-0042");
      expect(seen.of<CompleteEvent>("complete")[0]?.localAddress).toBe("127.0.0.1");
    } finally {
      await proxy.close();
    }
  });

  it("refuses a server its CA list does not vouch for", async () => {
    const job = download(secure.url("/file"), { retry: { maxDisconnects: 0 } });
    const error = await collect(job).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(MaxDisconnectsError);
    expect(String((error as Error).cause)).toMatch(/certificate/i);
    expect(secure.requests).toHaveLength(0);
  });
});
