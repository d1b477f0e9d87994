// Preloaded (`node --import`) into every Node child that `spawnNode` starts with `ipc: true`. It
// gives the child the same API a `child_process.fork()` child has: `process.send(message)` and
// `process.on("message", …)`, so a module written for fork() runs unchanged inside a namespace.
import { createInterface } from "node:readline";
import { decodeMessage, encodeMessage, IPC_ENV } from "../ipc-protocol.js";

if (process.env[IPC_ENV] === "1" && typeof process.send !== "function") {
  let connected = true;
  const input = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  input.on("line", (line) => {
    const decoded = decodeMessage(line);
    if (decoded) process.emit("message", decoded.message, undefined);
  });
  input.on("close", () => {
    connected = false;
    process.emit("disconnect");
  });
  // Like Node's own IPC channel: it keeps the child alive only while someone listens for
  // messages, so a child that just reports and finishes exits by itself.
  const stdin = process.stdin as typeof process.stdin & { ref?(): void; unref?(): void };
  const updateRef = () => {
    if (process.listenerCount("message") > 0) stdin.ref?.();
    else stdin.unref?.();
  };
  for (const event of ["newListener", "removeListener"] as const) {
    process.on(event, (name: string | symbol) => {
      if (name === "message") queueMicrotask(updateRef);
    });
  }
  updateRef();

  const send = (message: unknown, ...rest: unknown[]): boolean => {
    const callback = rest.find((arg) => typeof arg === "function") as
      | ((error: Error | null) => void)
      | undefined;
    // stdout to a pipe is synchronous on Linux, so a send followed by process.exit() is delivered.
    return process.stdout.write(encodeMessage(message), () => callback?.(null));
  };
  Object.defineProperty(process, "send", { value: send, configurable: true, writable: true });
  Object.defineProperty(process, "connected", { get: () => connected, configurable: true });
  Object.defineProperty(process, "disconnect", {
    value: () => input.close(),
    configurable: true,
    writable: true,
  });
}
