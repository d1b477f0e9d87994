import type {
  CommandResult,
  CommandRunner,
  RunningProcess,
  RunOptions,
  StartOptions,
} from "@runtime/command";
import {
  type AddressInfo,
  type LinkInfo,
  parseAddresses,
  parseLinks,
  parseRoutes,
  type RouteInfo,
} from "./ip-json.js";
import { assertInterfaceName } from "./naming.js";
import { NodeChild, nodeArgv, nodeStartOptions, type SpawnNodeOptions } from "./node-child.js";

/** What a namespace needs from the lab that owns it. */
export interface NamespaceOwner {
  readonly runner: CommandRunner;
  readonly dir: string;
  /** A fresh path in the lab's temp dir for a config, lease or pid file. */
  file(base: string, extension?: string): string;
  /** Registers a process so the lab kills it on destroy. */
  track<T extends RunningProcess>(process: T): T;
  assertAlive(): void;
}

export interface RouteOptions {
  via?: string;
  dev?: string;
  metric?: number;
  table?: number | string;
}

export interface RouteQuery {
  family?: 4 | 6;
  table?: number | string;
}

/** A network namespace owned by a lab. Create it with `lab.namespace(role)`. */
export class Namespace {
  constructor(
    /** The netns name, `nl<pid>x<n>-<role>`. */
    readonly name: string,
    /** The short role given to `lab.namespace()`, e.g. "server". */
    readonly role: string,
    readonly owner: NamespaceOwner,
  ) {}

  get runner(): CommandRunner {
    return this.owner.runner;
  }

  /** Runs a command inside the namespace (`ip netns exec NAME …`) and waits for it. */
  exec(argv: readonly string[], options?: RunOptions): Promise<CommandResult> {
    this.owner.assertAlive();
    return this.runner.run(["ip", "netns", "exec", this.name, ...argv], options);
  }

  /** Runs `ip -n NAME …`: cheaper than exec for plain iproute2 commands. */
  ip(args: readonly string[], options?: RunOptions): Promise<CommandResult> {
    this.owner.assertAlive();
    return this.runner.run(["ip", "-n", this.name, ...args], options);
  }

  /** Starts a long-lived process inside the namespace; the lab stops it on destroy. */
  start(argv: readonly string[], options?: StartOptions): RunningProcess {
    this.owner.assertAlive();
    return this.owner.track(
      this.runner.start(["ip", "netns", "exec", this.name, ...argv], options),
    );
  }

  /**
   * Runs a Node.js module (TypeScript is fine: it runs with `--import tsx`) inside the namespace.
   * With `ipc: true` the child has `process.send`/`process.on("message")` wired to the returned
   * `NodeChild`. The lab stops it on destroy.
   */
  spawnNode(modulePath: string | URL, options: SpawnNodeOptions = {}): NodeChild {
    const process = this.start(
      nodeArgv(modulePath, options),
      nodeStartOptions(options, this.owner.dir),
    );
    return new NodeChild(process, options.ipc === true);
  }

  async addAddress(ifname: string, cidr: string, options: { noDad?: boolean } = {}): Promise<void> {
    assertInterfaceName(ifname);
    await this.ip(["addr", "add", cidr, "dev", ifname, ...(options.noDad ? ["nodad"] : [])]);
  }

  async setLink(ifname: string, state: "up" | "down"): Promise<void> {
    assertInterfaceName(ifname);
    await this.ip(["link", "set", "dev", ifname, state]);
  }

  async links(): Promise<LinkInfo[]> {
    const { stdout } = await this.ip(["-json", "link", "show"]);
    return parseLinks(stdout);
  }

  async linkInfo(ifname: string): Promise<LinkInfo> {
    assertInterfaceName(ifname);
    const { stdout } = await this.ip(["-json", "link", "show", "dev", ifname]);
    const [link] = parseLinks(stdout);
    if (!link) throw new Error(`${this.name}: no link ${ifname}`);
    return link;
  }

  /** True when the interface exists in this namespace. */
  async hasLink(ifname: string): Promise<boolean> {
    return (await this.links()).some((link) => link.ifname === ifname);
  }

