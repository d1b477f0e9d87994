import type { AddressInfo, ConnectionStatus, JsonObject } from "../config.js";
import { inSubnet, parseAddress } from "../ip/address.js";
import { errorMessage } from "../log.js";
import type { Service, ServiceContext, ServiceFactory, Subnet } from "../technology.js";
import { CheckLogic, type CheckState } from "./check-logic.js";
import { checkInternetHosts, type InternetHost, resolveHost } from "./probe.js";

interface Source {
  readonly address: string;
  readonly family: "inet" | "inet6";
}

/** The interface's subnets: from `routes.set` and from the kernel's universe-scope addresses. */
function ownSubnets(context: ServiceContext): Subnet[] {
  const subnets = [...(context.routing.get(context.ifname)?.subnets ?? [])];
  const addresses =
    context.table.get<AddressInfo[]>(["interface", context.ifname, "addresses"]) ?? [];
  for (const info of addresses) {
    if (info.scope === "universe") {
      subnets.push({ address: info.address, prefix_length: info.prefix_length });
    }
  }
  return subnets;
}

/**
 * The address probes are sent from: the address recorded by DHCP or static addressing, else the
 * kernel's first universe-scope IPv4 address, else IPv6. Undefined while the link has none.
 */
export function sourceAddress(context: ServiceContext): Source | undefined {
  for (const subnet of context.routing.get(context.ifname)?.subnets ?? []) {
    const parsed = parseAddress(subnet.address);
    if (parsed) return parsed;
  }
  const addresses =
    context.table.get<AddressInfo[]>(["interface", context.ifname, "addresses"]) ?? [];
  const usable = addresses.filter((info) => info.scope === "universe");
  const chosen = usable.find((info) => info.family === "inet") ?? usable[0];
  return chosen ? { address: chosen.address, family: chosen.family } : undefined;
}

/** Link has carrier and an address: the condition for `lan`. */
function linkUsable(context: ServiceContext): boolean {
  return (
    context.table.get(["interface", context.ifname, "lower_up"]) === true &&
    sourceAddress(context) !== undefined
  );
}

/** Calls `onChange` whenever carrier, addresses or recorded routing of the interface change. */
function watchLink(context: ServiceContext, onChange: () => void): () => void {
  const unsubscribers = [
    context.table.subscribe(["interface", context.ifname, "lower_up"], onChange),
    context.table.subscribe(["interface", context.ifname, "addresses"], onChange),
    context.routing.onChange(context.ifname, onChange),
  ];
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}

/**
 * The `lan-checker` service, for interfaces without a gateway (access points, direct links):
 * `lan` while the link has carrier and an address, `disconnected` otherwise. Never `internet`.
 */
export const lanCheckerService: ServiceFactory = (context) => {
  let reported: ConnectionStatus | undefined;
  const evaluate = () => {
    if (context.signal.aborted) return;
    const status: ConnectionStatus = linkUsable(context) ? "lan" : "disconnected";
    if (status === reported) return;
    reported = status;
    context.routing.setConnection(context.ifname, status, "lan checker");
  };
  const stopWatching = watchLink(context, evaluate);
  evaluate();
  return { stop: stopWatching };
};

/**
 * The `internet-checker` service: VintageNet's InternetChecker with fast loss detection.
 * - Carrier and an address → `lan` at once, first probe at once; carrier lost → `disconnected`
 *   at once, no probes.
 * - A check succeeds when the application reported Internet traffic on this interface within
 *   `trafficEvidenceMs` (no probe sent: metered links stay quiet while the app talks), or when
 *   a TCP connect from the interface's address to a host of the list completes or is refused.
 * - Hosts on the interface's own subnets are skipped (captive portals answer DNS with local
 *   addresses); a host that fails is dropped until the list is rebuilt.
 * Timing and strikes: {@link CheckLogic} with `context.connectivity.timing`.
 *
 * Options: `hosts` (`[{ host, port }]`) overrides the engine's host list for this interface.
 */
export const internetCheckerService: ServiceFactory = (context, options) => {
  const checker = new InternetChecker(context, options);
  checker.start();
  return checker;
};

class InternetChecker implements Service {
  private readonly logic: CheckLogic;
  private state: CheckState;
  private readonly hosts: readonly InternetHost[];
  private pingList: Array<{ address: string; port: number }> = [];
  private pingListFamily: "inet" | "inet6" | undefined;
  private timer: unknown;
  private generation = 0;
  private checking = false;
  private probeAbort: AbortController | undefined;
  private stopWatching: (() => void) | undefined;

  constructor(
    private readonly context: ServiceContext,
    options: JsonObject,
  ) {
    this.logic = new CheckLogic(context.connectivity.timing);
    this.state = this.logic.init(undefined);
    this.hosts = Array.isArray(options.hosts)
      ? checkInternetHosts(options.hosts as unknown as InternetHost[])
      : context.connectivity.hosts;
  }

