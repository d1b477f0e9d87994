import { readlink } from "node:fs/promises";
import { join } from "node:path";
import { type CommandRunner, type SupervisedProcess, supervise } from "@runtime/command";
import type { PropertyPath, PropertyTable } from "@runtime/property-table";
import type { Clock } from "../clock.js";
import { errorMessage, type Logger } from "../log.js";
import { onEveryStart } from "../supervision.js";
import { IpBatch } from "./ip-batch.js";
import {
  hwPathFromSysfsLink,
  type LinkSnapshot,
  MONITOR_KEYS,
  monitorProperties,
  parseIpAddrShow,
} from "./ip-json.js";

export interface InterfacesMonitorOptions {
  readonly table: PropertyTable;
  readonly runner: CommandRunner;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Where the `<ifname>` symlinks live (hw_path). Default `/sys/class/net`. */
  readonly sysClassNet: string;
  /**
   * Wait this long after an event before re-reading, so a burst (link up, carrier, IPv6
   * link-local address) costs one `ip` run instead of three. Default 5 ms.
   */
  readonly coalesceMs?: number;
}

/**
 * Keeps `present`, `hw_path`, `lower_up`, `mac_address` and `addresses` of every kernel link in
 * the table, driven by events, not polling: `ip monitor link address` prints a line for every
 * link and address change (rtnetlink); each burst of lines triggers one re-read of
 * `ip -json addr show` (through a long-lived `ip -batch` process: no process start per event),
 * which is diffed into the table (the table only emits real changes).
 * There is a full read at start, another once the monitor runs (a change between the two
 * cannot be missed), and one after every restart of `ip monitor`.
 */
export class InterfacesMonitor {
  private monitor: SupervisedProcess | undefined;
  private batch: IpBatch | undefined;
  private refreshing: Promise<void> | undefined;
  private dirty = false;
  private stopped = false;
  private readonly hwPaths = new Map<number, { ifname: string; hwPath: string }>();
  /** Published interface names and the ifindex each had. */
  private readonly published = new Map<string, number>();
  private settleTimer: unknown;
  private coalesceTimer: unknown;
  /** Resolves when the re-read a pending coalesce timer will start has finished. */
  private scheduled: Promise<void> | undefined;
  private resolveScheduled: (() => void) | undefined;

  constructor(private readonly options: InterfacesMonitorOptions) {}

  async start(): Promise<void> {
    this.batch = new IpBatch(this.options.runner, this.options.clock, this.options.logger);
    this.batch.start();
    this.monitor = supervise(this.options.runner, ["ip", "monitor", "link", "address"], {
      restart: { initialDelayMs: 500, maxDelayMs: 10_000 },
    });
    onEveryStart(this.monitor, (process) => {
      process.on("line", () => this.requestRefresh());
      // The monitor subscribes asynchronously after it starts; read again once it surely has.
      if (this.settleTimer !== undefined) this.options.clock.clearTimeout(this.settleTimer);
      this.settleTimer = this.options.clock.setTimeout(() => {
        this.settleTimer = undefined;
        this.requestRefresh();
      }, 250);
    });
    this.monitor.on("exit", (exit, restartInMs) => {
      if (!this.stopped) {
        this.options.logger.warn(
          `ip monitor exited (${exit.error ? errorMessage(exit.error) : `status ${exit.exitCode}`}); restarting in ${restartInMs ?? "never"} ms`,
        );
      }
    });
    this.refreshing = this.refreshLoop();
    await this.settled();
  }

