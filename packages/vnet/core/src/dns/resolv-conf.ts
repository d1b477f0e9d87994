import type { NameServerInfo } from "../config.js";

/** One interface's contribution to resolv.conf. */
export interface NameServerEntry {
  readonly domain: string | null;
  readonly nameServers: readonly string[];
}

export interface ResolverConfig {
  /** Exactly the name servers written, in order; what `["name_servers"]` shows. */
  readonly nameServers: NameServerInfo[];
  /** Search domains in order, each with the interfaces that asked for it. */
  readonly domains: Array<{ domain: string; from: string[] }>;
}

/**
 * Merges global and per-interface name servers in a stable total order:
 * 1. global servers (`additionalNameServers`) first, in their configured order;
 * 2. then the rest by their best position within any interface's list (everyone's first
 *    server, then everyone's second, ...), ties by interface name, then by address.
 * Interleaving by position keeps servers of different uplinks within resolv.conf's first three
 * (the C library reads no more), so one dead uplink never takes all name resolution with it.
 * Duplicates collapse into one line listing every source.
 */
export function mergeNameServers(
  globalServers: readonly string[],
  entries: ReadonlyMap<string, NameServerEntry>,
): ResolverConfig {
  const sources = new Map<string, Set<string>>();
  const rank = new Map<string, [number, number, string]>();
  const note = (address: string, source: string, key: [number, number, string]) => {
    if (!sources.has(address)) sources.set(address, new Set());
    sources.get(address)!.add(source);
    const existing = rank.get(address);
    if (!existing || compareKeys(key, existing) < 0) rank.set(address, key);
  };
  globalServers.forEach((address, index) => {
    note(address, "global", [0, index, ""]);
  });
  const ifnames = [...entries.keys()].sort();
  for (const ifname of ifnames) {
    entries.get(ifname)!.nameServers.forEach((address, index) => {
      note(address, ifname, [1, index, ifname]);
    });
  }
  const nameServers = [...rank]
    .sort(
      ([addressA, keyA], [addressB, keyB]) =>
        compareKeys(keyA, keyB) || compare(addressA, addressB),
    )
    .map(([address]) => ({ address, from: sortSources(sources.get(address)!) }));

  const domainSources = new Map<string, Set<string>>();
  for (const ifname of ifnames) {
    const domain = entries.get(ifname)!.domain;
    if (!domain) continue;
    if (!domainSources.has(domain)) domainSources.set(domain, new Set());
    domainSources.get(domain)!.add(ifname);
  }
  const domains = [...domainSources]
    .sort(([a], [b]) => compare(a, b))
    .map(([domain, from]) => ({ domain, from: sortSources(from) }));
  return { nameServers, domains };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKeys(a: [number, number, string], b: [number, number, string]): number {
  return a[0] - b[0] || a[1] - b[1] || compare(a[2], b[2]);
}

/** `global` first, then interface names in order. */
function sortSources(sources: Set<string>): string[] {
  return [...sources].sort((a, b) => (a === "global" ? -1 : b === "global" ? 1 : compare(a, b)));
}

/**
 * The resolv.conf text. All search domains go on one `search` line (the C library honours only
 * the last `search` line, so one line per domain would lose all but one); comments say where
 * each domain and server came from.
 */
export function renderResolvConf(config: ResolverConfig): string {
  const lines = ["# This file is managed by @vnet/core. Do not edit.", ""];
  if (config.domains.length > 0) {
    for (const { domain, from } of config.domains) {
      lines.push(`# search domain ${domain} from ${from.join(",")}`);
    }
    lines.push(`search ${config.domains.map(({ domain }) => domain).join(" ")}`);
  }
  for (const { address, from } of config.nameServers) {
    lines.push(`nameserver ${address} # From ${from.join(",")}`);
  }
  return `${lines.join("\n")}\n`;
}
