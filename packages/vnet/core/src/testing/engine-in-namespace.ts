// The parent side of engine-child.ts: starts the engine in a Node child (inside a network
// namespace), mirrors the child's PropertyTable from its messages, waits on properties with
// deadlines, and makes request/reply calls. Technologies' integration tests share it.

import type { NetworkConfig } from "../config.js";
import type { ConnectivityTiming } from "../connectivity/check-logic.js";
import type { InternetHost } from "../connectivity/probe.js";
import type { Programs } from "../technology.js";

/** A technology the child imports: `export` of `module` (a specifier or a file URL). */
export interface TechnologyModule {
  readonly module: string;
  readonly export: string;
}

/** How the child starts its engine (all JSON: it travels in argv). */
export interface EngineChildOptions {
  readonly technologies?: readonly TechnologyModule[];
  readonly tmpDir: string;
  readonly resolvConfPath: string;
  readonly persistenceDir: string | null;
  readonly defaultConfig?: Readonly<Record<string, NetworkConfig>>;
  readonly internetHosts: readonly InternetHost[];
  readonly connectivity?: Partial<ConnectivityTiming>;
  /** DHCP client hostname (and what `direct` links derive their subnet from). */
  readonly hostname?: string;
  readonly programs?: Partial<Programs>;
  /** Print debug lines too (they show in the test's failure output). */
  readonly debug?: boolean;
}

/**
 * A Node child with a message channel, as `@testing/netlab`'s `NodeChild` is (typed here by its
 * shape, so the published package does not depend on the private lab).
 */
export interface NodeChildHandle {
  readonly pid: number | undefined;
  readonly exited: Promise<unknown>;
  readonly output: readonly string[];
  send(message: unknown): void;
  on(event: "message", listener: (message: unknown) => void): unknown;
  nextMessage<T = unknown>(
    predicate: (message: unknown) => boolean,
    options: { timeoutMs: number; description: string },
  ): Promise<T>;
  stop(): Promise<unknown>;
}

/** What starts the child: a namespace (`@testing/netlab`'s `Namespace` fits). */
export interface NodeSpawner {
  spawnNode(
    module: URL,
    options: { ipc: true; args: string[]; env?: Record<string, string> },
  ): NodeChildHandle;
}

/** One change of a mirrored property. */
export interface PropertyChange {
  readonly value: unknown;
  readonly deleted: boolean;
  /** The child's `Date.now()` when it sent the change. */
  readonly at: number;
}

/** A reply from the child. */
export interface EngineReply {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly at?: number;
  readonly error?: { readonly name?: string; readonly code?: string; readonly message: string };
}

interface PropertyMessage {
  type: "property";
  path: string[];
  value: unknown;
  deleted: boolean;
  at: number;
}

/** The child's module: the TypeScript source when running from sources, else the built file. */
export const ENGINE_CHILD_MODULE: URL = import.meta.url.endsWith(".ts")
  ? new URL("./engine-child.ts", import.meta.url)
  : new URL("./engine-child.js", import.meta.url);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The engine running in a child process. Properties are mirrored under their path joined with
 * `/` (`"interface/eth0/state"`); `history` keeps every change for "it went through X" checks.
 */
export class EngineInNamespace {
  private readonly properties = new Map<string, unknown>();
  /** Every change per property, in order. */
  readonly history = new Map<string, PropertyChange[]>();
  private nextId = 1;
  private exited = false;

  private constructor(readonly child: NodeChildHandle) {
    child.on("message", (raw) => {
      const message = raw as PropertyMessage;
      if (message.type !== "property") return;
      const key = message.path.join("/");
      if (message.deleted) this.properties.delete(key);
      else this.properties.set(key, message.value);
      const list = this.history.get(key) ?? [];
      list.push({ value: message.value, deleted: message.deleted, at: message.at });
      this.history.set(key, list);
    });
    void child.exited.then(
      () => {
        this.exited = true;
      },
      () => {
        this.exited = true;
      },
    );
  }

  /** Spawns the child in `namespace` and waits until its engine has started. */
  static async start(
    namespace: NodeSpawner,
    options: EngineChildOptions,
    childModule: URL = ENGINE_CHILD_MODULE,
  ): Promise<EngineInNamespace> {
    const child = namespace.spawnNode(childModule, {
      ipc: true,
      args: [JSON.stringify(options)],
    });
    const engine = new EngineInNamespace(child);
    await child.nextMessage((message) => (message as { type?: string }).type === "ready", {
      timeoutMs: 30_000,
      description: "the engine child to start",
    });
    return engine;
  }

