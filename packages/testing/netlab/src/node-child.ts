import { createRequire } from "node:module";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ProcessExit, RunningProcess, StartOptions } from "@runtime/command";
import { EventEmitter } from "eventemitter3";
import { decodeMessage, encodeMessage, IPC_ENV } from "./ipc-protocol.js";
import { type WaitOptions, waitFor } from "./wait.js";

export interface SpawnNodeOptions {
  /** Arguments after the module path (`process.argv.slice(2)` in the child). */
  args?: readonly string[];
  /** Environment of the child (the host's is not inherited; PATH and LC_ALL are always set). */
  env?: Readonly<Record<string, string>>;
  /**
   * Give the child `process.send()` and `process.on("message")`, connected to
   * `NodeChild.send()`/`nextMessage()`. Default false.
   */
  ipc?: boolean;
  /** Working directory of the child. Default: the lab's temp dir. */
  cwd?: string;
}

export interface NodeChildEvents {
  message: (message: unknown) => void;
  exit: (exit: ProcessExit) => void;
}

/**
 * Loader URLs for `node --import`. Resolved from this package, not from the caller's cwd, so a
 * test in any package (or any cwd) can start TypeScript children.
 */
const tsxLoaderUrl = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const ipcShimUrl = new URL("./children/ipc-shim.ts", import.meta.url).href;

export function nodeArgv(modulePath: string | URL, options: SpawnNodeOptions): string[] {
  const path =
    modulePath instanceof URL || modulePath.startsWith("file:")
      ? fileURLToPath(modulePath)
      : modulePath;
  const absolute = isAbsolute(path) ? path : resolve(path);
  return [
    process.execPath,
    "--import",
    tsxLoaderUrl,
    ...(options.ipc ? ["--import", ipcShimUrl] : []),
    absolute,
    ...(options.args ?? []),
  ];
}

/**
 * The repository's tsconfig that maps every workspace package name to its sources, so a child can
 * `import "@vnet/core"` without a build (vitest's aliases do not reach child processes).
 */
const sourcesTsconfig = fileURLToPath(
  new URL("../../../../tsconfig.sources.json", import.meta.url),
);

export function nodeStartOptions(options: SpawnNodeOptions, defaultCwd: string): StartOptions {
  return {
    stdin: options.ipc === true,
    cwd: options.cwd ?? defaultCwd,
    env: {
      TSX_TSCONFIG_PATH: sourcesTsconfig,
      ...options.env,
      [IPC_ENV]: options.ipc ? "1" : "0",
    },
  };
}

/** A Node.js child process (usually inside a namespace) and its message channel. */
export class NodeChild extends EventEmitter<NodeChildEvents> {
  /** Output lines that are not messages (stdout and stderr). */
  readonly output: string[] = [];
  private readonly inbox: unknown[] = [];

  constructor(
    readonly process: RunningProcess,
    private readonly ipc: boolean,
  ) {
    super();
    process.on("line", (line, stream) => {
      const decoded = stream === "stdout" && ipc ? decodeMessage(line) : undefined;
      if (decoded) {
        this.inbox.push(decoded.message);
        this.emit("message", decoded.message);
      } else {
        this.output.push(line);
      }
    });
    process.on("exit", (exit) => this.emit("exit", exit));
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get exited(): Promise<ProcessExit> {
    return this.process.exited;
  }

  /** Sends a message; the child receives it as `process.on("message")`. */
  send(message: unknown): void {
    if (!this.ipc || !this.process.stdin) {
      throw new Error("spawnNode: send() needs the child started with { ipc: true }");
    }
    this.process.stdin.write(encodeMessage(message));
  }

  /**
   * Resolves with the oldest message not yet taken that matches `predicate` (default: any), and
   * removes it from the inbox; waits for one if none has arrived. Fails if the child exits first.
   */
  nextMessage<T = unknown>(
    predicate: (message: unknown) => boolean = () => true,
    options: WaitOptions = {},
  ): Promise<T> {
    return waitFor(
      () => {
        const index = this.inbox.findIndex(predicate);
        if (index === -1) return undefined;
        const [message] = this.inbox.splice(index, 1);
        return { message: message as T };
      },
      { description: "a message from the Node child", process: this.process, ...options },
    ).then((found) => found.message);
  }

  /** Messages received and not yet taken by `nextMessage`. */
  pendingMessages(): unknown[] {
    return [...this.inbox];
  }

  /** SIGTERM to the child's process group, SIGKILL after the grace time. */
  stop(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<ProcessExit> {
    return this.process.stop(options);
  }
}
