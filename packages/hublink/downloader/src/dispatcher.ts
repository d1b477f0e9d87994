// The undici dispatcher a download talks through: an Agent (or a ProxyAgent) whose connector
// notes the local address of every connection it opens, so the download can say which network
// interface carried it.
import type { Socket } from "node:net";
import { Agent, buildConnector, type Dispatcher, Pool, ProxyAgent } from "undici";

/** TLS settings for the download server (or for the proxy). PEM text or DER buffers. */
export interface TlsOptions {
  /** Certificate authorities to trust instead of Node's bundled list. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate chain, for servers that want mutual TLS. */
  cert?: string | Buffer | Array<string | Buffer>;
  /** Client private key. */
  key?: string | Buffer | Array<string | Buffer>;
  /** Passphrase of `key`. */
  passphrase?: string;
  /** SNI name and the name the certificate must carry, when not the URL's host. */
  servername?: string;
  /** Default true. Turning it off makes TLS worthless; for lab setups only. */
  rejectUnauthorized?: boolean;
}

export interface ProxyOptions {
  /** `http://host:port` (or `https://`) of the proxy. Credentials in the URL are used as Basic auth. */
  uri: string;
  /** Value of `Proxy-Authorization`, e.g. `Bearer ...`. */
  token?: string;
  /** Extra headers for the proxy's CONNECT request. */
  headers?: Record<string, string>;
  /** TLS settings for an `https://` proxy. */
  tls?: TlsOptions;
}

export interface DispatcherOptions {
  tls?: TlsOptions;
  /** An HTTP proxy: its URL, or {@link ProxyOptions}. Downloads are tunnelled with CONNECT. */
  proxy?: string | ProxyOptions;
  /** Longest wait for a TCP (and TLS) connection. Default 60 000 ms. */
  connectTimeout?: number;
}

/** The local end of a connection a dispatcher opened. */
export interface LocalConnection {
  localAddress: string | undefined;
  localPort: number | undefined;
}

class ConnectionRecorder {
  last: LocalConnection | undefined;
  private readonly byOrigin = new Map<string, LocalConnection>();

  record(options: buildConnector.Options, socket: Socket): void {
    const connection = { localAddress: socket.localAddress, localPort: socket.localPort };
    if (connection.localAddress === undefined) return;
    this.last = connection;
    this.byOrigin.set(originKey(options.protocol, options.hostname, options.port), connection);
  }

  lookup(url: string): LocalConnection | undefined {
    const parsed = new URL(url);
    return this.byOrigin.get(originKey(parsed.protocol, parsed.hostname, parsed.port)) ?? this.last;
  }
}

function originKey(protocol: string, hostname: string, port: string): string {
  const effectivePort = port || (protocol === "https:" ? "443" : "80");
  return `${protocol}//${hostname.replace(/^\[|\]$/g, "")}:${effectivePort}`;
}

const recorders = new WeakMap<Dispatcher, ConnectionRecorder>();

function recording(
  connector: buildConnector.connector,
  recorder: ConnectionRecorder,
): buildConnector.connector {
  return (options, callback) => {
    connector(options, (...args) => {
      const socket = args[1];
      if (socket) recorder.record(options, socket);
      callback(...args);
    });
  };
}

function tlsBuildOptions(
  tls: TlsOptions | undefined,
  timeout: number,
): buildConnector.BuildOptions {
  return { ...tls, timeout } as buildConnector.BuildOptions;
}

/**
 * An undici dispatcher with the given TLS and proxy settings that remembers the local address of
 * its connections (see {@link localConnectionOf}). `download()` makes one per download unless you
 * pass `dispatcher`; share one made here between downloads to reuse connections. Close it with
 * `await dispatcher.close()`.
 */
export function createDispatcher(options: DispatcherOptions = {}): Dispatcher {
  const timeout = options.connectTimeout ?? 60_000;
  const recorder = new ConnectionRecorder();
  let dispatcher: Dispatcher;
  if (options.proxy !== undefined) {
    const proxy: ProxyOptions =
      typeof options.proxy === "string" ? { uri: options.proxy } : options.proxy;
    dispatcher = new ProxyAgent({
      uri: proxy.uri,
      ...(proxy.token !== undefined ? { token: proxy.token } : {}),
      ...(proxy.headers !== undefined ? { headers: proxy.headers } : {}),
      requestTls: tlsBuildOptions(options.tls, timeout),
      proxyTls: tlsBuildOptions(proxy.tls, timeout),
      // The connection to the proxy is the one that leaves through a local interface.
      clientFactory: (origin: URL, clientOptions: object) => {
        const connect = (clientOptions as { connect: buildConnector.connector }).connect;
        return new Pool(origin, { ...clientOptions, connect: recording(connect, recorder) });
      },
    });
  } else {
    dispatcher = new Agent({
      connect: recording(buildConnector(tlsBuildOptions(options.tls, timeout)), recorder),
    });
  }
  recorders.set(dispatcher, recorder);
  return dispatcher;
}

/**
 * The local end of the connection `dispatcher` most recently opened to `url`'s origin (or to
 * anywhere, through a proxy). Undefined for dispatchers not made by {@link createDispatcher}.
 */
export function localConnectionOf(
  dispatcher: Dispatcher,
  url: string,
): LocalConnection | undefined {
  return recorders.get(dispatcher)?.lookup(url);
}
