// HTTP CONNECT proxy for the websocket: an http(s) Agent whose connections are tunnels opened
// through the proxy (ws takes any Agent). No dependency; the downloader has its own proxy support.
import { Agent as HttpAgent, request } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { Duplex } from "node:stream";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";

type Callback = (error: Error | null, socket: Duplex) => void;

function tunnel(
  proxy: URL,
  options: { host?: string | null; hostname?: string | null; port?: number | string | null },
  done: (error: Error | null, socket?: Duplex) => void,
): void {
  const host = options.hostname ?? options.host ?? "localhost";
  const target = `${host.includes(":") ? `[${host}]` : host}:${options.port}`;
  const headers: Record<string, string> = { host: target };
  if (proxy.username) {
    headers["proxy-authorization"] =
      `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString("base64")}`;
  }
  const connectRequest = request({
    host: proxy.hostname,
    port: proxy.port || 80,
    method: "CONNECT",
    path: target,
    headers,
  });
  connectRequest.once("connect", (response, socket) => {
    if (response.statusCode !== 200) {
      socket.destroy();
      done(new Error(`proxy refused CONNECT ${target}: HTTP ${response.statusCode}`));
      return;
    }
    done(null, socket);
  });
  connectRequest.once("error", (error) => done(error));
  connectRequest.end();
}

/** An Agent that tunnels through `proxyUrl` (`http://[user:pass@]host:port`). */
export function proxyAgent(proxyUrl: string, secure: boolean): HttpAgent {
  const proxy = new URL(proxyUrl);
  if (secure) {
    return new (class extends HttpsAgent {
      override createConnection(
        options: ConnectionOptions & { host?: string | null; port?: number | string | null },
        callback?: Callback,
      ): Duplex | null | undefined {
        tunnel(proxy, options, (error, socket) => {
          if (error || !socket)
            return callback?.(error ?? new Error("no tunnel"), undefined as never);
          const secureSocket = tlsConnect({
            ...options,
            socket,
            servername: options.servername ?? options.host ?? undefined,
          } as ConnectionOptions);
          callback?.(null, secureSocket);
        });
        return undefined;
      }
    })({ keepAlive: false }) as unknown as HttpAgent;
  }
  return new (class extends HttpAgent {
    override createConnection(
      options: { host?: string | null; port?: number | string | null },
      callback?: Callback,
    ): Duplex | null | undefined {
      tunnel(proxy, options, (error, socket) => callback?.(error, socket as Duplex));
      return undefined;
    }
  })({ keepAlive: false });
}
