// Test hub benchmarks. Prints one line per figure. Run with `pnpm --filter @hublink/test-hub bench`.
// The devices are raw `ws` sockets (the client package benchmarks itself against this hub).

import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createCommandRunner } from "@runtime/command";
import WebSocket from "ws";
import { TestHub } from "../src/index.js";
import { signHeaders } from "../test/support/nh1-sign.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const DEVICES = Number(process.env.BENCH_DEVICES ?? 1_000);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);

function heapAndExternal(): number {
  for (let i = 0; i < 3; i++) gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external + usage.arrayBuffers;
}

function line(name: string, value: number, unit: string): void {
  console.log(`${name}: ${Math.round(value).toLocaleString("en-US")} ${unit}`);
}

async function connectOne(hub: TestHub, credentials: { key: string; secret: string }, id: string) {
  const headers = signHeaders({
    ...credentials,
    identifier: id,
    signedAt: Math.floor(Date.now() / 1000),
  });
  const ws = new WebSocket(`${hub.socketUrl()}?vsn=2.0.0`, { headers, perMessageDeflate: false });
  await new Promise((resolve) => ws.once("open", resolve));
  ws.send(JSON.stringify(["1", "1", "device", "phx_join", { device_api_version: "2.3.0" }]));
  await hub.waitForDevice(id);
  return ws;
}

console.log(
  `# @hublink/test-hub, Node ${process.version}, ${cpus()[0]?.model ?? "?"} x${cpus().length}`,
);

// 1. Hub memory per connected, joined device (devices live in a child process).
{
  const hub = await TestHub.start({ firmwareServer: false });
  const credentials = hub.addProduct({ name: "bench", sharedSecrets: true }).sharedSecrets[0]!;
  const before = heapAndExternal();
  const runner = createCommandRunner({ timeoutMs: 0 });
  const child = runner.start(
    [
      process.execPath,
      "--import",
      "tsx",
      fileURLToPath(new URL("./devices.ts", import.meta.url)),
      hub.url,
      credentials.key,
      credentials.secret,
      String(DEVICES),
    ],
    { stdin: true },
  );
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    child.on("line", (text) => text === "ready" && resolve());
    void child.exited.then((exit) =>
      reject(new Error(`device child exited: ${JSON.stringify(exit)}`)),
    );
  });
  const elapsed = performance.now() - start;
  if (hub.connections().length !== DEVICES) throw new Error("not every device connected");
  const after = heapAndExternal();
  line(`connect + NH1 verify + join, ${DEVICES} devices`, (DEVICES / elapsed) * 1000, "devices/s");
  line(
    `hub memory per joined device (${DEVICES} devices, recordings included)`,
    (after - before) / DEVICES,
    "bytes",
  );
  child.stdin?.end();
  await child.exited;
  await hub.stop();
}

// 2. Messages through one device channel, both directions.
{
  const hub = await TestHub.start({ firmwareServer: false });
  const credentials = hub.addProduct({ name: "bench", sharedSecrets: true }).sharedSecrets[0]!;
  const ws = await connectOne(hub, credentials, "one");
  let recorded = 0;
  hub.on("message", (message) => {
    if (message.direction === "in" && message.event === "fwup_progress") recorded += 1;
  });
  const frame = JSON.stringify([
    "1",
    "2",
    "device",
    "fwup_progress",
    { stage: "updating", value: 50 },
  ]);
  const inbound = new Promise<void>((resolve) => {
    const check = () => (recorded >= MESSAGES ? resolve() : setImmediate(check));
    check();
  });
  const start = performance.now();
  for (let i = 0; i < MESSAGES; i++) ws.send(frame);
  await inbound;
  line("device → hub, recorded", (MESSAGES / (performance.now() - start)) * 1000, "messages/s");

  let received = 0;
  const outbound = new Promise<void>((resolve) =>
    ws.on("message", () => {
      received += 1;
      if (received === MESSAGES) resolve();
    }),
  );
  const pushStart = performance.now();
  for (let i = 0; i < MESSAGES; i++) hub.identify("one");
  await outbound;
  line(
    "hub → device pushes (identify)",
    (MESSAGES / (performance.now() - pushStart)) * 1000,
    "messages/s",
  );
  ws.terminate();
  await hub.stop();
}
