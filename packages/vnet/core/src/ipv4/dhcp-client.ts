import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { type SupervisedProcess, supervise } from "@runtime/command";
import type { JsonObject } from "../config.js";
import { netmaskToPrefix } from "../ip/address.js";
import { errorMessage } from "../log.js";
import type { EventChannel } from "../notify/event-channel.js";
import type { EventRecord } from "../notify/script.js";
import {
  conditionHolds,
  type PropertyCondition,
  parsePropertyCondition,
} from "../property-condition.js";
import { SerialQueue } from "../serial-queue.js";
import { logOutput } from "../supervision.js";
import type { Service, ServiceContext, ServiceFactory } from "../technology.js";
import { type DhcpOptions, parseDhcpOptions } from "./dhcp-options.js";

/** What a bound lease changes on the system; renewals that change none of it change nothing. */
export interface AppliedLease {
  readonly ip: string;
  readonly prefixLength: number;
  readonly broadcast: string | undefined;
  readonly router: string | null;
  readonly dns: readonly string[];
  readonly domain: string | null;
}

/** The system-relevant part of a `bound`/`renew` event, or undefined when it has no usable IP. */
export function leaseFromOptions(options: DhcpOptions): AppliedLease | undefined {
  if (!options.ip) return undefined;
  const prefixLength =
    options.mask ?? (options.subnet ? netmaskToPrefix(options.subnet) : undefined) ?? 32;
  return {
    ip: options.ip,
    prefixLength,
    broadcast: options.broadcast,
    router: options.router?.[0] ?? null,
    dns: options.dns ?? [],
    domain: options.search ?? options.domain ?? null,
  };
}

function stringList(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === "string")
    : [];
}

/**
 * The `dhcp-client` service: runs `udhcpc -f` only while `["interface", ifname, "lower_up"]` is
 * true (unplugging stops it; plugging in starts a fresh discovery) and applies its events:
 * - `bound` / `renew`: add or replace the address, record the route and name servers; when
 *   nothing that matters changed (a renewal), only `dhcp_options` is updated, so renewals never
 *   bounce addresses or routes;
 * - `deconfig`: flush the interface's IPv4 addresses, forget route and name servers;
 * - `leasefail` / `nak`: forget route and `dhcp_options`.
 * Events arrive through the engine's FIFO relay (no process start per event) and are applied
 * one at a time, in order.
 *
 * Options: `hostname` (sent as option 12), `request_options` (udhcpc `-O`), `run_while` (a
 * {@link PropertyCondition}: udhcpc runs only while it holds too, e.g. an 802.1X port being
 * authorized; when it stops holding, the client stops as on carrier loss).
 */
export const dhcpClientService: ServiceFactory = async (context, options) => {
  const client = new DhcpClient(context, options);
  await client.start();
  return client;
};

class DhcpClient implements Service {
  private channel: EventChannel | undefined;
  private daemon: SupervisedProcess | undefined;
  private applied: AppliedLease | undefined;
  private readonly queue: SerialQueue;
  private unsubscribe: (() => void) | undefined;
  private readonly argv: string[];
  private readonly optionsPath: readonly string[];
  private readonly runWhile: PropertyCondition | undefined;
  private carrierUp = false;

  constructor(
    private readonly context: ServiceContext,
    options: JsonObject,
  ) {
    this.queue = new SerialQueue((error) =>
      context.logger.error(`${context.ifname}: dhcp client: ${errorMessage(error)}`),
    );
    const hostname = typeof options.hostname === "string" ? options.hostname : "";
    this.argv = [
      ...context.programs.udhcpc,
      "-f",
      "-i",
      context.ifname,
      "-s",
      context.technology.notifyScriptPath,
      ...(hostname ? ["-x", `hostname:${hostname}`] : []),
      ...stringList(options.request_options).flatMap((option) => ["-O", option]),
    ];
    this.optionsPath = ["interface", context.ifname, "dhcp_options"];
    this.runWhile = parsePropertyCondition(options.run_while, "dhcp-client option run_while");
  }

  async start(): Promise<void> {
    const { context } = this;
    this.channel = await context.openEventChannel("udhcpc");
    this.channel.onRecord((record) => this.queue.add(() => this.onEvent(record)));
    const lowerUp = ["interface", context.ifname, "lower_up"] as const;
    const unsubscribers = [
      context.table.subscribe(lowerUp, (event) =>
        this.queue.add(() => {
          this.carrierUp = event.value === true;
          return this.update();
        }),
      ),
    ];
    if (this.runWhile) {
      unsubscribers.push(
        context.table.subscribe(this.runWhile.path, () => this.queue.add(() => this.update())),
      );
    }
    this.unsubscribe = () => {
      for (const unsubscribe of unsubscribers) unsubscribe();
    };
    this.queue.add(async () => {
      this.carrierUp = context.table.get(lowerUp) === true || (await this.carrier());
      return this.update();
    });
  }

  /** Resolves once every event received so far has been applied (tests, diagnostics). */
  settled(): Promise<void> {
    return this.queue.settled();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue.add(async () => {
      await this.stopDaemon();
    });
    await this.channel?.close();
    this.context.table.delete(this.optionsPath);
  }

