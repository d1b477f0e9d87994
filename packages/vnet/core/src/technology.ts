import type { CommandRunner } from "@runtime/command";
import type { PropertyTable } from "@runtime/property-table";
import type { Clock } from "./clock.js";
import type { ConnectionStatus, JsonObject, NetworkConfig, TypedConfig } from "./config.js";
import type { ConnectivityTiming } from "./connectivity/check-logic.js";
import type { InternetHost, ProbeFunction } from "./connectivity/probe.js";
import type { Logger } from "./log.js";
import type { EventChannel } from "./notify/event-channel.js";
import type { RawConfig, StepCommand } from "./raw-config.js";

/**
 * Paths and settings a Technology may use while building a recipe. Plain data, never an I/O
 * handle: `toRawConfig` stays a pure function of (ifname, config, context).
 */
export interface TechnologyContext {
  /** Directory for generated files (configs, FIFOs, pid and lease files). Default `/tmp/vnet`. */
  readonly tmpDir: string;
  /** The engine's event relay script: give it to udhcpc `-s` / udhcpd `notify_file`. */
  readonly notifyScriptPath: string;
  /** The resolv.conf the engine owns. */
  readonly resolvConfPath: string;
  /** Default DHCP client hostname (the system hostname unless configured). */
  readonly hostname: string;
  /** ISO 3166-1 country code for radios; `"00"` is the world domain. */
  readonly regulatoryDomain: string;
  /** Free-form options from `VintageNet.start({ technologyOptions })`. */
  readonly options: JsonObject;
}

/** Programs the engine's helpers run, as argv prefixes resolved on the runner's PATH. */
export interface Programs {
  /** Default `["busybox", "udhcpc"]`. */
  readonly udhcpc: readonly string[];
  /** Default `["busybox", "udhcpd"]`. */
  readonly udhcpd: readonly string[];
  /** Default `["mkfifo"]` (coreutils or busybox). */
  readonly mkfifo: readonly string[];
  /** The DHCPv6 client, ISC dhclient. Default `["dhclient"]`. */
  readonly dhclient: readonly string[];
}

/** One subnet of an interface: an address on it and its prefix length. */
export interface Subnet {
  readonly address: string;
  readonly prefix_length: number;
}

/** What the engine knows about an interface's addressing and connectivity. */
export interface InterfaceRouting {
  readonly subnets: readonly Subnet[];
  readonly gateway: string | null;
  readonly connection: ConnectionStatus;
}

/** Routing facts for every interface (`routes.set` / `routes.clear` steps, checkers). */
export interface RoutingControl {
  /** Records addresses and gateway. An unchanged repeat (DHCP renewal) changes nothing. */
  setRoute(ifname: string, subnets: readonly Subnet[], gateway: string | null): void;
  /** Forgets the interface's addressing; its connection becomes `disconnected`. */
  clearRoute(ifname: string): void;
  /** Sets the interface's connection status; `reason` goes to the debug log. */
  setConnection(ifname: string, status: ConnectionStatus, reason: string): void;
  get(ifname: string): InterfaceRouting | undefined;
  /** Resolves once the route owner has applied every change made so far (routes are in place). */
  settled(): Promise<void>;
  /** Called after every change of `ifname`'s routing facts. Returns the unsubscribe function. */
  onChange(ifname: string, listener: (routing: InterfaceRouting | undefined) => void): () => void;
}

/**
 * The per-interface part of the owned resolv.conf. An interface may have several sources (IPv4
 * from DHCP or static addressing, IPv6 from DHCPv6 or static addressing), each set and cleared on
 * its own; `source` defaults to `"ipv4"`. An interface's servers are listed IPv4 source first,
 * then the others by name; its search domain is the first source's that has one.
 */
export interface NameServerControl {
  setup(
    ifname: string,
    domain: string | null,
    nameServers: readonly string[],
    source?: string,
  ): void;
  clear(ifname: string, source?: string): void;
}

/** Settings and evidence for connectivity checkers. */
export interface ConnectivityContext {
  readonly timing: ConnectivityTiming;
  readonly hosts: readonly InternetHost[];
  readonly probe: ProbeFunction;
  /**
   * Monotonic time of the newest successful Internet traffic the application reported for
   * `ifname` (`VintageNet.reportTraffic` / `watchSocket`), or undefined.
   */
  lastTrafficAt(ifname: string): number | undefined;
}

