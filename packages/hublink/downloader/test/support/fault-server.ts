// A fault-injecting HTTP server for tests and benchmarks (loopback only, port from the OS).
// Each path serves one resource; each request to a path consumes the next scripted behaviour
// (then the default: serve honestly, honouring Range and If-Range). Every request and every
// connection is recorded so tests can assert what the downloader really sent.
import { once } from "node:events";
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";

export interface Resource {
  content: Buffer;
  /** Strong ETag (with quotes), `null` for none. Default: derived from the content. */
  etag?: string | null;
  lastModified?: string | null;
}

export interface ServeBehaviour {
  kind: "serve";
  /** Close the connection (FIN) once the body has reached this absolute byte offset. */
  dropAt?: number;
  /** With `dropAt`: reset (RST) instead of a clean close. */
  reset?: boolean;
  /** Stop sending at this absolute offset, for `stallMs` or until the client gives up. */
  stallAt?: number;
  stallMs?: number;
  /** Answer 200 with the whole resource whatever the Range says. */
  ignoreRange?: boolean;
  /** Honour Range even when If-Range does not match (a broken server). */
  ignoreIfRange?: boolean;
  /** Serve at most this many bytes of a requested range, as a correct (shorter) 206. */
  shortRange?: number;
  /** How the length is framed. Default `content-length`. */
  framing?: "content-length" | "chunked" | "close";
  /** Announce this content-length instead of the true one (larger: a short body, then close). */
  declaredLength?: number;
  /** Bytes of garbage (0xEE) sent after the real body. */
  extra?: number;
  /** Pace the body at this many bytes per second. */
  rate?: number;
  /** Override the resource's ETag for this response (`null`: send none). */
  etag?: string | null;
  /** Answer a valid Range request with this status and Content-Range anyway (e.g. a bad start). */
  contentRange?: string;
}

export type Behaviour =
  | ServeBehaviour
  | {
      kind: "status";
      status: number;
      headers?: Record<string, string>;
      body?: string;
    }
  | { kind: "redirect"; location: string; status?: number }
  /** Accept the request and never answer. */
  | { kind: "hang" }
  /** Close the connection without answering. */
  | { kind: "destroy" };

export interface RecordedRequest {
  index: number;
  path: string;
  headers: IncomingHttpHeaders;
  range: string | undefined;
  ifRange: string | undefined;
  behaviour: Behaviour["kind"];
  status: number | undefined;
  /** Body bytes handed to the socket for this response. */
  bytesSent: number;
  /** Resolves when the connection that carried this request has closed. */
  closed: Promise<void>;
  remotePort: number | undefined;
  /** CN of the client certificate, over TLS with `requestCert`. */
  clientCertificate: string | undefined;
}

export interface FaultServerOptions {
  /** Serve HTTPS with this key and certificate; `ca` + `requestCert` ask for a client certificate. */
  tls?: {
    key: string | Buffer;
    cert: string | Buffer;
    ca?: string | Buffer;
    requestCert?: boolean;
  };
}

interface Route {
  resource: Resource;
  queue: Behaviour[];
}

export function etagOf(content: Buffer): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < content.length; index += Math.max(1, content.length >> 12)) {
    hash = Math.imul(hash ^ (content[index] ?? 0), 0x01000193) >>> 0;
  }
  return `"${content.length.toString(16)}-${hash.toString(16)}"`;
}

/** Deterministic pseudo-random bytes, so tests can compare output with the source. */
export function patternBytes(length: number, seed = 1): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

function clientCommonName(socket: Socket): string | undefined {
  const tlsSocket = socket as TLSSocket;
  if (typeof tlsSocket.getPeerCertificate !== "function") return undefined;
  const subject = tlsSocket.getPeerCertificate().subject as { CN?: string } | undefined;
  return subject?.CN;
}

const closedPromises = new WeakMap<Socket, Promise<void>>();

