// The HTTP side of a device connecting: which paths exist, the transport version check, which
// headers count as credentials, and the exact responses a refused upgrade gets.
//
// Sources (nerves-hub/nerves_hub_web unless noted):
// - lib/nerves_hub_web/device_endpoint.ex: the same DeviceSocket at `/socket` and
//   `/device-socket` (Phoenix appends `/websocket`), serializers `~> 3.0.0` (MessagePack) and
//   `~> 2.0.0` (JSON), then the ImAlive and DeviceEndpointRedirect plugs for every other path;
// - phoenixframework/phoenix lib/phoenix/socket.ex (`__connect__/3`, `negotiate_serializer/2`:
//   `vsn` defaults to "1.0.0", no match is `:error`) and lib/phoenix/transports/websocket.ex
//   (`:error` → 403 with an empty body, `{:error, reason}` → the endpoint's error handler,
//   non-GET → 400, a bad upgrade after a successful connect → 400);
// - lib/phoenix/socket/transport.ex (`:x_headers` = every request header starting with "x-");
// - lib/nerves_hub_web/helpers/websocket_connection_error.ex (the 401/503 bodies and the
//   `nh-connection-error-reason` header);
// - lib/nerves_hub_web/plugs/im_alive.ex and plugs/device_endpoint_redirect.ex.

import { STATUS_CODES } from "node:http";
import { versionMatches } from "../phoenix/version.js";

/** Paths the device socket answers on. */
export const SOCKET_PATHS = ["/socket/websocket", "/device-socket/websocket"] as const;

/** Health-check paths of the device endpoint (ImAlive). */
export const STATUS_PATHS = [
  "/status/alive",
  "/status/_health",
  "/status/health",
  "/status/healthy",
] as const;

/** `DEVICE_ENDPOINT_REDIRECT` default. */
export const DEFAULT_REDIRECT_LOCATION = "https://docs.nerves-hub.org/";

export const NO_AUTH_MESSAGE =
  "no certificate pair or shared secrets connection settings were provided";
export const PLATFORM_UNAVAILABLE_MESSAGE =
  "the platform could not be reached to authenticate this device";

export type Serializer = "json" | "msgpack";

/**
 * Picks the serializer for a `vsn` query value, in the server's order (MessagePack `~> 3.0.0`
 * first, then JSON `~> 2.0.0`), among those this hub speaks. `undefined` means 403.
 */
export function negotiateSerializer(
  vsn: string | undefined,
  supported: readonly Serializer[] = ["json"],
): Serializer | undefined {
  const version = vsn ?? "1.0.0";
  if (supported.includes("msgpack") && versionMatches(version, "~> 3.0.0")) return "msgpack";
  if (supported.includes("json") && versionMatches(version, "~> 2.0.0")) return "json";
  return undefined;
}

/** The `x-` headers as Phoenix hands them to `connect/3`: lower-case names, last value wins. */
export function collectXHeaders(rawHeaders: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!.toLowerCase();
    if (name.startsWith("x-")) headers[name] = rawHeaders[index + 1]!;
  }
  return headers;
}

/** A response the hub writes on a refused upgrade or a non-socket path. */
export interface HubHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Plug's default response header. */
const CACHE_CONTROL = "max-age=0, private, must-revalidate";

export function plainResponse(status: number, body = "", headers: Record<string, string> = {}) {
  return {
    status,
    headers: { "cache-control": CACHE_CONTROL, ...headers },
    body,
  } satisfies HubHttpResponse;
}

/** 401, no certificate and no `x-` header (`handle_error(conn, :no_auth)`). */
export function noAuthResponse(): HubHttpResponse {
  return plainResponse(401, NO_AUTH_MESSAGE, { "nh-connection-error-reason": NO_AUTH_MESSAGE });
}

/** 401 with an empty body: every other authentication failure. */
export function invalidAuthResponse(): HubHttpResponse {
  return plainResponse(401);
}

/** 503: the platform could not be asked (`handle_error(conn, :platform_unavailable)`). */
export function platformUnavailableResponse(): HubHttpResponse {
  return plainResponse(503, PLATFORM_UNAVAILABLE_MESSAGE, {
    "nh-connection-error-reason": PLATFORM_UNAVAILABLE_MESSAGE,
  });
}

/** The response ImAlive gives on a status path (the hub has no database to be down). */
export function statusResponse(): HubHttpResponse {
  return plainResponse(200, "Hello, Friend!", { "content-type": "text/plain; charset=utf-8" });
}

/** DeviceEndpointRedirect: every other path is a 301 to the docs. */
export function redirectResponse(location: string, status = 301): HubHttpResponse {
  return plainResponse(status, "", { location });
}

/** RFC 9110 IMF-fixdate, the `date` header every Bandit response carries. */
export function httpDate(nowMs: number): string {
  return new Date(nowMs).toUTCString();
}

/** Serialises a response for writing straight to an upgrade request's socket. */
export function serializeResponse(response: HubHttpResponse, nowMs: number): string {
  const body = Buffer.from(response.body, "utf8");
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? "Unknown"}`];
  const headers: Record<string, string> = {
    date: httpDate(nowMs),
    ...response.headers,
    "content-length": String(body.length),
    connection: "close",
  };
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join("\r\n")}\r\n\r\n${response.body}`;
}
