import { access, constants, lstat, mkdir, readdir, rm } from "node:fs/promises";
import type { Socket } from "node:net";
import { hostname as systemHostname } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { writeFileAtomic } from "@runtime/atomic-file";
import { type CommandRunner, createCommandRunner, DEFAULT_PATH } from "@runtime/command";
import { DeviceError, ValidationError } from "@runtime/errors";
import {
  ANY,
  type Pattern,
  type PropertyListener,
  type PropertyPath,
  PropertyTable,
} from "@runtime/property-table";
import { type Clock, systemClock } from "../clock.js";
import type {
  AddressInfo,
  ConnectionStatus,
  JsonObject,
  KnownConfig,
  NameServerInfo,
  NetworkConfig,
} from "../config.js";
import { type ConnectivityTiming, resolveConnectivityTiming } from "../connectivity/check-logic.js";
import { internetCheckerService, lanCheckerService } from "../connectivity/checkers.js";
import {
  checkInternetHosts,
  DEFAULT_INTERNET_HOSTS,
  type InternetHost,
  type ProbeFunction,
  tcpProbe,
} from "../connectivity/probe.js";
import { NameResolver } from "../dns/name-resolver.js";
import { inSubnet, parseAddress } from "../ip/address.js";
import { dhcpClientService } from "../ipv4/dhcp-client.js";
import { dhcpServerService } from "../ipv4/dhcp-server.js";
import { dhcpv6ClientService } from "../ipv6/dhcpv6-client.js";
import { consoleLogger, describeConfig, errorMessage, type Logger, redactConfig } from "../log.js";
import { InterfaceRunner, type RunnerDependencies } from "../machine/interface-runner.js";
import { BUILT_IN_STEPS } from "../machine/steps.js";
import { InterfacesMonitor } from "../monitor/interfaces-monitor.js";
import { notifyScript } from "../notify/script.js";
import {
  flatFilePersistence,
  type Persistence,
  PersistenceError,
} from "../persistence/persistence.js";
import type { RawConfig } from "../raw-config.js";
import { DefaultRouteOwner } from "../routes/default-route-owner.js";
import { type RouteOwner, Routing } from "../routes/routing.js";
import { nullConfig, nullTechnology } from "../technologies/null.js";
import { checkIfname, TechnologyRegistry } from "../technologies/registry.js";
import type {
  ConnectivityContext,
  Programs,
  ServiceFactory,
  StepHandler,
  Technology,
  TechnologyContext,
} from "../technology.js";
import { formatInfo, type InfoData, type InterfaceInfo } from "./info.js";

export const DEFAULT_TMP_DIR = "/tmp/vnet";
export const DEFAULT_RESOLV_CONF = "/etc/resolv.conf";
export const DEFAULT_SYS_CLASS_NET = "/sys/class/net";
export const DEFAULT_PROGRAMS: Programs = Object.freeze({
  udhcpc: Object.freeze(["busybox", "udhcpc"]),
  udhcpd: Object.freeze(["busybox", "udhcpd"]),
  mkfifo: Object.freeze(["mkfifo"]),
  dhclient: Object.freeze(["dhclient"]),
});

export interface VintageNetOptions {
  /** The shared state bus. Default: a new table (read it with `vnet.get`/`match`/`subscribe`). */
  table?: PropertyTable;
  /** Installed technologies; `null` is always there. */
  technologies?: readonly Technology[];
  /** Configuration per interface when nothing was saved (or the saved one is unusable). */
  defaultConfig?: Readonly<Record<string, KnownConfig | NetworkConfig>>;
  /** Default: encrypted flat files in `/root/vnet` (see `flatFilePersistence`). `null`: none. */
  persistence?: Persistence | null;
  /** Runs every command. Default: `createCommandRunner({ path })`. */
  runner?: CommandRunner;
  /** PATH for the default runner and for `checkSystem`. Default `@runtime/command`'s. */
  path?: string;
  logger?: Logger;
  clock?: Clock;
  /** Generated files, FIFOs, the notify script. Default `/tmp/vnet`. */
  tmpDir?: string;
  /** The resolv.conf to own. Default `/etc/resolv.conf`; `null` writes none. */
  resolvConfPath?: string | null;
  /** Default `/sys/class/net`. */
  sysClassNet?: string;
  /** Track kernel links with `ip monitor`. Default true; `false` leaves `present` etc. to you. */
  monitorInterfaces?: boolean;
  /** Name servers always listed first in resolv.conf. */
  additionalNameServers?: readonly string[];
  /** TCP "ping" targets. Default: public DNS resolvers on port 53. */
  internetHosts?: readonly InternetHost[];
  /** Connectivity timing; see `DEFAULT_CONNECTIVITY_TIMING`. */
  connectivity?: Partial<ConnectivityTiming>;
  /** The connectivity probe. Default a TCP connect (`tcpProbe`). */
  probe?: ProbeFunction;
  /** Who installs routes. Default `new DefaultRouteOwner()`; pass `@vnet/route-manager`'s. */
  routeOwner?: RouteOwner;
  /** DHCP client hostname. Default the system hostname. */
  hostname?: string;
  /** Radio country code for technologies. Default `"00"`. */
  regulatoryDomain?: string;
  /** Free-form options every technology sees in `context.options`. */
  technologyOptions?: JsonObject;
  /** Programs the helpers run. */
  programs?: Partial<Programs>;
  /** Extra service factories (by name) on top of core's and the technologies'. */
  services?: Readonly<Record<string, ServiceFactory>>;
  /** Upper bound for a service's `stop()`. Default 5 000 ms. */
  serviceStopMillis?: number;
}

