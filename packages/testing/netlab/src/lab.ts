import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CommandRunner, createCommandRunner, type RunningProcess } from "@runtime/command";
import { destroyLabSync, type LabFootprint, removeNamespace, sweepLeakedLabs } from "./cleanup.js";
import { Namespace, type NamespaceOwner } from "./namespace.js";
import { assertInterfaceName, labId, namespaceName, tempDirPrefix } from "./naming.js";
import { VethPair } from "./veth.js";

export interface LabOptions {
  /**
   * Runs every command. Default: a runner from @runtime/command with a 20 s limit, a 1 s kill
   * grace and 500 lines of `recentOutput()` (daemon logs are what you read when a test fails).
   */
  runner?: CommandRunner;
  /** Where the lab's temp dir is created. Default `os.tmpdir()`. */
  tmpRoot?: string;
  /** Remove leaks of crashed earlier runs first. Default true. */
  sweepLeaks?: boolean;
}

/** Lab numbers within this process; 0 is kept for the integration probe. */
let labSequence = 0;

/** Labs not yet destroyed: what the signal and exit hooks clean up. */
const liveLabs = new Set<Lab>();
let hooksInstalled = false;

function onSignal(signal: NodeJS.Signals): void {
  destroyAllSync();
  removeHooks();
  // Re-raise so the process ends the way it would have without us (or the next handler runs).
  process.kill(process.pid, signal);
}

function destroyAllSync(): void {
  for (const lab of liveLabs) destroyLabSync(lab.footprint());
  liveLabs.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.on("exit", destroyAllSync);
}

function removeHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.removeListener("SIGINT", onSignal);
  process.removeListener("SIGTERM", onSignal);
  process.removeListener("exit", destroyAllSync);
}

/**
 * A set of network namespaces, links, processes and files that belong together and disappear
 * together. Every name carries this process's PID, so concurrent runs never collide and leaks of
 * a crashed run are recognisable.
 */
export class Lab implements NamespaceOwner {
  private readonly namespacesByRole = new Map<string, Namespace>();
  private readonly processes = new Set<RunningProcess>();
  private fileCounter = 0;
  private destroying: Promise<void> | undefined;

  private constructor(
    /** The human name given to `Lab.create` (used in the temp dir name and messages). */
    readonly name: string,
    /** `nl<pid>x<n>`: the prefix of every namespace of this lab. */
    readonly id: string,
    /** The lab's private temp dir (mode 0700): configs, leases, sockets, certificates. */
    readonly dir: string,
    readonly runner: CommandRunner,
  ) {}

  static async create(name: string, options: LabOptions = {}): Promise<Lab> {
    const runner =
      options.runner ??
      createCommandRunner({ timeoutMs: 20_000, killGraceMs: 1_000, recentLines: 500 });
    const tmpRoot = options.tmpRoot ?? tmpdir();
    if (options.sweepLeaks !== false) {
      // Somebody else's leftovers must not fail this lab; say what is stuck and go on.
      const swept = await sweepLeakedLabs(runner, tmpRoot);
      for (const error of swept.errors) console.warn(`netlab: leak sweep: ${error}`);
    }
    labSequence += 1;
    const dir = await mkdtemp(join(tmpRoot, tempDirPrefix(process.pid, name)));
    const lab = new Lab(name, labId(process.pid, labSequence), dir, runner);
    liveLabs.add(lab);
    installHooks();
    return lab;
  }

  get destroyed(): boolean {
    return this.destroying !== undefined;
  }

  get namespaces(): Namespace[] {
    return [...this.namespacesByRole.values()];
  }

  assertAlive(): void {
    if (this.destroying) throw new Error(`lab ${this.name} (${this.id}) is destroyed`);
  }

  /** Creates a namespace with `lo` up. `role` (e.g. "server") must be unique within the lab. */
  async namespace(role: string): Promise<Namespace> {
    this.assertAlive();
    const name = namespaceName(this.id, role);
    if (this.namespacesByRole.has(role)) {
      throw new Error(`lab ${this.name}: namespace role ${role} exists already`);
    }
    const namespace = new Namespace(name, role, this);
    // Registered before `ip netns add` so a failure halfway is still cleaned up.
    this.namespacesByRole.set(role, namespace);
    await this.runner.run(["ip", "netns", "add", name]);
    await namespace.setLink("lo", "up");
    return namespace;
  }

  /**
   * Creates a veth pair directly between two namespaces (nothing ever exists in the root
   * namespace, so concurrent labs can all use "eth0") and sets both ends up.
   */
  async veth(
    a: Namespace,
    aName: string,
    b: Namespace,
    bName: string,
    options: { up?: boolean } = {},
  ): Promise<VethPair> {
    this.assertAlive();
    assertInterfaceName(aName);
    assertInterfaceName(bName);
    for (const namespace of [a, b]) {
      if (namespace.owner !== this) throw new Error(`${namespace.name} belongs to another lab`);
    }
    await this.runner.run([
      "ip",
      "link",
      "add",
      "name",
      aName,
      "netns",
      a.name,
      "type",
      "veth",
      "peer",
      "name",
      bName,
      "netns",
      b.name,
    ]);
    const pair = new VethPair(a, aName, b, bName);
    if (options.up !== false) {
      await pair.a.up();
      await pair.b.up();
    }
    return pair;
  }

  /** Registers a process so `destroy()` stops it; it leaves the registry when it exits. */
  track<T extends RunningProcess>(process: T): T {
    this.processes.add(process);
    void process.exited.then(() => this.processes.delete(process));
    return process;
  }

  /** A fresh path in the lab's temp dir: `file("udhcpd", ".conf")` → `<dir>/udhcpd-1.conf`. */
  file(base: string, extension = ""): string {
    this.fileCounter += 1;
    return join(this.dir, `${base}-${this.fileCounter}${extension}`);
  }

  /** For the synchronous cleanup path (signals, exit). */
  footprint(): LabFootprint {
    return {
      dir: this.dir,
      processGroups: () =>
        [...this.processes].flatMap((process) => (process.pid === undefined ? [] : [process.pid])),
      namespaceNames: () => this.namespaces.map((namespace) => namespace.name),
    };
  }

  /**
   * Stops every process the lab started (whole process groups), kills whatever else runs in its
   * namespaces, deletes the namespaces (which deletes their veths and bridges) and the temp dir.
   * Idempotent. Parts already gone are fine; anything that could not be removed is collected and
   * reported at the end as one AggregateError, after every other step has still been tried.
   */
  destroy(): Promise<void> {
    this.destroying ??= this.destroyOnce();
    return this.destroying;
  }

  private async destroyOnce(): Promise<void> {
    const errors: unknown[] = [];
    await Promise.all(
      [...this.processes].map((process) =>
        process.stop({ graceMs: 1_000 }).catch((error: unknown) => errors.push(error)),
      ),
    );
    for (const namespace of this.namespaces.reverse()) {
      await removeNamespace(this.runner, namespace.name).catch((error: unknown) =>
        errors.push(error),
      );
    }
    await rm(this.dir, { recursive: true, force: true }).catch((error: unknown) =>
      errors.push(error),
    );
    liveLabs.delete(this);
    if (liveLabs.size === 0) removeHooks();
    if (errors.length > 0) {
      throw new AggregateError(errors, `lab ${this.name} (${this.id}): cleanup incomplete`);
    }
  }
}

/** Labs of this process not yet destroyed (for diagnostics). */
export function liveLabCount(): number {
  return liveLabs.size;
}