  async addresses(ifname?: string): Promise<AddressInfo[]> {
    if (ifname !== undefined) assertInterfaceName(ifname);
    const { stdout } = await this.ip(["-json", "addr", "show", ...(ifname ? ["dev", ifname] : [])]);
    return parseAddresses(stdout);
  }

  /** `ip route add DESTINATION [via …] [dev …] [metric …] [table …]`; IPv6 is detected from ":". */
  async addRoute(destination: string, options: RouteOptions = {}): Promise<void> {
    const family = destination.includes(":") || options.via?.includes(":") ? ["-6"] : [];
    await this.ip([...family, "route", "add", destination, ...routeArgs(options)]);
  }

  async routes(query: RouteQuery = {}): Promise<RouteInfo[]> {
    const family = query.family === 6 ? ["-6"] : query.family === 4 ? ["-4"] : [];
    const table = query.table === undefined ? [] : ["table", String(query.table)];
    const { stdout } = await this.ip(["-json", ...family, "route", "show", ...table]);
    return parseRoutes(stdout);
  }

  /** Sets a sysctl inside the namespace (net.* keys are per namespace). */
  async sysctl(key: string, value: string | number): Promise<void> {
    await this.exec(["sysctl", "-q", "-w", `${key}=${value}`]);
  }

  async readSysctl(key: string): Promise<string> {
    const { stdout } = await this.exec(["sysctl", "-n", key]);
    return stdout.trim();
  }

  /**
   * Creates a bridge (up, STP off so ports forward at once). `forwardEapol` lets 802.1X frames
   * (PAE group address 01:80:c2:00:00:03) cross it, which Linux bridges drop by default.
   */
  async createBridge(name: string, options: { forwardEapol?: boolean } = {}): Promise<Bridge> {
    assertInterfaceName(name);
    await this.ip([
      "link",
      "add",
      "name",
      name,
      "type",
      "bridge",
      "stp_state",
      "0",
      ...(options.forwardEapol ? ["group_fwd_mask", "8"] : []),
    ]);
    await this.setLink(name, "up");
    return new Bridge(this, name);
  }

  /** True when a socket is listening (tcp) or bound (udp) on `port` in this namespace. */
  async isListening(protocol: "tcp" | "udp", port: number): Promise<boolean> {
    const { stdout } = await this.exec([
      "ss",
      "-H",
      "-l",
      "-n",
      protocol === "tcp" ? "-t" : "-u",
      "sport",
      "=",
      `:${port}`,
    ]);
    return stdout.trim().length > 0;
  }

  /** PIDs of every process inside the namespace (`ip netns pids`). */
  async pids(): Promise<number[]> {
    const { stdout } = await this.runner.run(["ip", "netns", "pids", this.name]);
    return stdout
      .split("\n")
      .map((line) => Number(line.trim()))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  }
}

function routeArgs(options: RouteOptions): string[] {
  return [
    ...(options.via ? ["via", options.via] : []),
    ...(options.dev ? ["dev", options.dev] : []),
    ...(options.metric !== undefined ? ["metric", String(options.metric)] : []),
    ...(options.table !== undefined ? ["table", String(options.table)] : []),
  ];
}

/** A bridge inside a namespace. */
export class Bridge {
  constructor(
    readonly namespace: Namespace,
    readonly name: string,
  ) {}

  /** Makes `ifname` (e.g. a veth end in the same namespace) a port of this bridge. */
  async attach(ifname: string): Promise<void> {
    assertInterfaceName(ifname);
    await this.namespace.ip(["link", "set", "dev", ifname, "master", this.name]);
  }

  async detach(ifname: string): Promise<void> {
    assertInterfaceName(ifname);
    await this.namespace.ip(["link", "set", "dev", ifname, "nomaster"]);
  }

  /** Names of the links attached to this bridge. */
  async members(): Promise<string[]> {
    const links = await this.namespace.links();
    return links.filter((link) => link.master === this.name).map((link) => link.ifname);
  }
}