/** A running in-process service. Anything else it exposes is for `ioctl` handlers. */
export interface Service {
  /** Stop everything the service started. Must not throw; bounded by the engine's time limit. */
  stop(): Promise<void> | void;
}

/** What a service factory gets. Calls made after the service was told to stop are ignored. */
export interface ServiceContext {
  readonly ifname: string;
  /** The service id (`ServiceSpec.id`, default its name). */
  readonly id: string;
  readonly table: PropertyTable;
  readonly runner: CommandRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly technology: TechnologyContext;
  readonly programs: Programs;
  /** Where the `<ifname>` directories with `carrier`, `operstate`... live (`/sys/class/net`). */
  readonly sysClassNet: string;
  readonly routing: RoutingControl;
  readonly nameServers: NameServerControl;
  readonly connectivity: ConnectivityContext;
  /** Aborted when the engine stops the service. */
  readonly signal: AbortSignal;
  /**
   * A FIFO (`<tmpDir>/<name>.<ifname>.fifo`) that the notify script writes events into; give
   * its `path` to the program as `VNET_EVENT_FIFO`. Closed automatically when the service stops.
   */
  openEventChannel(name: string): Promise<EventChannel>;
  /** Give up: the engine tears the interface down and configures it again from scratch. */
  fail(reason: string): void;
}

/** Builds a service from its recipe options. Registered by name (core or `Technology.services`). */
export type ServiceFactory = (
  context: ServiceContext,
  options: JsonObject,
) => Service | Promise<Service>;

/** What a named step handler gets. */
export interface StepContext {
  readonly ifname: string;
  readonly table: PropertyTable;
  readonly runner: CommandRunner;
  readonly logger: Logger;
  readonly routing: RoutingControl;
  readonly nameServers: NameServerControl;
  /** Aborted when the command list's time limit passes or the interface is reconfigured. */
  readonly signal: AbortSignal;
}

/** Interprets one named step; throwing fails the command list like a non-zero exit. */
export type StepHandler = (step: StepCommand, context: StepContext) => Promise<void> | void;

/** What an `ioctl` handler gets. */
export interface IoctlContext {
  readonly table: PropertyTable;
  readonly runner: CommandRunner;
  readonly logger: Logger;
  /** Aborted when the interface is reconfigured; the caller then gets a `CANCELLED` error. */
  readonly signal: AbortSignal;
  /** A running service of this interface by id. */
  service<T extends Service = Service>(id: string): T | undefined;
}

/** What `checkSystem` gets: enough to look for the programs a technology needs. */
export interface SystemCheckContext {
  readonly technology: TechnologyContext;
  readonly programs: Programs;
  readonly runner: CommandRunner;
  /** Whether `name` is an executable on the engine's PATH (or an absolute path to one). */
  commandExists(name: string): Promise<boolean>;
}

/**
 * A network technology plugin. `normalize` and `toRawConfig` are pure; everything a technology
 * needs done at run time is described in the returned {@link RawConfig} and executed by the
 * engine's generic per-interface state machine.
 */
export interface Technology<C extends TypedConfig = TypedConfig> {
  /** The `type` string configs use, e.g. `"ethernet"`. */
  readonly type: string;
  /**
   * Validates and canonicalizes a user config: fill in defaults, canonicalize addresses, drop
   * nothing silently. Throws `ValidationError` (`@runtime/errors`) naming the field path, the
   * value and the reason. Must be idempotent: `normalize(normalize(x))` equals `normalize(x)`.
   */
  normalize(config: NetworkConfig): C;
  /** Builds the recipe for a normalized config. Pure. */
  toRawConfig(ifname: string, config: C, context: TechnologyContext): RawConfig;
  /**
   * Technology-specific commands (`scan`, `signal_poll`, ...). Only called while the interface
   * is `configured`. Throw `DeviceError("UNSUPPORTED", ...)` for unknown commands.
   */
  ioctl?(
    ifname: string,
    command: string,
    args: readonly unknown[],
    context: IoctlContext,
  ): Promise<unknown>;
  /** Problems with the system (missing programs, kernel features); `[]` when all is well. */
  checkSystem?(context: SystemCheckContext): Promise<readonly string[]>;
  /** Service factories this technology's recipes refer to, by service name. */
  readonly services?: Readonly<Record<string, ServiceFactory>>;
  /** Handlers for the named steps this technology's recipes use, by step name. */
  readonly steps?: Readonly<Record<string, StepHandler>>;
}
