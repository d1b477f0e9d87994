import { isDeepStrictEqual } from "node:util";
import type { CommandRunner } from "@runtime/command";
import type { PropertyTable } from "@runtime/property-table";
import type { ConnectionStatus } from "../config.js";
import { errorMessage, type Logger } from "../log.js";
import type { InterfaceRouting, RoutingControl, Subnet } from "../technology.js";

/** What a route owner gets when the engine starts it. */
export interface RouteOwnerContext {
  readonly table: PropertyTable;
  readonly runner: CommandRunner;
  readonly logger: Logger;
}

/**
 * Whoever owns the kernel's routes. The engine tells it every change of an interface's routing
 * facts (subnets, gateway, connection status), one call at a time, in order; `undefined` means
 * the engine forgot the interface. The owner installs routes and publishes
 * `["available_interfaces"]` (interfaces that can carry traffic, best first).
 *
 * Core ships {@link DefaultRouteOwner} (main-table default routes by metric, enough for a
 * single uplink). `@vnet/route-manager` implements the same interface with per-interface
 * routing tables and source rules; passing it as `routeOwner` moves route ownership to it.
 */
export interface RouteOwner {
  readonly name: string;
  start?(context: RouteOwnerContext): Promise<void> | void;
  update(ifname: string, routing: InterfaceRouting | undefined): Promise<void> | void;
  /** Remove what it installed and its properties. */
  stop?(): Promise<void> | void;
}

const RANK: Record<ConnectionStatus, number> = { disconnected: 0, lan: 1, internet: 2 };

/** The best of several statuses (`disconnected` for none). */
export function bestConnection(statuses: Iterable<ConnectionStatus>): ConnectionStatus {
  let best: ConnectionStatus = "disconnected";
  for (const status of statuses) if (RANK[status] > RANK[best]) best = status;
  return best;
}

function sameSubnets(a: readonly Subnet[], b: readonly Subnet[]): boolean {
  return isDeepStrictEqual(a, b);
}

/**
 * Routing facts of every interface the engine manages. Publishes each interface's
 * `connection` and the global `["connection"]`, and hands every change to the route owner.
 */
export class Routing implements RoutingControl {
  private readonly interfaces = new Map<string, InterfaceRouting>();
  private readonly listeners = new Map<
    string,
    Set<(routing: InterfaceRouting | undefined) => void>
  >();
  /** Interfaces whose newest facts the owner has not seen yet. */
  private readonly pendingOwnerUpdates = new Set<string>();
  private draining: Promise<void> | undefined;

  constructor(
    private readonly table: PropertyTable,
    private readonly owner: RouteOwner,
    private readonly logger: Logger,
  ) {}

  /** Starts tracking an interface: `disconnected`, no addresses. */
  track(ifname: string): void {
    if (this.interfaces.has(ifname)) return;
    this.change(ifname, { subnets: [], gateway: null, connection: "disconnected" }, "tracked");
  }

  /** Stops tracking an interface: its `connection` property goes, the owner forgets it. */
  forget(ifname: string): void {
    if (!this.interfaces.delete(ifname)) return;
    this.queueOwnerUpdate(ifname);
    this.table.delete(["interface", ifname, "connection"]);
    this.publishGlobal();
    this.notify(ifname);
  }

  get(ifname: string): InterfaceRouting | undefined {
    return this.interfaces.get(ifname);
  }

  tracked(): string[] {
    return [...this.interfaces.keys()];
  }

  setRoute(ifname: string, subnets: readonly Subnet[], gateway: string | null): void {
    const current = this.interfaces.get(ifname);
    if (current && sameSubnets(current.subnets, subnets) && current.gateway === gateway) return;
    this.change(
      ifname,
      {
        subnets: subnets.map((subnet) => ({ ...subnet })),
        gateway,
        connection: current?.connection ?? "disconnected",
      },
      `route set: ${subnets.map((subnet) => `${subnet.address}/${subnet.prefix_length}`).join(", ") || "no subnets"} via ${gateway ?? "no gateway"}`,
    );
  }

  clearRoute(ifname: string): void {
    const current = this.interfaces.get(ifname);
    if (
      current &&
      current.subnets.length === 0 &&
      current.gateway === null &&
      current.connection === "disconnected"
    ) {
      return;
    }
    this.change(
      ifname,
      { subnets: [], gateway: null, connection: "disconnected" },
      "route cleared",
    );
  }

  setConnection(ifname: string, status: ConnectionStatus, reason: string): void {
    const current = this.interfaces.get(ifname) ?? {
      subnets: [],
      gateway: null,
      connection: status,
    };
    if (this.interfaces.has(ifname) && current.connection === status) return;
    this.change(ifname, { ...current, connection: status }, `connection ${status}: ${reason}`);
  }

  onChange(ifname: string, listener: (routing: InterfaceRouting | undefined) => void): () => void {
    let set = this.listeners.get(ifname);
    if (!set) {
      set = new Set();
      this.listeners.set(ifname, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Resolves when the route owner has seen every change so far. */
  async settled(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * Listeners may change routing facts from inside `notify` (a checker seeing an address
   * reports `lan` at once), so everything here reads the newest facts, never a captured copy.
   */
  private change(ifname: string, routing: InterfaceRouting, why: string): void {
    this.interfaces.set(ifname, routing);
    this.logger.debug(`${ifname}: ${why}`);
    this.queueOwnerUpdate(ifname);
    this.table.put(["interface", ifname, "connection"], routing.connection);
    this.publishGlobal();
    this.notify(ifname);
  }

  private publishGlobal(): void {
    this.table.put(
      ["connection"],
      bestConnection([...this.interfaces.values()].map((routing) => routing.connection)),
    );
  }

  private notify(ifname: string): void {
    for (const listener of this.listeners.get(ifname) ?? []) {
      try {
        listener(this.interfaces.get(ifname));
      } catch (error) {
        this.logger.error(`${ifname}: routing listener failed: ${errorMessage(error)}`);
      }
    }
  }

  /**
   * One owner call at a time, always with the interface's newest facts (read when the call is
   * made, so changes can never reach the owner out of order); several changes of one interface
   * while the owner is busy collapse into one call.
   */
  private queueOwnerUpdate(ifname: string): void {
    this.pendingOwnerUpdates.add(ifname);
    if (!this.draining) this.draining = this.drainOwnerUpdates();
  }

  private async drainOwnerUpdates(): Promise<void> {
    // Yield first, so `this.draining` is assigned before the loop can finish.
    await Promise.resolve();
    try {
      while (this.pendingOwnerUpdates.size > 0) {
        const name = this.pendingOwnerUpdates.values().next().value as string;
        this.pendingOwnerUpdates.delete(name);
        try {
          await this.owner.update(name, this.interfaces.get(name));
        } catch (error) {
          this.logger.error(
            `${name}: route owner ${this.owner.name} failed: ${errorMessage(error)}`,
          );
        }
      }
    } finally {
      // No await between the last size check and here: nothing can be queued in between.
      this.draining = undefined;
    }
  }
}
