import { type SupervisedProcess, supervise } from "@runtime/command";
import type { AddressInfo, JsonObject } from "../config.js";
import { parseAddress, parseIPv6 } from "../ip/address.js";
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

/**
 * `["interface", ifname, "dhcpv6_options"]`: what dhclient -6 reported for the current lease,
 * typed. Unparsable values are left out.
 */
export interface Dhcpv6Options {
  /** The leased address (IA_NA). */
  ip6_address?: string;
  /** Its prefix length as the client applies it (128 for an IA_NA address). */
  ip6_prefixlen?: number;
  /** A delegated prefix (IA_PD), e.g. `2001:db8:1::/56`, when one was requested and given. */
  ip6_prefix?: string;
  name_servers?: string[];
  /** Search domains, without the trailing dot. */
  domain_search?: string[];
  /** The server's DUID as dhclient prints it. */
  server_id?: string;
  /** Valid lifetime in seconds. */
  max_life?: number;
  /** Preferred lifetime in seconds. */
  preferred_life?: number;
  /** T1 and T2 in seconds. */
  renew?: number;
  rebind?: number;
}

function integer(text: string | undefined): number | undefined {
  return text !== undefined && /^[0-9]{1,10}$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

function ipv6(text: string | undefined): string | undefined {
  if (text === undefined || !parseIPv6(text.trim())) return undefined;
  return parseAddress(text.trim())?.address;
}

/** Parses dhclient -6's script environment (`new_*` variables) into `dhcpv6_options`. */
export function parseDhcpv6Options(env: Readonly<Record<string, string>>): Dhcpv6Options {
  const options: Dhcpv6Options = {};
  const address = ipv6(env.new_ip6_address);
  if (address) options.ip6_address = address;
  const prefixLength = integer(env.new_ip6_prefixlen);
  if (prefixLength !== undefined && prefixLength >= 1 && prefixLength <= 128) {
    options.ip6_prefixlen = prefixLength;
  }
  const prefix = env.new_ip6_prefix?.trim().split("/");
  if (prefix?.length === 2 && ipv6(prefix[0]) && integer(prefix[1]) !== undefined) {
    options.ip6_prefix = `${ipv6(prefix[0])}/${Number(prefix[1])}`;
  }
  const servers = env.new_dhcp6_name_servers?.trim().split(/\s+/).filter(Boolean) ?? [];
  if (servers.length > 0 && servers.every((server) => ipv6(server))) {
    options.name_servers = servers.map((server) => ipv6(server)!);
  }
  const domains =
    env.new_dhcp6_domain_search
      ?.trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((domain) => domain.replace(/\.$/, ""))
      .filter((domain) => /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(domain)) ?? [];
  if (domains.length > 0) options.domain_search = domains;
  if (env.new_dhcp6_server_id?.trim()) options.server_id = env.new_dhcp6_server_id.trim();
  for (const [variable, key] of [
    ["new_max_life", "max_life"],
    ["new_preferred_life", "preferred_life"],
    ["new_renew", "renew"],
    ["new_rebind", "rebind"],
  ] as const) {
    const value = integer(env[variable]);
    if (value !== undefined) options[key] = value;
  }
  return options;
}

/** The resolver source of IPv6 name servers (static or DHCPv6; the ipv6 down commands clear it). */
const NAME_SERVER_SOURCE = "ipv6";

interface AppliedAddress {
  readonly address: string;
  readonly prefixLength: number;
}

/**
 * The `dhcpv6-client` service: runs ISC `dhclient -6` in the foreground while the interface has
 * carrier and a usable link-local address (dhclient must bind to it; a tentative one makes it
 * fail) and `run_while` holds, and applies its events, which reach the engine through the same
 * notify script and FIFO as udhcpc's (dhclient's `-sf`; the FIFO's path goes in with `-e`,
 * because dhclient builds its script's environment itself):
 * - `BOUND6` / `RENEW6` / `REBIND6`: add or refresh the leased address with its lifetimes (so
 *   the kernel drops it by itself if the client dies), replacing an old one; name servers and
 *   search domain (resolver source `ipv6`); `dhcpv6_options` published;
 * - `DEPREF6`: the address is deprecated (preferred lifetime 0);
 * - `EXPIRE6` / `RELEASE6` / `STOP6`: the address, name servers and options go.
 * Carrier loss and `run_while` ceasing to hold stop dhclient and remove what the lease added;
 * on tear-down the ipv6 down commands do that.
 *
 * The DUID is made from the MAC address (`-D LL`), so the server recognizes the device across
 * restarts without keeping a lease file. Default routes come from router advertisements, not
 * from DHCPv6.
 *
 * Options: `config_path`, `lease_file`, `pid_file` (dhclient's `-cf`, `-lf`, `-pf`), `run_while`.
 */
export const dhcpv6ClientService: ServiceFactory = async (context, options) => {
  const client = new Dhcpv6Client(context, options);
  await client.start();
  return client;
};

class Dhcpv6Client implements Service {
  private channel: EventChannel | undefined;
  private daemon: SupervisedProcess | undefined;
  private applied: AppliedAddress | undefined;
  private readonly queue: SerialQueue;
  private unsubscribe: (() => void) | undefined;
  private readonly files: { config: string; lease: string; pid: string };
  private readonly optionsPath: readonly string[];
  private readonly runWhile: PropertyCondition | undefined;

  constructor(
    private readonly context: ServiceContext,
    options: JsonObject,
  ) {
    this.queue = new SerialQueue((error) =>
      context.logger.error(`${context.ifname}: dhcpv6 client: ${errorMessage(error)}`),
    );
    const path = (name: string) => {
      const value = options[name];
      if (typeof value !== "string" || !value.startsWith("/")) {
        throw new TypeError(`dhcpv6-client option ${name} must be an absolute path`);
      }
      return value;
    };
    this.files = {
      config: path("config_path"),
      lease: path("lease_file"),
      pid: path("pid_file"),
    };
    this.optionsPath = ["interface", context.ifname, "dhcpv6_options"];
    this.runWhile = parsePropertyCondition(options.run_while, "dhcpv6-client option run_while");
  }

  async start(): Promise<void> {
    const { context } = this;
    this.channel = await context.openEventChannel("dhclient6");
    this.channel.onRecord((record) => this.queue.add(() => this.onEvent(record)));
    const update = () => this.queue.add(() => this.update());
    const unsubscribers = [
      context.table.subscribe(["interface", context.ifname, "lower_up"], update),
      context.table.subscribe(["interface", context.ifname, "addresses"], update),
      ...(this.runWhile ? [context.table.subscribe(this.runWhile.path, update)] : []),
    ];
    this.unsubscribe = () => {
      for (const unsubscribe of unsubscribers) unsubscribe();
    };
    update();
  }

  /** Resolves once every event received so far has been applied (tests, diagnostics). */
  settled(): Promise<void> {
    return this.queue.settled();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue.add(async () => {
      await this.stopDaemon();
      // Tear-down's down commands flush the address and clear the `ipv6` name servers.
      this.applied = undefined;
      this.context.table.delete(this.optionsPath);
    });
    await this.channel?.close();
  }

  /**
   * dhclient runs its script with an environment of its own making, not ours: the relay's
   * variables go through `-e`.
   */
  private argv(): string[] {
    const { context, files } = this;
    return [
      ...context.programs.dhclient,
      "-6",
      "-d",
      "-D",
      "LL",
      "-sf",
      context.technology.notifyScriptPath,
      "-e",
      `VNET_EVENT_FIFO=${this.channel!.path}`,
      "-e",
      "VNET_EVENT_SOURCE=dhclient6",
      "-cf",
      files.config,
      "-lf",
      files.lease,
      "-pf",
      files.pid,
      context.ifname,
    ];
  }

  /** Carrier, a usable (non-tentative) link-local address, and `run_while`. */
  private wanted(): boolean {
    const { table, ifname } = this.context;
    const addresses = table.get<AddressInfo[]>(["interface", ifname, "addresses"]) ?? [];
    return (
      table.get(["interface", ifname, "lower_up"]) === true &&
      addresses.some((info) => info.family === "inet6" && info.scope === "link") &&
      conditionHolds(table, this.runWhile)
    );
  }

  private async update(): Promise<void> {
    if (this.context.signal.aborted) return;
    const wanted = this.wanted();
    if (wanted && !this.daemon) {
      const { context } = this;
      this.daemon = supervise(context.runner, this.argv(), {
        restart: { initialDelayMs: 1_000, maxDelayMs: 30_000 },
      });
      logOutput(this.daemon, `dhclient6(${context.ifname})`, (line) => context.logger.debug(line));
    } else if (!wanted && this.daemon) {
      await this.stopDaemon();
      await this.forgetLease();
    }
  }

  private async stopDaemon(): Promise<void> {
    const daemon = this.daemon;
    this.daemon = undefined;
    await daemon?.stop();
  }

  /** Removes the applied address, name servers and options. */
  private async forgetLease(): Promise<void> {
    const { context } = this;
    context.nameServers.clear(context.ifname, NAME_SERVER_SOURCE);
    context.table.delete(this.optionsPath);
    const applied = this.applied;
    this.applied = undefined;
    if (applied) await this.deleteAddress(applied);
  }

  private async deleteAddress(applied: AppliedAddress): Promise<void> {
    const { context } = this;
    await context.runner.run(
      [
        "ip",
        "-6",
        "addr",
        "del",
        `${applied.address}/${applied.prefixLength}`,
        "dev",
        context.ifname,
      ],
      { allowFailure: true, signal: context.signal, parentDeathSignal: false },
    );
  }

  private async onEvent(record: EventRecord): Promise<void> {
    const { context } = this;
    if (record.source !== "dhclient6" || context.signal.aborted) return;
    if (record.env.interface !== undefined && record.env.interface !== context.ifname) return;
    const ifname = context.ifname;
    const reason = record.env.reason;
    switch (reason) {
      case "BOUND6":
      case "RENEW6":
      case "REBIND6": {
        const options = parseDhcpv6Options(record.env);
        context.table.put(this.optionsPath, options);
        context.nameServers.setup(
          ifname,
          options.domain_search?.[0] ?? null,
          options.name_servers ?? [],
          NAME_SERVER_SOURCE,
        );
        if (!options.ip6_address) return; // stateless: options only
        const lease = { address: options.ip6_address, prefixLength: options.ip6_prefixlen ?? 128 };
        const previous = this.applied;
        if (
          previous &&
          (previous.address !== lease.address || previous.prefixLength !== lease.prefixLength)
        ) {
          await this.deleteAddress(previous);
        }
        // Renewals must refresh the lifetimes, so the address is always (re)written.
        await context.runner.run(
          [
            "ip",
            "-6",
            "addr",
            "replace",
            `${lease.address}/${lease.prefixLength}`,
            "dev",
            ifname,
            ...(options.max_life !== undefined ? ["valid_lft", String(options.max_life)] : []),
            ...(options.preferred_life !== undefined
              ? ["preferred_lft", String(options.preferred_life)]
              : []),
          ],
          { signal: context.signal, parentDeathSignal: false },
        );
        this.applied = lease;
        if (reason === "BOUND6") {
          context.logger.info(`${ifname}: DHCPv6 lease ${lease.address}/${lease.prefixLength}`);
        }
        return;
      }
      case "DEPREF6":
        if (!this.applied) return;
        await context.runner.run(
          [
            "ip",
            "-6",
            "addr",
            "change",
            `${this.applied.address}/${this.applied.prefixLength}`,
            "dev",
            ifname,
            "preferred_lft",
            "0",
          ],
          { allowFailure: true, signal: context.signal, parentDeathSignal: false },
        );
        return;
      case "EXPIRE6":
      case "RELEASE6":
      case "STOP6":
        await this.forgetLease();
        return;
      default:
        context.logger.debug(`${ifname}: ignoring dhclient event ${JSON.stringify(reason)}`);
    }
  }
}