export interface ConfigureOptions {
  /** Save so it survives a reboot. Default true. */
  persist?: boolean;
}

export interface InfoOptions {
  /** Replace secrets (`psk`, `password`, keys) with `****`. Default true. */
  redact?: boolean;
}

/** Evidence of working Internet traffic the application saw. */
export interface TrafficReport {
  /** The interface, or... */
  ifname?: string;
  /** ...the local address the traffic used (found among interfaces' addresses). */
  localAddress?: string;
  /** The peer; traffic with a peer on the interface's own subnet proves nothing and is ignored. */
  remoteAddress?: string;
}

/**
 * The network configuration engine. Start one per device with {@link VintageNet.start}.
 */
export class VintageNet {
  /** The table everything is published in. */
  readonly table: PropertyTable;
  private readonly registry: TechnologyRegistry;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly runner: CommandRunner;
  private readonly persistence: Persistence | null;
  private readonly routing: Routing;
  private readonly routeOwner: RouteOwner;
  private readonly nameResolver: NameResolver;
  private readonly monitor: InterfacesMonitor | undefined;
  private readonly technologyContext: TechnologyContext;
  private readonly dependencies: RunnerDependencies;
  private readonly runners = new Map<string, InterfaceRunner>();
  /** The newest requested normalized config per interface (unredacted). */
  private readonly desired = new Map<string, NetworkConfig>();
  /** What we know is saved per interface (to save only what differs). */
  private readonly saved = new Map<string, NetworkConfig>();
  private readonly defaults = new Map<string, NetworkConfig>();
  private readonly serials = new Map<string, Promise<unknown>>();
  private readonly traffic = new Map<string, number>();
  private readonly persistenceProblems: InfoData["persistenceProblems"] = [];
  private readonly searchPath: string;
  private unsubscribePresence: (() => void) | undefined;
  private stopping: Promise<void> | undefined;

  /** Starts the engine: interface monitor, name resolver, route owner, then every interface. */
  static async start(options: VintageNetOptions = {}): Promise<VintageNet> {
    const engine = new VintageNet(options);
    try {
      await engine.init(options);
    } catch (error) {
      await engine.stop().catch(() => {});
      throw error;
    }
    return engine;
  }