  /** Resolves when no re-read is pending or running. */
  async settled(): Promise<void> {
    while (this.scheduled || this.refreshing) await (this.scheduled ?? this.refreshing);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.settleTimer !== undefined) this.options.clock.clearTimeout(this.settleTimer);
    if (this.coalesceTimer !== undefined) this.options.clock.clearTimeout(this.coalesceTimer);
    this.coalesceTimer = undefined;
    this.scheduled = undefined;
    this.resolveScheduled?.();
    await this.monitor?.stop();
    await this.settled();
    await this.batch?.stop();
    for (const ifname of this.published.keys()) this.deleteLink(ifname);
    this.published.clear();
  }

  /** Asks for a re-read soon; requests meanwhile (or during a re-read) collapse into one more. */
  requestRefresh(): void {
    if (this.stopped) return;
    if (this.refreshing) {
      this.dirty = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = new Promise((resolve) => {
      this.resolveScheduled = resolve;
    });
    this.coalesceTimer = this.options.clock.setTimeout(() => {
      this.coalesceTimer = undefined;
      const done = this.resolveScheduled;
      if (this.refreshing) this.dirty = true;
      else this.refreshing = this.refreshLoop();
      void this.refreshing.then(() => {
        this.scheduled = undefined;
        done?.();
      });
    }, this.options.coalesceMs ?? 5);
  }

  private async refreshLoop(): Promise<void> {
    try {
      do {
        this.dirty = false;
        try {
          await this.refresh();
        } catch (error) {
          this.options.logger.error(`cannot read interfaces: ${errorMessage(error)}`);
        }
      } while (this.dirty && !this.stopped);
    } finally {
      this.refreshing = undefined;
    }
  }

  private async refresh(): Promise<void> {
    const links = parseIpAddrShow(await this.readAddresses());
    if (this.stopped) return;
    const updates: Array<[PropertyPath, unknown]> = [];
    for (const link of links) {
      const hwPath = await this.hwPath(link);
      for (const [key, value] of monitorProperties(link, hwPath)) {
        updates.push([["interface", link.ifname, key], value]);
      }
      if (link.macAddress === undefined) {
        this.options.table.delete(["interface", link.ifname, "mac_address"]);
      }
    }
    for (const index of [...this.hwPaths.keys()]) {
      if (!links.some((link) => link.ifindex === index)) this.hwPaths.delete(index);
    }
    // Removals first, so a renamed link never shows under both names. A link deleted and
    // created again between two reads has a new ifindex: it is reported gone, then new, so
    // the interface's state machine still sees the unplug.
    for (const [ifname, ifindex] of [...this.published]) {
      const now = links.find((link) => link.ifname === ifname);
      if (!now || now.ifindex !== ifindex) {
        this.deleteLink(ifname);
        this.published.delete(ifname);
      }
    }
    for (const link of links) this.published.set(link.ifname, link.ifindex);
    this.options.table.putMany(updates);
  }

  /** `ip -json addr show` through the batch process, or a plain run when that is not possible. */
  private async readAddresses(): Promise<string> {
    try {
      if (this.batch) return await this.batch.query("addr show");
    } catch (error) {
      this.options.logger.debug(`falling back to a plain ip run: ${errorMessage(error)}`);
    }
    const { stdout } = await this.options.runner.run(["ip", "-json", "addr", "show"], {
      timeoutMs: 10_000,
      parentDeathSignal: false,
    });
    return stdout;
  }

  private deleteLink(ifname: string): void {
    for (const key of MONITOR_KEYS) this.options.table.delete(["interface", ifname, key]);
  }

  /** hw_path is read once per link (ifindex + name); a rename or a new link reads it again. */
  private async hwPath(link: LinkSnapshot): Promise<string> {
    const cached = this.hwPaths.get(link.ifindex);
    if (cached && cached.ifname === link.ifname) return cached.hwPath;
    let hwPath = "";
    try {
      hwPath = hwPathFromSysfsLink(
        await readlink(join(this.options.sysClassNet, link.ifname)),
        link.ifname,
      );
    } catch {
      // Gone again, or no sysfs entry: VintageNet publishes "" as well.
    }
    this.hwPaths.set(link.ifindex, { ifname: link.ifname, hwPath });
    return hwPath;
  }
}
