// The child side of EngineInNamespace: runs the engine inside a network namespace (started with
// a Node IPC channel, e.g. @testing/netlab's spawnNode with `ipc: true`), because /sys and netlink
// are per namespace. Loads the technologies it is told to, reports every property change to the
// parent and obeys configure / ioctl / run / info / stop requests. Options come as JSON in argv[2].
import { createCommandRunner } from "@runtime/command";
import type { NetworkConfig } from "../config.js";
import { VintageNet } from "../engine/vintage-net.js";
import { flatFilePersistence } from "../persistence/persistence.js";
import type { Technology } from "../technology.js";
import type { EngineChildOptions } from "./engine-in-namespace.js";

type ParentMessage =
  | { type: "configure"; id: number; ifname: string; config: NetworkConfig; persist?: boolean }
  /** Configure, then wait until `path` equals `value`; reply with the elapsed ms. */
  | {
      type: "measure";
      id: number;
      ifname: string;
      config: NetworkConfig;
      path: string[];
      value: unknown;
      timeoutMs: number;
    }
  | { type: "ioctl"; id: number; ifname: string; command: string; args: unknown[] }
  /** Run a command in the engine's namespace; reply with its duration in ms. */
  | { type: "run"; id: number; argv: string[] }
  | { type: "memory"; id: number }
  /** Answered after every property message sent before it: the parent's view is then current. */
  | { type: "ping"; id: number }
  | { type: "info"; id: number }
  | { type: "stop"; id: number };

const options = JSON.parse(process.argv[2] ?? "{}") as EngineChildOptions;
const commands = createCommandRunner();
const send = (message: unknown) => process.send?.(message);

async function main(): Promise<void> {
  const technologies: Technology[] = [];
  for (const spec of options.technologies ?? []) {
    const loaded = (await import(spec.module)) as Record<string, unknown>;
    const technology = loaded[spec.export] as Technology | undefined;
    if (!technology || typeof technology.normalize !== "function") {
      throw new TypeError(`${spec.module} exports no technology named ${spec.export}`);
    }
    technologies.push(technology);
  }
  const vnet = await VintageNet.start({
    technologies,
    ...(options.debug
      ? {
          runner: createCommandRunner({
            logger: {
              debug: (line) => console.error(`${performance.now().toFixed(1)} runner: ${line}`),
            },
          }),
        }
      : {}),
    tmpDir: options.tmpDir,
    resolvConfPath: options.resolvConfPath,
    persistence:
      options.persistenceDir === null
        ? null
        : flatFilePersistence({ directory: options.persistenceDir }),
    ...(options.defaultConfig ? { defaultConfig: options.defaultConfig } : {}),
    internetHosts: options.internetHosts,
    ...(options.connectivity ? { connectivity: options.connectivity } : {}),
    ...(options.hostname ? { hostname: options.hostname } : {}),
    ...(options.programs ? { programs: options.programs } : {}),
    logger: {
      debug: (message) => {
        if (options.debug) console.error(`${performance.now().toFixed(1)} debug: ${message}`);
      },
      info: (message) => console.error(`info: ${message}`),
      warn: (message) => console.error(`warn: ${message}`),
      error: (message) => console.error(`error: ${message}`),
    },
  });

  // Everything published so far, then every change, in the table's order.
  for (const [path, value] of vnet.match([]))
    send({ type: "property", path, value, deleted: false, at: Date.now() });
  vnet.subscribe([], (event) =>
    send({
      type: "property",
      path: event.property,
      value: event.deleted ? null : event.value,
      deleted: event.deleted,
      at: Date.now(),
    }),
  );

  process.on("message", async (raw) => {
    const message = raw as ParentMessage;
    try {
      const value = await answer(vnet, message);
      send({ type: "reply", id: message.id, ok: true, value, at: Date.now() });
      if (message.type === "stop") process.exit(0);
    } catch (error) {
      send({
        type: "reply",
        id: message.id,
        ok: false,
        error: {
          name: (error as Error).name,
          message: (error as Error).message,
          code: (error as { code?: string }).code,
        },
      });
    }
  });

  send({ type: "ready", pid: process.pid });
}

async function answer(vnet: VintageNet, message: ParentMessage): Promise<unknown> {
  switch (message.type) {
    case "configure":
      await vnet.configure(message.ifname, message.config, { persist: message.persist ?? true });
      return undefined;
    case "measure": {
      const started = performance.now();
      const reached = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timeout waiting for ${message.path.join("/")}`)),
          message.timeoutMs,
        );
        const check = () => {
          if (vnet.get(message.path) === message.value) {
            clearTimeout(timer);
            unsubscribe();
            resolve(performance.now() - started);
          }
        };
        const unsubscribe = vnet.subscribe(message.path, check);
      });
      await vnet.configure(message.ifname, message.config, { persist: false });
      return await reached;
    }
    case "ioctl":
      return await vnet.ioctl(message.ifname, message.command, message.args);
    case "run": {
      const started = performance.now();
      const result = await commands.run(message.argv, { allowFailure: true, timeoutMs: 60_000 });
      return {
        ms: performance.now() - started,
        exitCode: result.exitCode,
        stdout: result.stdout,
        stderr: result.stderr,
      };
    }
    case "ping":
      return undefined;
    case "memory":
      return process.memoryUsage();
    case "info":
      return vnet.info();
    case "stop":
      await vnet.stop();
      return undefined;
  }
}

// No top-level await: the module is also built as CommonJS.
main().catch((error: unknown) => {
  console.error(`engine child failed to start: ${(error as Error)?.stack ?? String(error)}`);
  process.exit(1);
});