  private constructor(options: VintageNetOptions) {
    this.table = options.table ?? new PropertyTable();
    this.logger = options.logger ?? consoleLogger;
    this.clock = options.clock ?? systemClock;
    this.searchPath = options.path ?? DEFAULT_PATH;
    this.runner = options.runner ?? createCommandRunner({ path: this.searchPath });
    this.registry = new TechnologyRegistry(options.technologies ?? []);
    this.persistence =
      options.persistence === undefined ? flatFilePersistence() : options.persistence;
    const tmpDir = options.tmpDir ?? DEFAULT_TMP_DIR;
    const timing = resolveConnectivityTiming(options.connectivity);
    const hosts = checkInternetHosts(options.internetHosts ?? DEFAULT_INTERNET_HOSTS);
    const programs: Programs = { ...DEFAULT_PROGRAMS, ...options.programs };
    this.technologyContext = Object.freeze({
      tmpDir,
      notifyScriptPath: join(tmpDir, "notify.sh"),
      resolvConfPath: options.resolvConfPath ?? DEFAULT_RESOLV_CONF,
      hostname: options.hostname ?? systemHostname(),
      regulatoryDomain: options.regulatoryDomain ?? "00",
      options: options.technologyOptions ?? {},
    });
    this.routeOwner = options.routeOwner ?? new DefaultRouteOwner();
    this.routing = new Routing(this.table, this.routeOwner, this.logger);
    this.nameResolver = new NameResolver({
      table: this.table,
      logger: this.logger,
      resolvConfPath:
        options.resolvConfPath === undefined ? DEFAULT_RESOLV_CONF : options.resolvConfPath,
      globalNameServers: options.additionalNameServers ?? [],
    });
    if (options.monitorInterfaces ?? true) {
      this.monitor = new InterfacesMonitor({
        table: this.table,
        runner: this.runner,
        logger: this.logger,
        clock: this.clock,
        sysClassNet: options.sysClassNet ?? DEFAULT_SYS_CLASS_NET,
      });
    }
    const services = new Map<string, ServiceFactory>([
      ["dhcp-client", dhcpClientService],
      ["dhcp-server", dhcpServerService],
      ["dhcpv6-client", dhcpv6ClientService],
      ["internet-checker", internetCheckerService],
      ["lan-checker", lanCheckerService],
    ]);
    const steps = new Map<string, StepHandler>(Object.entries(BUILT_IN_STEPS));
    for (const technology of this.registry.all()) {
      for (const [name, factory] of Object.entries(technology.services ?? {})) {
        if (services.has(name)) {
          throw new TypeError(`technology "${technology.type}" registers service "${name}" twice`);
        }
        services.set(name, factory);
      }
      for (const [name, handler] of Object.entries(technology.steps ?? {})) {
        if (steps.has(name)) {
          throw new TypeError(`technology "${technology.type}" registers step "${name}" twice`);
        }
        steps.set(name, handler);
      }
    }
    for (const [name, factory] of Object.entries(options.services ?? {})) {
      if (services.has(name)) throw new TypeError(`service "${name}" is registered twice`);
      services.set(name, factory);
    }
    const connectivity: ConnectivityContext = {
      timing,
      hosts,
      probe: options.probe ?? tcpProbe,
      lastTrafficAt: (ifname) => this.traffic.get(ifname),
    };
    this.dependencies = {
      table: this.table,
      runner: this.runner,
      clock: this.clock,
      logger: this.logger,
      routing: this.routing,
      nameServers: this.nameResolver,
      technologyContext: this.technologyContext,
      programs,
      sysClassNet: options.sysClassNet ?? DEFAULT_SYS_CLASS_NET,
      connectivity,
      steps,
      services,
      technology: (type) => this.registry.get(type),
      serviceStopMillis: options.serviceStopMillis ?? 5_000,
    };
  }

  private async init(options: VintageNetOptions): Promise<void> {
    const { tmpDir, notifyScriptPath } = this.technologyContext;
    await mkdir(tmpDir, { recursive: true, mode: 0o755 });
    await writeFileAtomic(notifyScriptPath, notifyScript(), { mode: 0o755 });
    await this.nameResolver.start();
    await this.routeOwner.start?.({ table: this.table, runner: this.runner, logger: this.logger });
    this.unsubscribePresence = this.table.subscribe(["interface", ANY, "present"], (event) => {
      const ifname = event.property[1]!;
      const present = event.value === true;
      for (const runner of this.runners.values()) runner.presence(ifname, present);
    });
    await this.monitor?.start();

    const initial = new Map<string, NetworkConfig>();
    for (const [ifname, config] of Object.entries(options.defaultConfig ?? {})) {
      try {
        checkIfname(ifname);
      } catch (error) {
        this.logger.warn(`ignoring default configuration: ${errorMessage(error)}`);
        continue;
      }
      this.defaults.set(ifname, config as NetworkConfig);
      initial.set(ifname, this.normalizeAtStart(ifname, config, "default configuration"));
    }
    for (const [ifname, config] of await this.loadSaved()) {
      const normalized = this.tryNormalize(ifname, config);
      if (normalized) initial.set(ifname, normalized);
      else this.saved.delete(ifname);
    }
    for (const [ifname, config] of [...initial].sort(([a], [b]) => a.localeCompare(b))) {
      const raw = this.rawConfigAtStart(ifname, config);
      this.desired.set(ifname, raw.sourceConfig as NetworkConfig);
      this.table.put(["interface", ifname, "config"], redactConfig(raw.sourceConfig));
      this.runnerFor(ifname).configure(raw);
    }
  }

