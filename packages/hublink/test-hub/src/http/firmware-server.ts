// An HTTP(S) server for firmware files with fault injection: the stand-in for the presigned S3
// URLs a real NervesHub hands out. It does what checklist item 8 of the protocol reference asks
// of a faithful test server: `Range: bytes=a-b` and `bytes=a-` answered with 206, the slice's
// `content-length` and `content-range`; `accept-ranges: bytes`; redirects; 404 and 416; stalls
// (to trip a client's idle timeout); early close (a body shorter than its `content-length`); and a
// log of every request with its headers (`x-retry-number`, `user-agent`, `range`, `if-range`).
//
// The faults mirror the Bandit plugs nerves-hub/nerves_hub_link uses in its downloader tests
// (test/support: RangeRequestPlug, ResumedRangePlug, RedirectPlug, IdleTimeoutPlug,
// HTTPErrorPlug, DoneNotDonePlug, XRetryNumberPlug), so the same scenarios can be written here.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { DeviceError, ValidationError } from "@runtime/errors";
import { EventEmitter } from "eventemitter3";
import { type FirmwareChecksums, firmwareChecksums } from "../update-payload.js";
import { contentRange, decideRange, unsatisfiedContentRange } from "./range.js";

/**
 * One injected misbehaviour. Several can be injected together for one request (e.g. a throttle and
 * a disconnect). Byte counts are relative to the start of the response body.
 */
export type HttpFault =
  /** Answer with this status (and optional body) instead of the file: 404, 416, 500, 503… */
  | { type: "status"; status: number; body?: string; headers?: Record<string, string> }
  /** Redirect (default 302) to `location`, absolute or a path on this server. */
  | { type: "redirect"; location: string; status?: 301 | 302 | 303 | 307 | 308 }
  /** Accept the request and never answer (until the client gives up or the server stops). */
  | { type: "hang" }
  /** Close the connection without answering. */
  | { type: "destroy" }
  /** Wait before sending the status line and headers. */
  | { type: "delay"; durationMs: number }
  /**
   * Send the headers and `afterBytes` bytes of the body, then nothing for `durationMs` (then carry
   * on). Without `durationMs` the response hangs until the client gives up or the server stops.
   */
  | { type: "stall"; afterBytes?: number; durationMs?: number }
  /**
   * Send the headers and `afterBytes` body bytes, then close the connection: a body shorter than
   * its `content-length`. `reset` closes with a TCP RST instead of a FIN.
   */
  | { type: "disconnect"; afterBytes?: number; reset?: boolean }
  /** Answer 200 with the whole file even when a Range was asked for (a non-conforming server). */
  | { type: "ignoreRange" }
  /** Honour Range even when If-Range names another version (a broken server). */
  | { type: "ignoreIfRange" }
  /** Serve at most `bytes` of the requested range, as a correct, shorter 206. */
  | { type: "shortRange"; bytes: number }
  /** Frame the body `chunked` or by closing the connection (`close`), without `content-length`. */
  | { type: "framing"; framing: "chunked" | "close" }
  /** Announce this `content-length`; when larger than the body, the connection closes after it. */
  | { type: "declareLength"; length: number }
  /** Send `count` bytes of garbage (0xEE) after the real body. */
  | { type: "extraBytes"; count: number }
  /** Send the body at about this many bytes per second. */
  | { type: "throttle"; bytesPerSecond: number }
  /** Send this entity tag for this response (`null`: none). */
  | { type: "etag"; etag: string | null }
  /** Send this `content-range` on a 206 instead of the true one. */
  | { type: "contentRange"; value: string };

export interface FaultOptions {
  /** How many matching requests it applies to. Default 1; `Infinity` for all. */
  times?: number;
  /** Only requests this returns true for. */
  when?: (request: FirmwareRequest) => boolean;
}