  /** The mirrored value of a property (path joined with `/`). */
  get<T = unknown>(path: string): T | undefined {
    return this.properties.get(path) as T | undefined;
  }

  /** Values of a property's changes so far, oldest first (`undefined` for deletions). */
  values(path: string): unknown[] {
    return (this.history.get(path) ?? []).map((change) =>
      change.deleted ? undefined : change.value,
    );
  }

  /**
   * Makes the mirror current: the child answers after every property message it sent before,
   * and messages arrive in order. Without this, two properties the child set together may be
   * seen one before the other.
   */
  async sync(): Promise<void> {
    await this.call({ type: "ping" });
  }

  /**
   * Waits (polling, with a deadline; failing at once if the child exits) until the property
   * satisfies `predicate`, then syncs. Returns the value.
   */
  async waitFor<T = unknown>(
    path: string,
    predicate: (value: T | undefined) => boolean,
    timeoutMs = 20_000,
  ): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.properties.get(path) as T | undefined)) {
      if (this.exited) {
        throw new Error(
          `engine child exited while waiting for ${path}:\n${this.child.output.slice(-30).join("\n")}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${path} (now ${JSON.stringify(this.properties.get(path))})`,
        );
      }
      await sleep(20);
    }
    await this.sync();
    return this.properties.get(path) as T | undefined;
  }

  waitForValue<T = unknown>(path: string, value: T, timeoutMs?: number): Promise<T | undefined> {
    return this.waitFor<T>(path, (current) => current === value, timeoutMs);
  }

  async call(message: Record<string, unknown>): Promise<EngineReply> {
    const id = this.nextId++;
    this.child.send({ ...message, id });
    return this.child.nextMessage<EngineReply>(
      (reply) =>
        (reply as { type?: string; id?: number }).type === "reply" &&
        (reply as { id?: number }).id === id,
      { timeoutMs: 30_000, description: `a reply to ${String(message.type)}` },
    );
  }

  /** Configures and returns the child's clock (Date.now) when configure() resolved. */
  async configure(ifname: string, config: NetworkConfig, persist = true): Promise<number> {
    const reply = await this.call({ type: "configure", ifname, config, persist });
    if (!reply.ok) {
      throw Object.assign(
        new Error(`configure failed: ${reply.error?.code} ${reply.error?.message}`),
        { code: reply.error?.code },
      );
    }
    return reply.at!;
  }

  /** Configures and returns the ms until `path` equals `value`, measured inside the child. */
  async measure(
    ifname: string,
    config: NetworkConfig,
    path: string,
    value: unknown,
    timeoutMs = 30_000,
  ): Promise<number> {
    const reply = await this.call({
      type: "measure",
      ifname,
      config,
      path: path.split("/"),
      value,
      timeoutMs,
    });
    if (!reply.ok) throw new Error(`measure failed: ${reply.error?.message}`);
    return reply.value as number;
  }

  /** `vnet.ioctl()` in the child. */
  async ioctl(ifname: string, command: string, args: unknown[] = []): Promise<EngineReply> {
    return this.call({ type: "ioctl", ifname, command, args });
  }

  /** Runs a command inside the child's namespace, timed by the child. */
  async run(
    argv: string[],
  ): Promise<{ ms: number; exitCode: number; stdout: string; stderr: string }> {
    const reply = await this.call({ type: "run", argv });
    return reply.value as { ms: number; exitCode: number; stdout: string; stderr: string };
  }

  async memory(): Promise<NodeJS.MemoryUsage> {
    return (await this.call({ type: "memory" })).value as NodeJS.MemoryUsage;
  }

  /** `vnet.info()` in the child (secrets redacted). */
  async info(): Promise<string> {
    return (await this.call({ type: "info" })).value as string;
  }

  /** Stops the engine and waits for the child to exit. */
  async stop(): Promise<void> {
    const reply = await this.call({ type: "stop" });
    if (!reply.ok) throw new Error(`stop failed: ${reply.error?.message}`);
    await this.child.exited;
  }
}