  /** Normalizes a start-up config; a bad one becomes `null` with the reason. */
  private normalizeAtStart(ifname: string, config: unknown, what: string): NetworkConfig {
    try {
      const normalized = this.registry.normalize(config);
      this.registry.toRawConfig(ifname, normalized, this.technologyContext);
      return normalized.config;
    } catch (error) {
      const reason = `${what} of ${ifname} is invalid (${errorMessage(error)}): ${describeConfig(config)}`;
      this.logger.error(reason);
      return nullConfig(reason);
    }
  }

  private tryNormalize(ifname: string, config: unknown): NetworkConfig | undefined {
    try {
      const normalized = this.registry.normalize(config);
      this.registry.toRawConfig(ifname, normalized, this.technologyContext);
      return normalized.config;
    } catch (error) {
      this.reportPersistenceProblem(ifname, "INVALID_CONFIG", errorMessage(error));
      return undefined;
    }
  }

  private rawConfigAtStart(ifname: string, config: NetworkConfig): RawConfig {
    return this.registry.toRawConfig(
      ifname,
      this.registry.normalize(config),
      this.technologyContext,
    );
  }

  private reportPersistenceProblem(ifname: string, code: string, message: string): void {
    this.persistenceProblems.push({ ifname, code, message });
    this.logger.warn(`ignoring saved configuration of ${ifname}: ${code}: ${message}`);
  }

  /** Saved configurations; unusable ones are reported and skipped, never fatal. */
  private async loadSaved(): Promise<Map<string, NetworkConfig>> {
    const loaded = new Map<string, NetworkConfig>();
    if (!this.persistence) return loaded;
    let ifnames: string[];
    try {
      ifnames = await this.persistence.enumerate();
    } catch (error) {
      this.reportPersistenceProblem(
        "*",
        error instanceof DeviceError ? error.code : "UNREADABLE",
        errorMessage(error),
      );
      return loaded;
    }
    for (const ifname of ifnames) {
      try {
        checkIfname(ifname);
        const config = await this.persistence.load(ifname);
        loaded.set(ifname, config);
        this.saved.set(ifname, config);
      } catch (error) {
        if (error instanceof PersistenceError && error.code === "NOT_FOUND") continue;
        const code = error instanceof DeviceError ? error.code : "UNREADABLE";
        this.reportPersistenceProblem(ifname, code, errorMessage(error));
      }
    }
    return loaded;
  }

  private runnerFor(ifname: string): InterfaceRunner {
    let runner = this.runners.get(ifname);
    if (!runner) {
      this.routing.track(ifname);
      const present = this.table
        .match(["interface", ANY, "present"])
        .filter(([, value]) => value === true)
        .map(([path]) => path[1]!);
      runner = new InterfaceRunner(
        ifname,
        nullTechnology.toRawConfig(ifname, nullConfig(""), this.technologyContext),
        present,
        this.dependencies,
      );
      this.runners.set(ifname, runner);
    }
    return runner;
  }

  /** Runs `task` after every earlier task for `ifname` (configure calls never interleave). */
  private serialized<T>(ifname: string, task: () => Promise<T>): Promise<T> {
    const previous = this.serials.get(ifname) ?? Promise.resolve();
    const result = previous.then(task, task);
    const settled = result.catch(() => {});
    this.serials.set(ifname, settled);
    void settled.then(() => {
      if (this.serials.get(ifname) === settled) this.serials.delete(ifname);
    });
    return result;
  }

  private checkRunning(): void {
    if (this.stopping) throw new DeviceError("STOPPED", "the network engine has been stopped");
  }

