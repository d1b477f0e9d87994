import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:net";
import type { Download } from "../../src/index.js";

/** Polls `read` until `accept` says yes; fails after `timeoutMs`. Never a fixed sleep. */
export async function waitFor<T>(
  read: () => T,
  accept: (value: T) => boolean = Boolean,
  { timeoutMs = 10_000, intervalMs = 10, what = "condition" } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (accept(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: last value ${String(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until `read()` has returned the same value `times` polls in a row. */
export async function waitForStable(
  read: () => number,
  { times = 10, intervalMs = 20, timeoutMs = 10_000 } = {},
) {
  let last = read();
  let same = 0;
  return waitFor(
    () => {
      const value = read();
      same = value === last ? same + 1 : 0;
      last = value;
      return same;
    },
    (count) => count >= times,
    { timeoutMs, intervalMs, what: "a stable value" },
  ).then(() => last);
}

export interface Recorded {
  events: Array<[string, unknown]>;
  of<T>(name: string): T[];
}

/** Records every event of a download, in order. */
export function record(download: Download): Recorded {
  const events: Array<[string, unknown]> = [];
  for (const name of [
    "response",
    "progress",
    "retry",
    "restart",
    "warning",
    "complete",
    "error",
  ] as const) {
    download.on(name, (payload: unknown) => events.push([name, payload]));
  }
  return {
    events,
    of: <T>(name: string) =>
      events.filter(([event]) => event === name).map(([, payload]) => payload as T),
  };
}

/**
 * Reads a download to the end like a consumer that handles restarts (drops what it has).
 * Returns the bytes, or throws what the download threw.
 */
export async function collect(download: Download): Promise<Buffer> {
  let chunks: Buffer[] = [];
  download.on("restart", () => {
    chunks = [];
  });
  for await (const chunk of download) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A loopback port nothing listens on (bound by the OS, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Byte-for-byte comparison that stays fast for megabytes (deep equality walks every element)
 * and says where the first difference is.
 */
export function sameBytes(actual: Uint8Array, expected: Uint8Array): string {
  if (Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected))
    return "same";
  const length = Math.min(actual.length, expected.length);
  let index = 0;
  while (index < length && actual[index] === expected[index]) index++;
  return `differ: lengths ${actual.length} vs ${expected.length}, first difference at ${index}`;
}
