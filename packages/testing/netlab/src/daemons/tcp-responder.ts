import type { Namespace } from "../namespace.js";
import type { NodeChild } from "../node-child.js";

export interface TcpResponderOptions {
  /** Address to listen on, inside the namespace. */
  address: string;
  port: number;
  /** "close" (default): accept and close, like a reachability check wants. "echo": echo bytes. */
  mode?: "close" | "echo";
  timeoutMs?: number;
}

/**
 * A TCP server in a namespace that can be stopped and started again, to simulate the Internet
 * going away and coming back. It is a Node child (not `nc`), so readiness is a real message.
 */
export interface TcpResponder {
  readonly address: string;
  readonly port: number;
  readonly running: boolean;
  /** Connections accepted by the current process, counted from its messages. */
  readonly connections: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const responderModule = new URL("../children/tcp-responder.ts", import.meta.url);

export async function startTcpResponder(
  namespace: Namespace,
  options: TcpResponderOptions,
): Promise<TcpResponder> {
  let child: NodeChild | undefined;
  let connections = 0;
  const responder: TcpResponder = {
    address: options.address,
    port: options.port,
    get running() {
      return child !== undefined;
    },
    get connections() {
      return connections;
    },
    async start() {
      if (child) return;
      connections = 0;
      const started = namespace.spawnNode(responderModule, {
        args: [options.address, String(options.port), options.mode ?? "close"],
        ipc: true,
      });
      started.on("message", (message) => {
        if ((message as { type?: string }).type === "connection") connections += 1;
      });
      child = started;
      try {
        await started.nextMessage(
          (message) => (message as { type?: string }).type === "listening",
          {
            timeoutMs: options.timeoutMs ?? 15_000,
            description: `tcp responder on ${namespace.name} ${options.address}:${options.port}`,
          },
        );
      } catch (error) {
        child = undefined;
        await started.stop();
        throw error;
      }
    },
    async stop() {
      const running = child;
      child = undefined;
      await running?.stop();
    },
  };
  await responder.start();
  return responder;
}