  /**
   * Validates, saves (unless `persist: false`), publishes and applies a configuration. Resolves
   * once the interface's state machine has it (the state is then `reconfiguring`, `configuring`
   * or `retrying`); use {@link waitUntilConfigured} to wait for `configured`. Bad input rejects
   * with a `ValidationError` (code `INVALID_CONFIG`, `path`, `value`, `reason`) and changes
   * nothing. The same normalized configuration again is a no-op: nothing is torn down.
   */
  async configure(
    ifname: string,
    config: KnownConfig | NetworkConfig,
    options: ConfigureOptions = {},
  ): Promise<void> {
    this.checkRunning();
    checkIfname(ifname);
    if (options !== undefined && (typeof options !== "object" || options === null)) {
      throw new ValidationError({ path: "options", value: options, reason: "must be an object" });
    }
    if (options.persist !== undefined && typeof options.persist !== "boolean") {
      throw new ValidationError({
        path: "options.persist",
        value: options.persist,
        reason: "must be a boolean",
      });
    }
    const normalized = this.registry.normalize(config);
    const raw = this.registry.toRawConfig(ifname, normalized, this.technologyContext);
    const source = raw.sourceConfig as NetworkConfig;
    const persist = options.persist ?? true;
    await this.serialized(ifname, async () => {
      if (this.stopping) throw new DeviceError("STOPPED", "the network engine has been stopped");
      const configChanged = !isDeepStrictEqual(this.desired.get(ifname), source);
      if (persist) await this.save(ifname, source);
      if (!configChanged) {
        this.logger.debug(`${ifname}: configuration unchanged; nothing to do`);
        return;
      }
      if (this.stopping) return;
      this.logger.info(`${ifname}: configure ${describeConfig(source)}`);
      this.desired.set(ifname, source);
      this.table.put(["interface", ifname, "config"], redactConfig(raw.sourceConfig));
      this.runnerFor(ifname).configure(raw);
    });
  }

  /** Saves unless already saved; errors are logged, never thrown (a read-only disk must not block networking). */
  private async save(ifname: string, config: NetworkConfig): Promise<void> {
    if (!this.persistence || isDeepStrictEqual(this.saved.get(ifname), config)) return;
    try {
      await this.persistence.save(ifname, config);
      this.saved.set(ifname, config);
    } catch (error) {
      this.logger.error(`${ifname}: cannot save configuration: ${errorMessage(error)}`);
    }
  }

  /** Applies the `null` configuration (`reason: "Interface deconfigured"`). */
  deconfigure(ifname: string, options: ConfigureOptions = {}): Promise<void> {
    return this.configure(ifname, { type: "null", reason: "Interface deconfigured" }, options);
  }

  /**
   * Applies the default configuration (or `null`) without saving it, then deletes the saved
   * one, so later changes of the default apply after a reboot.
   */
  async resetToDefaults(ifname: string): Promise<void> {
    checkIfname(ifname);
    const config = this.defaults.get(ifname) ?? nullConfig("No default configuration");
    await this.configure(ifname, config, { persist: false });
    await this.serialized(ifname, async () => {
      try {
        await this.persistence?.clear(ifname);
        this.saved.delete(ifname);
      } catch (error) {
        this.logger.error(
          `${ifname}: cannot delete the saved configuration: ${errorMessage(error)}`,
        );
      }
    });
  }

  /** The normalized configuration last requested for `ifname` (unredacted copy). */
  getConfiguration(ifname: string): NetworkConfig {
    const config = this.desired.get(ifname);
    if (!config) {
      throw new DeviceError("NO_CONFIGURATION", `${ifname} has no configuration`);
    }
    return structuredClone(config);
  }

  /** Whether `config` would be accepted for `ifname` (normalize and build the recipe only). */
  configurationValid(ifname: string, config: unknown): boolean {
    try {
      checkIfname(ifname);
      this.registry.toRawConfig(ifname, this.registry.normalize(config), this.technologyContext);
      return true;
    } catch {
      return false;
    }
  }

  /** Interfaces with a configuration other than `null`, sorted. */
  configuredInterfaces(): string[] {
    return this.table
      .match(["interface", ANY, "type"])
      .filter(([path, value]) => path.length === 3 && value !== "null")
      .map(([path]) => path[1]!)
      .sort();
  }

  /** Every interface the kernel reports (including `lo`), sorted. */
  allInterfaces(): string[] {
    return this.table
      .match(["interface", ANY, "present"])
      .filter(([path, value]) => path.length === 3 && value === true)
      .map(([path]) => path[1]!)
      .sort();
  }

  get<V = unknown>(property: PropertyPath, defaultValue?: V): V | undefined {
    return this.table.get<V>(property, defaultValue as V);
  }

  /** Properties matching `pattern`, sorted by path. */
  match(pattern: Pattern): Array<[PropertyPath, unknown]> {
    return this.table
      .match(pattern)
      .sort(([a], [b]) =>
        a.join("\u0000") < b.join("\u0000") ? -1 : a.join("\u0000") > b.join("\u0000") ? 1 : 0,
      );
  }

