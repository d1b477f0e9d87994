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

/**
 * Owns one resolv.conf: every change rewrites the whole file atomically (temp + fsync + rename)
 * and republishes `["name_servers"]`. Writes are coalesced: while one is in progress, later
 * changes wait and are written once, newest state only. A symlink (read-only root with
 * `/etc/resolv.conf -> /tmp/resolv.conf`) is followed, so its target is replaced, not the link.
 */
export class NameResolver implements NameServerControl {
  private readonly entries = new Map<string, NameServerEntry>();
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

  setup(ifname: string, domain: string | null, nameServers: readonly string[]): void {
    const servers: string[] = [];
    for (const server of nameServers) {
      const parsed = parseAddress(server);
      if (parsed && !servers.includes(parsed.address)) servers.push(parsed.address);
    }
    const entry = {
      domain: domain && domain.trim() !== "" ? domain.trim() : null,
      nameServers: servers,
    };
    const existing = this.entries.get(ifname);
    if (
      existing &&
      existing.domain === entry.domain &&
      existing.nameServers.join() === entry.nameServers.join()
    ) {
      return;
    }
    this.entries.set(ifname, entry);
    this.changed();
  }

  clear(ifname: string): void {
    if (this.entries.delete(ifname)) this.changed();
  }

  /** Resolves once the file reflects every change made so far. */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** The text the file holds (or would hold). */
  render(): string {
    return renderResolvConf(mergeNameServers(this.globalServers, this.entries));
  }

  async stop(): Promise<void> {
    await this.settled();
    this.options.table.delete(["name_servers"]);
  }

  private changed(): void {
    const merged = mergeNameServers(this.globalServers, this.entries);
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
