import type { ConnectionStatus } from "../config.js";
import { parseAddress } from "../ip/address.js";
import { errorMessage } from "../log.js";
import type { InterfaceRouting } from "../technology.js";
import { defaultRouteMetric } from "./metric.js";
import type { RouteOwner, RouteOwnerContext } from "./routing.js";

export interface DefaultRouteOwnerOptions {
  /** Metric of an interface's default route; `undefined` = no route. Default VintageNet's. */
  metric?: (ifname: string, connection: ConnectionStatus) => number | undefined;
}

interface DefaultRoute {
  readonly gateway: string;
  readonly family: "inet" | "inet6";
  readonly metric: number;
}

/** The default routes wanted for some routing facts: one per connected interface with a gateway. */
export function desiredDefaultRoutes(
  facts: ReadonlyMap<string, InterfaceRouting>,
  metricOf: (ifname: string, connection: ConnectionStatus) => number | undefined,
): Map<string, DefaultRoute> {
  const candidates: Array<{
    ifname: string;
    gateway: string;
    family: "inet" | "inet6";
    metric: number;
  }> = [];
  for (const [ifname, routing] of facts) {
    const metric = metricOf(ifname, routing.connection);
    const gateway = routing.gateway === null ? undefined : parseAddress(routing.gateway);
    if (metric === undefined || !gateway || routing.subnets.length === 0) continue;
    candidates.push({ ifname, gateway: gateway.address, family: gateway.family, metric });
  }
  candidates.sort((a, b) => a.metric - b.metric || a.ifname.localeCompare(b.ifname));
  // Two routes with one metric would replace each other: later ones move to the next free metric.
  const used = new Set<string>();
  const routes = new Map<string, DefaultRoute>();
  for (const candidate of candidates) {
    let metric = candidate.metric;
    while (used.has(`${candidate.family}/${metric}`)) metric++;
    used.add(`${candidate.family}/${metric}`);
    routes.set(candidate.ifname, { gateway: candidate.gateway, family: candidate.family, metric });
  }
  return routes;
}

/** Interfaces that can carry traffic (an address and not `disconnected`), best first. */
export function availableInterfaces(
  facts: ReadonlyMap<string, InterfaceRouting>,
  metricOf: (ifname: string, connection: ConnectionStatus) => number | undefined,
): string[] {
  return [...facts]
    .flatMap(([ifname, routing]) => {
      const metric = metricOf(ifname, routing.connection);
      return metric === undefined || routing.subnets.length === 0 ? [] : [{ ifname, metric }];
    })
    .sort((a, b) => a.metric - b.metric || a.ifname.localeCompare(b.ifname))
    .map((entry) => entry.ifname);
}

function sameRoute(a: DefaultRoute | undefined, b: DefaultRoute | undefined): boolean {
  return a?.gateway === b?.gateway && a?.metric === b?.metric && a?.family === b?.family;
}

function routeArgv(action: "replace" | "del", ifname: string, route: DefaultRoute): string[] {
  return [
    "ip",
    route.family === "inet" ? "-4" : "-6",
    "route",
    action,
    "default",
    "via",
    route.gateway,
    "dev",
    ifname,
    "metric",
    String(route.metric),
  ];
}

/**
 * Core's route owner: one default route per connected interface with a gateway, in the main
 * table, ordered by metric (Internet before LAN, wired before WiFi before cellular), so a
 * single-uplink device reaches the Internet without `@vnet/route-manager`. No per-interface
 * tables or source rules: replies always follow the best default route.
 *
 * The first time it routes an interface it deletes any default route already on it (a
 * leftover of a crashed run would otherwise point at a stale gateway).
 */
export class DefaultRouteOwner implements RouteOwner {
  readonly name = "default";
  private context: RouteOwnerContext | undefined;
  private readonly facts = new Map<string, InterfaceRouting>();
  private readonly installed = new Map<string, DefaultRoute>();
  private readonly cleaned = new Set<string>();
  private readonly metricOf: (ifname: string, connection: ConnectionStatus) => number | undefined;

  constructor(options: DefaultRouteOwnerOptions = {}) {
    this.metricOf = options.metric ?? defaultRouteMetric;
  }

  start(context: RouteOwnerContext): void {
    this.context = context;
    context.table.put(["available_interfaces"], []);
  }

  async update(ifname: string, routing: InterfaceRouting | undefined): Promise<void> {
    if (routing) this.facts.set(ifname, routing);
    else this.facts.delete(ifname);
    await this.apply();
  }

  async stop(): Promise<void> {
    this.facts.clear();
    await this.apply();
    this.context?.table.delete(["available_interfaces"]);
  }

  /**
   * Make before break: new routes are added before the ones they supersede are deleted, so a
   * metric change (lan → internet) never leaves the device without a default route.
   */
  private async apply(): Promise<void> {
    const context = this.requireContext();
    const desired = desiredDefaultRoutes(this.facts, this.metricOf);
    const previous = new Map(this.installed);
    for (const [ifname, route] of desired) {
      if (sameRoute(route, previous.get(ifname))) continue;
      if (!this.cleaned.has(ifname)) {
        this.cleaned.add(ifname);
        await this.deleteStaleDefaults(ifname, route.family);
      }
      try {
        await context.runner.run(routeArgv("replace", ifname, route), { parentDeathSignal: false });
        this.installed.set(ifname, route);
      } catch (error) {
        context.logger.warn(
          `${ifname}: cannot add default route via ${route.gateway}: ${errorMessage(error)}`,
        );
      }
    }
    for (const [ifname, old] of previous) {
      const current = this.installed.get(ifname);
      if (current !== old && sameRoute(current, desired.get(ifname))) {
        // Superseded by a new route; unless `replace` already overwrote it in place (same key).
        if (current && current.metric === old.metric && current.family === old.family) continue;
      } else if (desired.has(ifname)) {
        continue; // unchanged, or its replacement failed: keep the old route
      }
      await context.runner.run(routeArgv("del", ifname, old), {
        allowFailure: true,
        parentDeathSignal: false,
      });
      if (!desired.has(ifname)) this.installed.delete(ifname);
    }
    context.table.put(["available_interfaces"], availableInterfaces(this.facts, this.metricOf));
  }

  private async deleteStaleDefaults(ifname: string, family: "inet" | "inet6"): Promise<void> {
    const context = this.requireContext();
    for (let attempt = 0; attempt < 8; attempt++) {
      const result = await context.runner.run(
        ["ip", family === "inet" ? "-4" : "-6", "route", "del", "default", "dev", ifname],
        { allowFailure: true, parentDeathSignal: false },
      );
      if (result.exitCode !== 0) return;
    }
  }

  private requireContext(): RouteOwnerContext {
    if (!this.context) throw new Error("DefaultRouteOwner used before start()");
    return this.context;
  }
}