  /** Subscribes to property changes (see `@runtime/property-table`); returns the unsubscribe. */
  subscribe(pattern: Pattern, listener: PropertyListener): () => void {
    return this.table.subscribe(pattern, listener);
  }

  /** Runs a technology-specific command (`scan`, ...) on a configured interface. */
  async ioctl(ifname: string, command: string, args: readonly unknown[] = []): Promise<unknown> {
    this.checkRunning();
    const runner = this.runners.get(ifname);
    if (!runner) throw new DeviceError("UNCONFIGURED", `${ifname} has no configuration`);
    return runner.ioctl(command, args);
  }

  /** Asks the technology to scan (WiFi); results appear as properties. */
  scan(ifname: string): Promise<unknown> {
    return this.ioctl(ifname, "scan");
  }

  /**
   * Resolves when `ifname`'s state is `configured` (at once if it is). Rejects with a
   * `DeviceError` code `TIMEOUT` after `timeoutMs` (default 10 000), or `STOPPED`.
   */
  waitUntilConfigured(ifname: string, timeoutMs = 10_000): Promise<void> {
    const property = ["interface", ifname, "state"] as const;
    const isConfigured = () =>
      this.runners.get(ifname)?.phase === "configured" && this.table.get(property) === "configured";
    if (isConfigured()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        unsubscribe();
        this.clock.clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const unsubscribe = this.table.subscribe(property, () => {
        if (isConfigured()) finish();
        else if (this.stopping && !this.table.has(property)) {
          finish(new DeviceError("STOPPED", "the network engine has been stopped"));
        }
      });
      const timer = this.clock.setTimeout(() => {
        finish(
          new DeviceError(
            "TIMEOUT",
            `${ifname} not configured within ${timeoutMs} ms (state: ${String(this.table.get(property) ?? "none")})`,
          ),
        );
      }, timeoutMs);
    });
  }

  /**
   * Tells the connectivity checker that the application just exchanged data with a host on
   * the Internet through an interface: the next check counts as successful without a probe.
   */
  reportTraffic(report: TrafficReport): void {
    const ifname =
      report.ifname ??
      (report.localAddress ? this.ifnameOfAddress(report.localAddress) : undefined);
    if (!ifname) return;
    if (report.remoteAddress && this.onOwnSubnet(ifname, report.remoteAddress)) return;
    this.traffic.set(ifname, this.clock.now());
  }

  /**
   * Reports every chunk `socket` receives as Internet traffic ({@link reportTraffic}), until it
   * closes. Returns the function that stops watching. Give it your long-lived connections
   * (cloud websocket, MQTT) and checks stop probing while they are busy.
   */
  watchSocket(socket: Socket): () => void {
    const onData = () =>
      this.reportTraffic({
        ...(socket.localAddress ? { localAddress: socket.localAddress } : {}),
        ...(socket.remoteAddress ? { remoteAddress: socket.remoteAddress } : {}),
      });
    socket.on("data", onData);
    const stop = () => {
      socket.off("data", onData);
      socket.off("close", stop);
    };
    socket.on("close", stop);
    return stop;
  }

  private ifnameOfAddress(address: string): string | undefined {
    const canonical = parseAddress(address.replace(/^::ffff:/i, ""))?.address;
    if (!canonical) return undefined;
    for (const [path, value] of this.table.match(["interface", ANY, "addresses"])) {
      if ((value as AddressInfo[]).some((info) => info.address === canonical)) return path[1];
    }
    for (const ifname of this.routing.tracked()) {
      if (this.routing.get(ifname)?.subnets.some((subnet) => subnet.address === canonical))
        return ifname;
    }
    return undefined;
  }

  private onOwnSubnet(ifname: string, address: string): boolean {
    const canonical = parseAddress(address.replace(/^::ffff:/i, ""))?.address;
    if (!canonical) return false;
    const addresses = this.table.get<AddressInfo[]>(["interface", ifname, "addresses"]) ?? [];
    const subnets = [
      ...(this.routing.get(ifname)?.subnets ?? []),
      ...addresses.filter((info) => info.scope === "universe"),
    ];
    return subnets.some((subnet) => inSubnet(canonical, subnet.address, subnet.prefix_length));
  }

  /** Problems each configured interface's technology finds with the system (missing programs...). */
  async verifySystem(): Promise<
    Array<{ ifname: string; type: string; problems: readonly string[] }>
  > {
    const results: Array<{ ifname: string; type: string; problems: readonly string[] }> = [];
    for (const ifname of this.configuredInterfaces()) {
      const type = this.desired.get(ifname)?.type ?? "null";
      const technology = this.registry.get(type);
      if (!technology?.checkSystem) continue;
      try {
        const problems = await technology.checkSystem({
          technology: this.technologyContext,
          programs: this.dependencies.programs,
          runner: this.runner,
          commandExists: (name) => this.commandExists(name),
        });
        results.push({ ifname, type, problems });
      } catch (error) {
        results.push({ ifname, type, problems: [`checkSystem failed: ${errorMessage(error)}`] });
      }
    }
    return results;
  }

  private async commandExists(name: string): Promise<boolean> {
    const candidates = name.includes("/")
      ? [name]
      : this.searchPath
          .split(":")
          .filter(Boolean)
          .map((dir) => join(dir, name));
    for (const candidate of candidates) {
      try {
        await access(candidate, constants.X_OK);
        return true;
      } catch {
        // try the next directory
      }
    }
    return false;
  }

  /** Everything `info()` shows, as data. */
  infoData(options: InfoOptions = {}): InfoData {
    const redact = options.redact ?? true;
    const now = this.clock.now();
    const since = (path: PropertyPath) => {
      const entry = this.table.fetchWithTimestamp(path);
      return entry ? now - entry.timestamp : undefined;
    };
    const interfaces: InterfaceInfo[] = [...this.runners.keys()].sort().map((ifname) => {
      const runner = this.runners.get(ifname)!;
      const status = runner.status();
      const config = this.desired.get(ifname);
      return {
        ifname,
        type: status.type,
        present: this.table.get(["interface", ifname, "present"]) === true,
        state: this.table.get<string>(["interface", ifname, "state"]),
        stateForMs: since(["interface", ifname, "state"]),
        connection: this.table.get<ConnectionStatus>(["interface", ifname, "connection"]),
        connectionForMs: since(["interface", ifname, "connection"]),
        addresses: this.table.get<AddressInfo[]>(["interface", ifname, "addresses"]) ?? [],
        macAddress: this.table.get<string>(["interface", ifname, "mac_address"]),
        configuration:
          config === undefined
            ? undefined
            : redact
              ? redactConfig(config)
              : structuredClone(config),
        daemons: status.daemons,
        services: status.services,
      };
    });
    return {
      allInterfaces: this.allInterfaces(),
      availableInterfaces: this.table.get<string[]>(["available_interfaces"]) ?? [],
      connection: this.table.get<ConnectionStatus>(["connection"]) ?? "disconnected",
      nameServers: this.table.get<NameServerInfo[]>(["name_servers"]) ?? [],
      interfaces,
      persistenceProblems: [...this.persistenceProblems],
    };
  }

  /** A status report like VintageNet's `info`, with durations. Secrets redacted by default. */
  info(options: InfoOptions = {}): string {
    return formatInfo(this.infoData(options));
  }

  /**
   * Tears every interface down (daemons and services stopped, down commands run, files
   * removed), stops the monitor and the route owner, and removes every property the engine
   * published. No process the engine started survives it. Idempotent.
   */
  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    await Promise.all([...this.serials.values()]);
    await Promise.all([...this.runners.values()].map((runner) => runner.stop()));
    for (const ifname of this.runners.keys()) {
      this.routing.forget(ifname);
      this.table.delete(["interface", ifname, "config"]);
    }
    this.runners.clear();
    this.unsubscribePresence?.();
    await this.monitor?.stop();
    await this.routing.settled();
    try {
      await this.routeOwner.stop?.();
    } catch (error) {
      this.logger.error(
        `route owner ${this.routeOwner.name} failed to stop: ${errorMessage(error)}`,
      );
    }
    this.table.delete(["connection"]);
    await this.nameResolver.stop();
    await this.removeFifos();
  }

  /** Event channels leave their FIFOs for reuse; nothing may stay behind once stopped. */
  private async removeFifos(): Promise<void> {
    const { tmpDir } = this.technologyContext;
    const names = await readdir(tmpDir).catch(() => [] as string[]);
    for (const name of names.filter((entry) => entry.endsWith(".fifo"))) {
      const path = join(tmpDir, name);
      if ((await lstat(path).catch(() => undefined))?.isFIFO()) await rm(path, { force: true });
    }
  }
}