/** One request as the server saw it, updated as the response goes out. */
export interface FirmwareRequest {
  id: number;
  method: string;
  /** Path without the query. */
  path: string;
  /** The query string without `?`, `""` when none. */
  query: string;
  /** Request headers, lower-case names (repeated headers joined by Node's rules). */
  headers: Record<string, string>;
  range: string | undefined;
  /** `x-retry-number` (NervesHubLink sends it on every attempt, 0 first). */
  retryNumber: string | undefined;
  userAgent: string | undefined;
  /** `if-range`. */
  ifRange: string | undefined;
  /** The faults applied (empty: served honestly). */
  faults: HttpFault[];
  /** Which TCP connection carried it (1, 2, …): a new number is a new connection. */
  connection: number;
  remotePort: number | undefined;
  /** Common name of the client certificate, over TLS with `requestCert`. */
  clientCertificate: string | undefined;
  status: number | undefined;
  /** Response headers sent. */
  responseHeaders: Record<string, string>;
  /** Body bytes written to the socket. */
  bytesSent: number;
  /** `complete`, the client went away (`aborted`), or the server cut it (`disconnected`). */
  outcome: "pending" | "complete" | "aborted" | "disconnected";
  startedAtMs: number;
  finishedAtMs: number | undefined;
}

/** A file being served. */
export interface ServedFile extends FirmwareChecksums {
  /** Path on the server, e.g. `/firmware/app.fw`. */
  path: string;
  /** Absolute URL. */
  url: string;
  /** Strong entity tag (quoted) used for `If-Range`, or `null` when none is sent. */
  etag: string | null;
  /** `last-modified` sent (also accepted as an `If-Range` validator), or `null`. */
  lastModified: string | null;
  data: Uint8Array;
}

export interface FirmwareServerOptions {
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** Default 0 (the OS picks one). */
  port?: number;
  /** Serve HTTPS with this key and certificate (PEM); `ca` + `requestCert` ask for a client one. */
  tls?: {
    key: string | Buffer;
    cert: string | Buffer;
    ca?: string | Buffer;
    requestCert?: boolean;
  };
  /**
   * `accept-ranges` sent with every file response: `bytes` (default), `none`, or `false` to
   * omit it (NervesHubLink logs an error for the last two).
   */
  acceptRanges?: "bytes" | "none" | false;
  /** Bytes per write. Default 65,536. */
  chunkSize?: number;
}

export interface FirmwareServerEvents {
  /** A request arrived (before the answer). */
  request: (request: FirmwareRequest) => void;
  /** A response ended, however it ended. */
  response: (request: FirmwareRequest) => void;
}

interface QueuedFault {
  faults: HttpFault[];
  remaining: number;
  when: ((request: FirmwareRequest) => boolean) | undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function clientCommonName(socket: Socket): string | undefined {
  const tlsSocket = socket as TLSSocket;
  if (typeof tlsSocket.getPeerCertificate !== "function") return undefined;
  const subject = tlsSocket.getPeerCertificate()?.subject as { CN?: string } | undefined;
  return subject?.CN;
}

function lowerCaseHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

/**
 * Serves files over HTTP(S) with Range support and injectable faults, and logs every request.
 *
 * ```ts
 * const server = await FirmwareServer.start();
 * const file = server.serve("/fw/app.fw", bytes);
 * server.inject("/fw/app.fw", { type: "disconnect", afterBytes: 4096 });
 * // … the client downloads file.url, reconnects with Range: bytes=4096-
 * server.requests().map((r) => r.range); // [undefined, "bytes=4096-…"]
 * await server.stop();
 * ```
 */
export class FirmwareServer extends EventEmitter<FirmwareServerEvents> {
  readonly #server: Server;
  readonly #files = new Map<string, ServedFile>();
  readonly #faults = new Map<string, QueuedFault[]>();
  readonly #log: FirmwareRequest[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #stopping = new AbortController();
  readonly #options: FirmwareServerOptions;
  readonly #scheme: "http" | "https";
  #nextId = 1;
  #origin = "";
  #connections = 0;
  readonly #connectionIds = new WeakMap<Socket, number>();

