import { lookup } from "node:dns/promises";
import { connect } from "node:net";
import { parseAddress } from "../ip/address.js";

/** A host to "TCP ping": connect, then close. A hostname is resolved on each use. */
export interface InternetHost {
  readonly host: string;
  readonly port: number;
}

/**
 * VintageNet's defaults: public DNS resolvers over TCP port 53 (Cloudflare, Google, OpenDNS,
 * Quad9, Neustar). Put your own backend first if your network blocks public DNS.
 */
export const DEFAULT_INTERNET_HOSTS: readonly InternetHost[] = Object.freeze([
  { host: "1.1.1.1", port: 53 },
  { host: "8.8.8.8", port: 53 },
  { host: "208.67.222.222", port: 53 },
  { host: "9.9.9.9", port: 53 },
  { host: "156.154.70.5", port: 53 },
]);

export interface ProbeRequest {
  /** An IP address (already resolved). */
  readonly address: string;
  readonly port: number;
  /** Source address: binds the probe to one interface (its per-interface routing decides). */
  readonly localAddress?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export type ProbeResult =
  | { readonly reachable: true; readonly how: "connected" | "refused" }
  | { readonly reachable: false; readonly reason: string };

export type ProbeFunction = (request: ProbeRequest) => Promise<ProbeResult>;

/**
 * TCP connect to `address:port` from `localAddress`. Connected or refused (`ECONNREFUSED`: the
 * host answered with a reset, so the path works) count as reachable; anything else, including
 * the time limit, does not.
 */
export const tcpProbe: ProbeFunction = (request) =>
  new Promise((resolve) => {
    if (request.signal?.aborted) {
      resolve({ reachable: false, reason: "aborted" });
      return;
    }
    const socket = connect({
      host: request.address,
      port: request.port,
      ...(request.localAddress ? { localAddress: request.localAddress } : {}),
    });
    let settled = false;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => finish({ reachable: false, reason: "aborted" });
    const timer = setTimeout(
      () => finish({ reachable: false, reason: `no answer within ${request.timeoutMs} ms` }),
      request.timeoutMs,
    );
    request.signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => finish({ reachable: true, how: "connected" }));
    socket.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNREFUSED") finish({ reachable: true, how: "refused" });
      else finish({ reachable: false, reason: error.code ?? error.message });
    });
  });

/** Resolves a host entry to addresses of `family` (an IP address resolves to itself). */
export async function resolveHost(host: InternetHost, family: "inet" | "inet6"): Promise<string[]> {
  const literal = parseAddress(host.host);
  if (literal) return literal.family === family ? [literal.address] : [];
  try {
    const found = await lookup(host.host, { all: true, family: family === "inet" ? 4 : 6 });
    return found.map((entry) => entry.address);
  } catch {
    return [];
  }
}

/** Checks a host list: ports 1..65535, non-empty host strings. Throws a RangeError naming the entry. */
export function checkInternetHosts(hosts: readonly InternetHost[]): InternetHost[] {
  if (!Array.isArray(hosts)) throw new RangeError("internetHosts must be an array");
  return hosts.map((entry, index) => {
    if (typeof entry?.host !== "string" || entry.host.trim() === "") {
      throw new RangeError(`internetHosts[${index}].host must be an address or a hostname`);
    }
    if (!Number.isInteger(entry.port) || entry.port < 1 || entry.port > 65_535) {
      throw new RangeError(`internetHosts[${index}].port must be 1..65535: got ${entry.port}`);
    }
    return { host: entry.host.trim(), port: entry.port };
  });
}