/** One promise per socket (not one listener per request or per wait). */
function socketClosed(socket: Socket): Promise<void> {
  let closed = closedPromises.get(socket);
  if (!closed) {
    closed = socket.destroyed
      ? Promise.resolve()
      : new Promise<void>((resolve) => socket.once("close", () => resolve()));
    closedPromises.set(socket, closed);
  }
  return closed;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class FaultServer {
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;
  private stopping = false;
  connectionsOpened = 0;

  private constructor(options: FaultServerOptions) {
    const listener = (request: IncomingMessage, response: ServerResponse) => {
      this.handle(request.url ?? "/", request.headers, response).catch(() => {
        response.socket?.destroy();
      });
    };
    this.scheme = options.tls ? "https" : "http";
    this.server = options.tls
      ? createTlsServer(
          {
            key: options.tls.key,
            cert: options.tls.cert,
            ...(options.tls.ca ? { ca: options.tls.ca } : {}),
            requestCert: options.tls.requestCert ?? false,
            rejectUnauthorized: options.tls.requestCert ?? false,
          },
          listener,
        )
      : createServer(listener);
    this.server.keepAliveTimeout = 30_000;
    this.server.on(options.tls ? "secureConnection" : "connection", (socket: Socket) => {
      this.connectionsOpened++;
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  private readonly scheme: "http" | "https";

  static async start(options: FaultServerOptions = {}): Promise<FaultServer> {
    const server = new FaultServer(options);
    server.server.listen(0, "127.0.0.1");
    await once(server.server, "listening");
    return server;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = "/file", host = "127.0.0.1"): string {
    return `${this.scheme}://${host}:${this.port}${path}`;
  }

  /** Serves `resource` at `path` (replacing what was there: "the file changed"). */
  setResource(path: string, resource: Resource): this {
    const route = this.routes.get(path);
    if (route) route.resource = resource;
    else this.routes.set(path, { resource, queue: [] });
    return this;
  }

  /** The next requests to `path` get these behaviours, in order. */
  script(path: string, behaviours: Behaviour[]): this {
    const route = this.routes.get(path) ?? { resource: { content: Buffer.alloc(0) }, queue: [] };
    route.queue.push(...behaviours);
    this.routes.set(path, route);
    return this;
  }

  /** The Range header of every request to `path`, in order (`-` for none). */
  ranges(path = "/file"): string[] {
    return this.requests
      .filter((request) => request.path === path)
      .map((request) => request.range ?? "-");
  }

  bodyBytesSent(): number {
    return this.requests.reduce((sum, request) => sum + request.bytesSent, 0);
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    this.stopping = true;
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(
    url: string,
    headers: IncomingHttpHeaders,
    response: ServerResponse,
  ): Promise<void> {
    const path = url.split("?")[0] ?? "/";
    const route = this.routes.get(path);
    const behaviour: Behaviour = route?.queue.shift() ?? { kind: "serve" };
    const socket = response.socket as Socket;
    const record: RecordedRequest = {
      index: this.requests.length,
      path,
      headers,
      range: headers.range,
      ifRange: [headers["if-range"]].flat()[0],
      behaviour: behaviour.kind,
      status: undefined,
      bytesSent: 0,
      closed: socketClosed(socket),
      remotePort: socket.remotePort,
      clientCertificate: clientCommonName(socket),
    };
    this.requests.push(record);
    if (!route) {
      record.status = 404;
      response.writeHead(404).end();
      return;
    }
    switch (behaviour.kind) {
      case "hang":
        return;
      case "destroy":
        socket.destroy();
        return;
      case "status":
        record.status = behaviour.status;
        response.writeHead(behaviour.status, behaviour.headers).end(behaviour.body ?? "");
        return;
      case "redirect":
        record.status = behaviour.status ?? 302;
        response.writeHead(record.status, { location: behaviour.location }).end();
        return;
      case "serve":
        await this.serve(route.resource, behaviour, headers, response, record);
    }
  }

  private async serve(
    resource: Resource,
    behaviour: ServeBehaviour,
    headers: IncomingHttpHeaders,
    response: ServerResponse,
    record: RecordedRequest,
  ): Promise<void> {
    const content = resource.content;
    const length = content.length;
    const etag =
      behaviour.etag !== undefined
        ? behaviour.etag
        : resource.etag !== undefined
          ? resource.etag
          : etagOf(content);
    const lastModified = resource.lastModified ?? null;
    const socket = response.socket as Socket;

    let start = 0;
    let end = length;
    let partial = false;
    const range = /^bytes=(\d+)-(\d*)$/.exec(headers.range ?? "");
    const ifRange = [headers["if-range"]].flat()[0];
    const validatorMatches =
      ifRange === undefined ||
      behaviour.ignoreIfRange === true ||
      (etag !== null && ifRange === etag) ||
      (lastModified !== null && ifRange === lastModified);
    if (range && !behaviour.ignoreRange && validatorMatches) {
      const first = Number(range[1]);
      if (first >= length) {
        record.status = 416;
        response.writeHead(416, { "content-range": `bytes */${length}` }).end();
        return;
      }
      start = first;
      end = range[2] ? Math.min(Number(range[2]) + 1, length) : length;
      partial = true;
    }
    if (partial && behaviour.shortRange !== undefined) {
      end = Math.min(end, start + behaviour.shortRange);
    }
    const responseHeaders: Record<string, string | number> = {
      "accept-ranges": "bytes",
      "content-type": "application/octet-stream",
    };
    if (etag !== null) responseHeaders["etag"] = etag;
    if (lastModified !== null) responseHeaders["last-modified"] = lastModified;
    if (partial) {
      responseHeaders["content-range"] =
        behaviour.contentRange ?? `bytes ${start}-${end - 1}/${length}`;
    }
    const framing = behaviour.framing ?? "content-length";
    if (framing === "content-length") {
      responseHeaders["content-length"] = behaviour.declaredLength ?? end - start;
    }
    if (framing === "close") {
      response.useChunkedEncodingByDefault = false;
      responseHeaders["connection"] = "close";
    }
    record.status = partial ? 206 : 200;
    response.writeHead(record.status, responseHeaders);

    const body =
      behaviour.extra !== undefined
        ? Buffer.concat([content.subarray(start, end), Buffer.alloc(behaviour.extra, 0xee)])
        : content.subarray(start, end);
    const bodyEnd = start + body.length;
    const stopAt = Math.min(bodyEnd, behaviour.dropAt ?? Number.POSITIVE_INFINITY);
    const began = Date.now();
    let position = start;
    let stalled = false;
    while (position < stopAt) {
      if (this.stopping || socket.destroyed) return;
      if (!stalled && behaviour.stallAt !== undefined && position >= behaviour.stallAt) {
        stalled = true;
        if (behaviour.stallMs === undefined) {
          await record.closed;
          return;
        }
        await sleep(behaviour.stallMs);
      }
      let pieceEnd = Math.min(stopAt, position + 64 * 1024);
      if (!stalled && behaviour.stallAt !== undefined && behaviour.stallAt > position) {
        pieceEnd = Math.min(pieceEnd, behaviour.stallAt);
      }
      if (behaviour.rate !== undefined) {
        pieceEnd = Math.min(pieceEnd, position + Math.max(1, Math.floor(behaviour.rate / 20)));
        const due = began + ((position - start) / behaviour.rate) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      const piece = body.subarray(position - start, pieceEnd - start);
      record.bytesSent += piece.length;
      position = pieceEnd;
      if (!response.write(piece)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            response.off("drain", done);
            socket.off("close", done);
            resolve();
          };
          response.on("drain", done);
          socket.on("close", done);
        });
      }
    }
    if (socket.destroyed) return;
    if (behaviour.dropAt !== undefined && behaviour.dropAt < bodyEnd) {
      if (behaviour.reset) {
        socket.resetAndDestroy();
      } else {
        // Let what was written reach the client, then FIN.
        await new Promise<void>((resolve) => response.write("", () => resolve()));
        socket.end();
      }
      return;
    }
    const declared = behaviour.declaredLength;
    if (declared !== undefined && declared > body.length) {
      await new Promise<void>((resolve) => response.write("", () => resolve()));
      socket.end();
      return;
    }
    response.end();
  }
}