  start(): void {
    this.stopWatching = watchLink(this.context, () => this.evaluate());
    this.evaluate();
  }

  stop(): void {
    this.stopWatching?.();
    this.cancel();
  }

  private cancel(): void {
    this.generation++;
    if (this.timer !== undefined) this.context.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.probeAbort?.abort();
    this.probeAbort = undefined;
    this.checking = false;
  }

  private evaluate(): void {
    if (this.context.signal.aborted) return;
    const usable = linkUsable(this.context);
    if (usable && this.state.connectivity === "disconnected") {
      this.transition(this.logic.ifup(this.state), "link up with an address");
    } else if (!usable && this.state.connectivity !== "disconnected") {
      this.cancel();
      this.transition(this.logic.ifdown(this.state), "carrier or address lost");
    }
  }

  private transition(next: CheckState, reason: string): void {
    this.state = next;
    this.context.routing.setConnection(this.context.ifname, next.connectivity, reason);
    this.schedule();
  }

  private schedule(): void {
    if (this.checking) return; // the running check schedules the next one when it ends
    if (this.timer !== undefined) this.context.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (!Number.isFinite(this.state.intervalMs)) return;
    const generation = this.generation;
    this.timer = this.context.clock.setTimeout(() => {
      this.timer = undefined;
      if (generation === this.generation) void this.check(generation);
    }, this.state.intervalMs);
  }

  private async check(generation: number): Promise<void> {
    const { context } = this;
    if (this.state.connectivity === "disconnected" || context.signal.aborted) return;
    this.checking = true;
    let succeeded = false;
    let reason: string;
    const probes = this.logic.probesForNextCheck(this.state);
    try {
      const lastTraffic = context.connectivity.lastTrafficAt(context.ifname);
      if (
        lastTraffic !== undefined &&
        context.clock.now() - lastTraffic <= context.connectivity.timing.trafficEvidenceMs
      ) {
        succeeded = true;
        reason = "application traffic";
      } else {
        ({ succeeded, reason } = await this.probe(probes));
      }
    } catch (error) {
      reason = errorMessage(error);
    }
    if (generation !== this.generation) return;
    this.checking = false;
    const next = succeeded
      ? this.logic.checkSucceeded(this.state)
      : this.logic.checkFailed(this.state, probes);
    this.transition(next, reason);
  }

  /** Sends `count` probes to different hosts in parallel; any answer is a success. */
  private async probe(count: number): Promise<{ succeeded: boolean; reason: string }> {
    const { context } = this;
    // A probe sent before the route owner has installed the routes would fail for nothing.
    await context.routing.settled();
    const source = sourceAddress(context);
    if (!source) return { succeeded: false, reason: "no source address" };
    if (this.pingList.length === 0 || this.pingListFamily !== source.family) {
      await this.rebuildPingList(source.family);
    }
    if (this.pingList.length === 0) return { succeeded: false, reason: "no host to probe" };
    const targets = Array.from(
      { length: count },
      (_, index) => this.pingList[index % this.pingList.length]!,
    );
    this.probeAbort = new AbortController();
    const signal = this.probeAbort.signal;
    const results = await Promise.all(
      targets.map((target) =>
        context.connectivity
          .probe({
            address: target.address,
            port: target.port,
            localAddress: source.address,
            timeoutMs: context.connectivity.timing.probeTimeoutMs,
            signal,
          })
          .then((result) => ({ target, result })),
      ),
    );
    const success = results.find(({ result }) => result.reachable);
    if (success) {
      return {
        succeeded: true,
        reason: `${success.target.address}:${success.target.port} answered`,
      };
    }
    // Failed hosts leave the list; it is rebuilt (hostnames resolved again) once empty.
    const failed = new Set(results.map(({ target }) => target));
    this.pingList = this.pingList.filter((entry) => !failed.has(entry));
    const first = results[0]!;
    return {
      succeeded: false,
      reason: `${first.target.address}:${first.target.port}: ${first.result.reachable ? "" : first.result.reason}`,
    };
  }

  private async rebuildPingList(family: "inet" | "inet6"): Promise<void> {
    const subnets = ownSubnets(this.context);
    const list: Array<{ address: string; port: number }> = [];
    for (const host of this.hosts) {
      for (const address of await resolveHost(host, family)) {
        if (subnets.some((subnet) => inSubnet(address, subnet.address, subnet.prefix_length)))
          continue;
        if (!list.some((entry) => entry.address === address && entry.port === host.port)) {
          list.push({ address, port: host.port });
        }
      }
    }
    this.pingList = list;
    this.pingListFamily = family;
  }
}