  private constructor(options: FirmwareServerOptions) {
    super();
    this.#options = options;
    this.#scheme = options.tls ? "https" : "http";
    const handler = (request: IncomingMessage, response: ServerResponse) => {
      this.#handle(request, response).catch(() => response.socket?.destroy());
    };
    const tls = options.tls;
    this.#server = tls
      ? createHttpsServer(
          {
            key: tls.key,
            cert: tls.cert,
            ...(tls.ca ? { ca: tls.ca } : {}),
            requestCert: tls.requestCert ?? false,
            rejectUnauthorized: tls.requestCert ?? false,
          },
          handler,
        )
      : createHttpServer(handler);
    this.#server.on(tls ? "secureConnection" : "connection", (socket: Socket) => {
      this.#connections += 1;
      this.#connectionIds.set(socket, this.#connections);
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
    });
  }

  /** TCP connections accepted so far. */
  get connectionsOpened(): number {
    return this.#connections;
  }

  /** Connections open now. */
  get openConnections(): number {
    return this.#sockets.size;
  }

  /** Starts a server; resolves once it listens. */
  static async start(options: FirmwareServerOptions = {}): Promise<FirmwareServer> {
    const server = new FirmwareServer(options);
    await server.#listen(options.port ?? 0);
    return server;
  }

  async #listen(port: number): Promise<void> {
    const host = this.#options.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
    this.#origin = `${this.#scheme}://${shownHost}:${address.port}`;
  }

  /** `http://127.0.0.1:PORT` (or https). */
  get origin(): string {
    return this.#origin;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Absolute URL of a path on this server. */
  url(path: string): string {
    return new URL(path, this.#origin).toString();
  }

  /**
   * Serves `data` at `path`, replacing what was there ("the file changed": a new entity tag).
   * `etag: null` / `lastModified` set the validators sent (default: a strong tag from the content).
   */
  serve(
    path: string,
    data: Uint8Array | string,
    options: { etag?: string | null; lastModified?: string | null } = {},
  ): ServedFile {
    if (!path.startsWith("/")) {
      throw new ValidationError({ path: "path", value: path, reason: "must start with /" });
    }
    const bytes = typeof data === "string" ? new Uint8Array(Buffer.from(data)) : data;
    const checksums = firmwareChecksums(bytes);
    const file: ServedFile = {
      ...checksums,
      path,
      url: this.url(path),
      etag:
        options.etag === undefined
          ? `"${createHash("sha256").update(bytes).digest("hex").slice(0, 32)}"`
          : options.etag,
      lastModified: options.lastModified ?? null,
      data: bytes,
    };
    this.#files.set(path, file);
    return file;
  }

  /** Serves the contents of a file on disk at `path`. */
  async serveFile(path: string, filePath: string): Promise<ServedFile> {
    return this.serve(path, new Uint8Array(await readFile(filePath)));
  }

  /** The Range header of every request to `path`, in order (`-` for none). */
  ranges(path: string): string[] {
    return this.requests(path).map((request) => request.range ?? "-");
  }

  /** Stops serving `path` (requests get 404). */
  remove(path: string): void {
    this.#files.delete(path);
  }

  /** The file served at `path`, if any. */
  file(path: string): ServedFile | undefined {
    return this.#files.get(path);
  }

  /**
   * Queues faults for requests to `path`: one entry (a fault, or several applied together) per
   * matching request, `times` times (default 1), in the order injected.
   */
  inject(path: string, fault: HttpFault | HttpFault[], options: FaultOptions = {}): void {
    const queue = this.#faults.get(path) ?? [];
    const faults = Array.isArray(fault) ? fault : [fault];
    queue.push({ faults, remaining: options.times ?? 1, when: options.when });
    this.#faults.set(path, queue);
  }

  /** Drops every queued fault (for one path, or all). */
  clearFaults(path?: string): void {
    if (path === undefined) this.#faults.clear();
    else this.#faults.delete(path);
  }

  /** Every request so far, oldest first (optionally only those for `path`). */
  requests(path?: string): FirmwareRequest[] {
    return this.#log.filter((request) => path === undefined || request.path === path);
  }

  /** Forgets the request log. */
  clearRequests(): void {
    this.#log.length = 0;
  }

  /**
   * Resolves with the first request (already seen or future) `predicate` accepts once it has
   * finished (`outcome` not `pending`), or rejects after `timeoutMs` (default 10 s).
   */
  waitForRequest(
    predicate: (request: FirmwareRequest) => boolean,
    options: { timeoutMs?: number; finished?: boolean } = {},
  ): Promise<FirmwareRequest> {
    const finished = options.finished ?? true;
    const accept = (request: FirmwareRequest) =>
      predicate(request) && (!finished || request.outcome !== "pending");
    const existing = this.#log.find(accept);
    if (existing) return Promise.resolve(existing);
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const event = finished ? "response" : "request";
      const listener = (request: FirmwareRequest) => {
        if (!accept(request)) return;
        clearTimeout(timer);
        this.off(event, listener);
        resolve(request);
      };
      const timer = setTimeout(() => {
        this.off(event, listener);
        reject(new DeviceError("TIMEOUT", `no matching firmware request within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on(event, listener);
    });
  }

  /** Closes every open connection (responses in progress end abruptly). */
  dropConnections(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /** Stops listening, ends stalls and closes every connection. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.dropConnections();
    await closed;
  }

  #takeFaults(request: FirmwareRequest): HttpFault[] {
    const queue = this.#faults.get(request.path);
    if (!queue) return [];
    const index = queue.findIndex(
      (entry) => entry.remaining > 0 && (entry.when?.(request) ?? true),
    );
    if (index === -1) return [];
    const entry = queue[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) queue.splice(index, 1);
    return entry.faults;
  }

  async #handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = new URL(incoming.url ?? "/", "http://placeholder");
    const headers = lowerCaseHeaders(incoming);
    const socket = incoming.socket;
    const request: FirmwareRequest = {
      id: this.#nextId++,
      method: incoming.method ?? "GET",
      path: target.pathname,
      query: target.search.replace(/^\?/, ""),
      headers,
      range: headers["range"],
      ifRange: headers["if-range"],
      retryNumber: headers["x-retry-number"],
      userAgent: headers["user-agent"],
      faults: [],
      connection: this.#connectionIds.get(socket) ?? 0,
      remotePort: socket.remotePort,
      clientCertificate: clientCommonName(socket),
      status: undefined,
      responseHeaders: {},
      bytesSent: 0,
      outcome: "pending",
      startedAtMs: Date.now(),
      finishedAtMs: undefined,
    };
    this.#log.push(request);
    const finish = (outcome: FirmwareRequest["outcome"]) => {
      if (request.outcome !== "pending") return;
      request.outcome = outcome;
      request.finishedAtMs = Date.now();
      this.emit("response", request);
    };
    response.once("close", () => finish(response.writableFinished ? "complete" : "aborted"));
    const faults = this.#takeFaults(request);
    request.faults = faults;
    this.emit("request", request);
    const fault = <T extends HttpFault["type"]>(type: T) =>
      faults.find(
        (candidate): candidate is Extract<HttpFault, { type: T }> => candidate.type === type,
      );
    const writeHead = (status: number, responseHeaders: Record<string, string>) => {
      request.status = status;
      request.responseHeaders = responseHeaders;
      response.writeHead(status, responseHeaders);
    };

    if (fault("hang")) return;
    if (fault("destroy")) {
      finish("disconnected");
      socket.destroy();
      return;
    }
    const delay = fault("delay");
    if (delay) await sleep(delay.durationMs, this.#stopping.signal);
    const status = fault("status");
    if (status) {
      const body = status.body ?? "";
      writeHead(status.status, {
        "content-length": String(Buffer.byteLength(body)),
        ...status.headers,
      });
      response.end(body);
      return;
    }
    const redirect = fault("redirect");
    if (redirect) {
      writeHead(redirect.status ?? 302, { location: redirect.location, "content-length": "0" });
      response.end();
      return;
    }
    const file = this.#files.get(request.path);
    if (!file) {
      writeHead(404, { "content-length": "0" });
      response.end();
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      writeHead(405, { allow: "GET, HEAD", "content-length": "0" });
      response.end();
      return;
    }

    const size = file.data.length;
    const acceptRanges = this.#options.acceptRanges ?? "bytes";
    const etagFault = fault("etag");
    const etag = etagFault ? etagFault.etag : file.etag;
    const common: Record<string, string> = { "content-type": "application/octet-stream" };
    if (etag !== null) common["etag"] = etag;
    if (file.lastModified !== null) common["last-modified"] = file.lastModified;
    if (acceptRanges !== false) common["accept-ranges"] = acceptRanges;
    // If-Range naming another version means "send me the whole thing" (RFC 9110 §13.1.5).
    const ifRange = request.ifRange;
    const validatorMatches =
      ifRange === undefined ||
      fault("ignoreIfRange") !== undefined ||
      (etag !== null && ifRange === etag) ||
      (file.lastModified !== null && ifRange === file.lastModified);
    const rangeHeader = fault("ignoreRange") || !validatorMatches ? undefined : request.range;
    const decision = decideRange(rangeHeader, size);
    let start = 0;
    let end = size - 1;
    let code = 200;
    if (decision.kind === "unsatisfiable") {
      writeHead(416, {
        ...common,
        "content-range": unsatisfiedContentRange(size),
        "content-length": "0",
      });
      response.end();
      return;
    }
    if (decision.kind === "range") {
      start = decision.start;
      end = decision.end;
      const short = fault("shortRange");
      if (short) end = Math.min(end, start + Math.max(1, short.bytes) - 1);
      code = 206;
      common["content-range"] = fault("contentRange")?.value ?? contentRange(start, end, size);
    }
    let body = file.data.subarray(start, end + 1);
    const framing = fault("framing")?.framing;
    const declared = fault("declareLength")?.length;
    if (framing === undefined) common["content-length"] = String(declared ?? body.length);
    if (framing === "close") {
      response.useChunkedEncodingByDefault = false;
      common["connection"] = "close";
    }
    const extra = fault("extraBytes");
    if (extra) body = Buffer.concat([body, Buffer.alloc(extra.count, 0xee)]);
    writeHead(code, common);
    if (request.method === "HEAD") {
      response.end();
      return;
    }
    await this.#sendBody(response, request, body, faults, finish);
    if (request.outcome !== "pending" || response.destroyed) return;
    if (framing === "close" || (declared !== undefined && declared > body.length)) {
      // The length was never (or wrongly) announced: the close is the end of the body.
      await new Promise<void>((resolve) => response.write("", () => resolve()));
      finish(framing === "close" ? "complete" : "disconnected");
      socket.end();
      return;
    }
    response.end();
  }

  async #sendBody(
    response: ServerResponse,
    request: FirmwareRequest,
    body: Uint8Array,
    faults: HttpFault[],
    finish: (outcome: FirmwareRequest["outcome"]) => void,
  ): Promise<void> {
    const chunkSize = this.#options.chunkSize ?? 65_536;
    const signal = this.#stopping.signal;
    const stall = faults.find(
      (f): f is Extract<HttpFault, { type: "stall" }> => f.type === "stall",
    );
    const cut = faults.find(
      (f): f is Extract<HttpFault, { type: "disconnect" }> => f.type === "disconnect",
    );
    const throttle = faults.find(
      (f): f is Extract<HttpFault, { type: "throttle" }> => f.type === "throttle",
    );
    const stopAt = cut ? Math.min(cut.afterBytes ?? 0, body.length) : body.length;
    let offset = 0;
    const writeUpTo = async (limit: number) => {
      while (offset < limit && !response.destroyed && !signal.aborted) {
        let size = Math.min(chunkSize, limit - offset);
        if (throttle) size = Math.max(1, Math.min(size, Math.floor(throttle.bytesPerSecond / 20)));
        const chunk = body.subarray(offset, offset + size);
        offset += size;
        request.bytesSent += size;
        const drained = response.write(chunk);
        if (!drained) {
          await new Promise<void>((resolve) => {
            const done = () => {
              response.off("drain", done);
              response.off("close", done);
              resolve();
            };
            response.once("drain", done);
            response.once("close", done);
          });
        }
        if (throttle) await sleep((size / throttle.bytesPerSecond) * 1000, signal);
      }
    };
    if (stall) {
      await writeUpTo(Math.min(stall.afterBytes ?? 0, stopAt));
      if (stall.durationMs === undefined) {
        // Hang until the client gives up or the server stops.
        await new Promise<void>((resolve) => {
          if (response.destroyed || signal.aborted) return resolve();
          response.once("close", () => resolve());
          signal.addEventListener("abort", () => resolve(), { once: true });
        });
        return;
      }
      await sleep(stall.durationMs, signal);
    }
    await writeUpTo(stopAt);
    if (cut && !response.destroyed) {
      const socket = response.socket;
      finish("disconnected");
      if (cut.reset) {
        socket?.resetAndDestroy();
      } else {
        // Let the bytes already written reach the client, then FIN.
        await new Promise<void>((resolve) => response.write("", () => resolve()));
        socket?.end();
      }
    }
  }
}
