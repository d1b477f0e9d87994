// The websocket under phoenix: a `ws` WebSocket subclass (Node 20 has no global WebSocket, and
// phoenix hands its transport only a URL and protocols). Each construction is one connection
// attempt, so the settings — the NH1 signature above all — are built right here, immediately
// before the attempt (quirk 3), never before a back-off wait.
import type { Agent, IncomingHttpHeaders, IncomingMessage } from "node:http";
import WebSocket from "ws";

export interface AttemptSettings {
  headers: Record<string, string>;
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  rejectUnauthorized?: boolean;
  minVersion?: "TLSv1.2" | "TLSv1.3";
  perMessageDeflate: boolean;
  maxRedirects: number;
  agent?: Agent;
  handshakeTimeoutMs?: number;
}

export interface TransportHooks {
  /** Builds the settings of one attempt (signs the headers). */
  attempt(): AttemptSettings;
  /** The server refused the upgrade (401, 403, 503, …); `headers` include `date`. */
  refused?(status: number, headers: IncomingHttpHeaders): void;
  /** The upgrade succeeded; the local address of the TCP connection. */
  opened?(localAddress: string | undefined): void;
}

export type TransportClass = new (url: string, protocols?: string | string[]) => WebSocket;

export function transportClass(hooks: TransportHooks): TransportClass {
  return class HubLinkWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      const settings = hooks.attempt();
      super(url, protocols, {
        headers: settings.headers,
        ...(settings.ca !== undefined ? { ca: settings.ca } : {}),
        ...(settings.cert !== undefined ? { cert: settings.cert } : {}),
        ...(settings.key !== undefined ? { key: settings.key } : {}),
        ...(settings.servername !== undefined ? { servername: settings.servername } : {}),
        rejectUnauthorized: settings.rejectUnauthorized ?? true,
        minVersion: settings.minVersion ?? "TLSv1.2",
        perMessageDeflate: settings.perMessageDeflate,
        // Quirk 18: redirects are followed within the attempt; beyond the limit the attempt fails
        // and phoenix backs off and tries again, forever.
        followRedirects: settings.maxRedirects > 0,
        maxRedirects: settings.maxRedirects,
        handshakeTimeout: settings.handshakeTimeoutMs ?? 30_000,
        ...(settings.agent !== undefined ? { agent: settings.agent } : {}),
        finishRequest: (request) => {
          request.on("response", (response: IncomingMessage) => {
            const status = response.statusCode ?? 0;
            if (status < 300 || status >= 400) hooks.refused?.(status, response.headers);
          });
          request.end();
        },
      });
      this.on("upgrade", (response: IncomingMessage) =>
        hooks.opened?.(response.socket.localAddress),
      );
      // Errors reach phoenix through onerror; this listener only keeps an 'error' event without
      // other listeners from being thrown by EventEmitter.
      this.on("error", () => undefined);
    }
  };
}
