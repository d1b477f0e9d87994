import { mkdir, realpath } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "@runtime/atomic-file";
import type { PropertyTable } from "@runtime/property-table";
import { parseAddress } from "../ip/address.js";
import { errorMessage, type Logger } from "../log.js";
import type { NameServerControl } from "../technology.js";
import { mergeNameServers, type NameServerEntry, renderResolvConf } from "./resolv-conf.js";

export interface NameResolverOptions {
  readonly table: PropertyTable;
  readonly logger: Logger;
  /** The file to own; `null` publishes `["name_servers"]` without writing any file. */
  readonly resolvConfPath: string | null;
  readonly globalNameServers: readonly string[];
}

/** The source of `setup`/`clear` calls that name none: IPv4 addressing (DHCP or static). */
export const DEFAULT_NAME_SERVER_SOURCE = "ipv4";

/**
 * An interface's sources as one entry: servers of the `ipv4` source first, then of the others
 * by source name, duplicates dropped; the domain of the first source (same order) that has one.
 */
export function combineSources(sources: ReadonlyMap<string, NameServerEntry>): NameServerEntry {
  const order = [...sources.keys()].sort((a, b) =>
    a === DEFAULT_NAME_SERVER_SOURCE ? -1 : b === DEFAULT_NAME_SERVER_SOURCE ? 1 : a < b ? -1 : 1,
  );
  const nameServers: string[] = [];
  let domain: string | null = null;
  for (const source of order) {
    const entry = sources.get(source)!;
    for (const server of entry.nameServers) {
      if (!nameServers.includes(server)) nameServers.push(server);
    }
    domain ??= entry.domain;
  }
  return { domain, nameServers };
}

/**
 * Owns one resolv.conf: every change rewrites the whole file atomically (temp + fsync + rename)
 * and republishes `["name_servers"]`. Writes are coalesced: while one is in progress, later
 * changes wait and are written once, newest state only. A symlink (read-only root with
 * `/etc/resolv.conf -> /tmp/resolv.conf`) is followed, so its target is replaced, not the link.
 */
export class NameResolver implements NameServerControl {
  /** Per interface, per source (`ipv4`, `dhcpv6`, ...). */
  private readonly entries = new Map<string, Map<string, NameServerEntry>>();
  private readonly globalServers: string[];
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(private readonly options: NameResolverOptions) {
    this.globalServers = [];
    for (const server of options.globalNameServers) {
      const parsed = parseAddress(server);
      if (parsed) this.globalServers.push(parsed.address);
      else
        options.logger.warn(
          `ignoring additional name server ${JSON.stringify(server)}: not an IP address`,
        );
    }
  }

  /** Publishes and writes the initial file (global servers only). */
  async start(): Promise<void> {
    this.changed();
    await this.settled();
  }

  setup(
    ifname: string,
    domain: string | null,
    nameServers: readonly string[],
    source: string = DEFAULT_NAME_SERVER_SOURCE,
  ): void {
    const servers: string[] = [];
    for (const server of nameServers) {
      const parsed = parseAddress(server);
      if (parsed && !servers.includes(parsed.address)) servers.push(parsed.address);
    }
    const entry = {
      domain: domain && domain.trim() !== "" ? domain.trim() : null,
      nameServers: servers,
    };
    const sources = this.entries.get(ifname) ?? new Map<string, NameServerEntry>();
    const existing = sources.get(source);
    if (
      existing &&
      existing.domain === entry.domain &&
      existing.nameServers.join() === entry.nameServers.join()
    ) {
      return;
    }
    sources.set(source, entry);
    this.entries.set(ifname, sources);
    this.changed();
  }

  clear(ifname: string, source: string = DEFAULT_NAME_SERVER_SOURCE): void {
    const sources = this.entries.get(ifname);
    if (!sources?.delete(source)) return;
    if (sources.size === 0) this.entries.delete(ifname);
    this.changed();
  }

  /** Resolves once the file reflects every change made so far. */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** The text the file holds (or would hold). */
  render(): string {
    return renderResolvConf(mergeNameServers(this.globalServers, this.perInterface()));
  }

  async stop(): Promise<void> {
    await this.settled();
    this.options.table.delete(["name_servers"]);
  }

  /** One entry per interface: its sources combined (see {@link combineSources}). */
  private perInterface(): Map<string, NameServerEntry> {
    const combined = new Map<string, NameServerEntry>();
    for (const [ifname, sources] of this.entries) combined.set(ifname, combineSources(sources));
    return combined;
  }

  private changed(): void {
    const merged = mergeNameServers(this.globalServers, this.perInterface());
    this.options.table.put(["name_servers"], merged.nameServers);
    this.dirty = true;
    if (!this.writing) this.writing = this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    // Yield first: otherwise, with nothing to await (no file), the loop would finish before
    // `this.writing` is even assigned, and `settled()` would wait forever on a stale promise.
    await Promise.resolve();
    try {
      while (this.dirty) {
        this.dirty = false;
        const path = this.options.resolvConfPath;
        if (path === null) continue;
        try {
          const target = await realpath(path).catch(() => path);
          await mkdir(dirname(target), { recursive: true });
          await writeFileAtomic(target, this.render(), { mode: 0o644 });
        } catch (error) {
          this.options.logger.error(`cannot write ${path}: ${errorMessage(error)}`);
        }
      }
    } finally {
      // No await between the last check of `dirty` and here: no change can be missed.
      this.writing = undefined;
    }
  }
}