  /** Runs udhcpc while the link has carrier and `run_while` holds; stops it otherwise. */
  private async update(): Promise<void> {
    if (this.context.signal.aborted) return;
    const up = this.carrierUp && conditionHolds(this.context.table, this.runWhile);
    if (up && !this.daemon) {
      const { context } = this;
      this.daemon = supervise(context.runner, this.argv, {
        env: { VNET_EVENT_FIFO: this.channel!.path, VNET_EVENT_SOURCE: "udhcpc" },
        restart: { initialDelayMs: 1_000, maxDelayMs: 30_000 },
      });
      logOutput(this.daemon, `udhcpc(${context.ifname})`, (line) => context.logger.debug(line));
    } else if (!up && this.daemon) {
      await this.stopDaemon();
      // The lease is no longer maintained: no route or name servers through a dead link.
      this.applied = undefined;
      this.context.routing.clearRoute(this.context.ifname);
      this.context.nameServers.clear(this.context.ifname);
      this.context.table.delete(this.optionsPath);
    }
  }

  /** Whether the kernel reports any IPv4 address on the interface (or we applied one). */
  private hasIPv4(): boolean {
    const addresses =
      this.context.table.get<Array<{ family: string }>>([
        "interface",
        this.context.ifname,
        "addresses",
      ]) ?? [];
    return addresses.some((address) => address.family === "inet");
  }

  /**
   * The kernel's carrier flag, read directly: right after the up commands the monitor may not
   * have published `lower_up` yet, and waiting for it would delay the first DISCOVER.
   */
  private async carrier(): Promise<boolean> {
    try {
      return (
        (
          await readFile(join(this.context.sysClassNet, this.context.ifname, "carrier"), "utf8")
        ).trim() === "1"
      );
    } catch {
      return false; // link down (EINVAL) or no sysfs: wait for lower_up
    }
  }

  private async stopDaemon(): Promise<void> {
    const daemon = this.daemon;
    this.daemon = undefined;
    await daemon?.stop();
  }

  private async onEvent(record: EventRecord): Promise<void> {
    const { context } = this;
    if (record.source !== "udhcpc" || context.signal.aborted) return;
    if (record.env.interface !== undefined && record.env.interface !== context.ifname) return;
    const event = record.args[0];
    const ifname = context.ifname;
    switch (event) {
      case "bound":
      case "renew": {
        const options = parseDhcpOptions(record.env);
        context.table.put(this.optionsPath, options);
        const lease = leaseFromOptions(options);
        if (!lease) {
          context.logger.warn(`${ifname}: udhcpc ${event} without a usable address`);
          return;
        }
        if (isDeepStrictEqual(lease, this.applied)) {
          context.logger.debug(`${ifname}: DHCP ${event} with unchanged settings; nothing to do`);
          return;
        }
        await this.applyLease(lease);
        return;
      }
      case "deconfig": {
        const hadLease = this.applied !== undefined;
        context.table.delete(this.optionsPath);
        this.applied = undefined;
        context.routing.clearRoute(ifname);
        context.nameServers.clear(ifname);
        // udhcpc sends deconfig when it starts; with no IPv4 address there is nothing to flush,
        // and skipping the command leaves the CPU to the DHCP exchange.
        if (!hadLease && !this.hasIPv4()) return;
        await context.runner.run(["ip", "-4", "addr", "flush", "dev", ifname, "label", ifname], {
          allowFailure: true,
          signal: context.signal,
          parentDeathSignal: false,
        });
        return;
      }
      case "leasefail":
      case "nak":
        context.table.delete(this.optionsPath);
        if (!this.applied) context.routing.clearRoute(ifname);
        return;
      default:
        context.logger.debug(`${ifname}: ignoring udhcpc event ${JSON.stringify(event)}`);
    }
  }

  private async applyLease(lease: AppliedLease): Promise<void> {
    const { context } = this;
    const ifname = context.ifname;
    const previous = this.applied;
    if (previous && previous.ip !== lease.ip) {
      await context.runner.run(
        ["ip", "-4", "addr", "del", `${previous.ip}/${previous.prefixLength}`, "dev", ifname],
        { allowFailure: true, signal: context.signal, parentDeathSignal: false },
      );
    }
    await context.runner.run(
      [
        "ip",
        "-4",
        "addr",
        "replace",
        `${lease.ip}/${lease.prefixLength}`,
        "dev",
        ifname,
        ...(lease.broadcast ? ["broadcast", lease.broadcast] : []),
        "label",
        ifname,
      ],
      { signal: context.signal, parentDeathSignal: false },
    );
    this.applied = lease;
    context.routing.setRoute(
      ifname,
      [{ address: lease.ip, prefix_length: lease.prefixLength }],
      lease.router,
    );
    context.nameServers.setup(ifname, lease.domain, lease.dns);
    context.logger.info(
      `${ifname}: DHCP lease ${lease.ip}/${lease.prefixLength}${lease.router ? ` via ${lease.router}` : ""}`,
    );
  }
}
