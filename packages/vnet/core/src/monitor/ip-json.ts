import type { AddressInfo } from "../config.js";
import { parseAddress, prefixToNetmask } from "../ip/address.js";

/** One kernel link as the monitor publishes it. */
export interface LinkSnapshot {
  readonly ifindex: number;
  readonly ifname: string;
  /** IFF_LOWER_UP: carrier (wired) or association (WiFi). */
  readonly lowerUp: boolean;
  /** Absent for links without a hardware address (tun, ppp). */
  readonly macAddress: string | undefined;
  readonly addresses: readonly AddressInfo[];
}

const SCOPES: Record<string, AddressInfo["scope"]> = {
  global: "universe",
  universe: "universe",
  site: "site",
  link: "link",
  host: "host",
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** One `addr_info` entry as an AddressInfo, or undefined when it is not usable as a source. */
export function parseAddrInfo(entry: unknown): AddressInfo | undefined {
  if (!isRecord(entry)) return undefined;
  const family = entry.family;
  if (family !== "inet" && family !== "inet6") return undefined;
  // Tentative (DAD running) and DAD-failed addresses cannot be used yet or at all.
  if (entry.tentative === true || entry.dadfailed === true) return undefined;
  // Point-to-point links report the peer as `address` and ours as `local`.
  const text = typeof entry.local === "string" ? entry.local : entry.address;
  const parsed = typeof text === "string" ? parseAddress(text) : undefined;
  if (!parsed || parsed.family !== family) return undefined;
  const prefixLength = entry.prefixlen;
  const maxBits = family === "inet" ? 32 : 128;
  if (
    typeof prefixLength !== "number" ||
    !Number.isInteger(prefixLength) ||
    prefixLength < 0 ||
    prefixLength > maxBits
  ) {
    return undefined;
  }
  const scope = typeof entry.scope === "string" ? SCOPES[entry.scope] : undefined;
  if (!scope) return undefined;
  return {
    family,
    address: parsed.address,
    prefix_length: prefixLength,
    netmask: prefixToNetmask(family, prefixLength),
    scope,
  };
}

/**
 * Parses `ip -json addr show` (iproute2 ≥ 4.13) into link snapshots. Entries it cannot make
 * sense of are skipped, never thrown on: the monitor must survive odd links. Throws only when
 * the text is not a JSON array at all.
 */
export function parseIpAddrShow(text: string): LinkSnapshot[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new TypeError("ip -json addr show did not print an array");
  const links: LinkSnapshot[] = [];
  for (const entry of parsed) {
    if (!isRecord(entry)) continue;
    const { ifindex, ifname } = entry;
    if (typeof ifindex !== "number" || typeof ifname !== "string" || ifname === "") continue;
    const flags = Array.isArray(entry.flags) ? entry.flags : [];
    const mac =
      typeof entry.address === "string" && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(entry.address)
        ? entry.address.toLowerCase()
        : undefined;
    const addresses = (Array.isArray(entry.addr_info) ? entry.addr_info : [])
      .map(parseAddrInfo)
      .filter((info): info is AddressInfo => info !== undefined);
    links.push({
      ifindex,
      ifname,
      lowerUp: flags.includes("LOWER_UP"),
      macAddress: mac,
      addresses,
    });
  }
  return links;
}

/**
 * VintageNet's hw_path from the target of the `/sys/class/net/<ifname>` symlink: without the
 * leading `../..` and the trailing `/net/<ifname>`, e.g. `/devices/platform/ocp/4a100000.ethernet`;
 * virtual interfaces give `/devices/virtual`.
 */
export function hwPathFromSysfsLink(target: string, ifname: string): string {
  let path = target.replace(/^(\.\.\/)+/, "/");
  const suffix = `/net/${ifname}`;
  if (path.endsWith(suffix)) path = path.slice(0, -suffix.length);
  if (!path.startsWith("/")) path = `/${path}`;
  return path;
}

/** The monitor's properties of one link, by key under `["interface", ifname]`. */
export function monitorProperties(link: LinkSnapshot, hwPath: string): Map<string, unknown> {
  const properties = new Map<string, unknown>([
    ["present", true],
    ["hw_path", hwPath],
    ["lower_up", link.lowerUp],
    ["addresses", link.addresses],
  ]);
  if (link.macAddress !== undefined) properties.set("mac_address", link.macAddress);
  return properties;
}

/** Property keys the monitor owns under `["interface", ifname]`. */
export const MONITOR_KEYS = ["present", "hw_path", "lower_up", "mac_address", "addresses"] as const;
