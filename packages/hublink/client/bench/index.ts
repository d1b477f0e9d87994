// pnpm --filter @hublink/client bench
// 1) memory per connected client: 1,000 HubLink clients in this process against a test hub in a
//    child process (so the hub's own memory is not counted), each joined to its device channel;
// 2) messages per second through one device channel: status_update pushes, counted at the hub.
import { fork } from "node:child_process";
import { cpus } from "node:os";
import { KV } from "@runtime/kv";
import { HubLink, silentLogger } from "../src/index.js";

const CLIENTS = 1_000;
const MESSAGES = 100_000;

interface HubInfo {
  url: string;
  key: string;
  secret: string;
}

const child = fork(new URL("./hub-child.ts", import.meta.url), [], {
  execArgv: ["--import", "tsx"],
  env: {
    ...process.env,
    TSX_TSCONFIG_PATH: new URL("../../../../tsconfig.sources.json", import.meta.url).pathname,
  },
  stdio: "inherit",
});
const ask = <T>(message: object): Promise<T> =>
  new Promise((resolve) => {
    child.once("message", (answer) => resolve(answer as T));
    child.send(message);
  });

const hub = await ask<HubInfo>({ type: "start" });
const kv = await KV.inMemory({
  nerves_fw_active: "a",
  "a.nerves_fw_uuid": "bench",
  "a.nerves_fw_version": "1.0.0",
});
const settle = async () => {
  for (let index = 0; index < 3; index++) {
    global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};
await settle();
const before = process.memoryUsage();
const clients: HubLink[] = [];
const startedAt = performance.now();
for (let index = 0; index < CLIENTS; index++) {
  clients.push(
    await HubLink.start({
      host: hub.url,
      sharedSecret: { productKey: hub.key, productSecret: hub.secret },
      identifier: `bench-${index}`,
      kv,
      logger: silentLogger,
      connectWaitForNetwork: false,
      fwup: { publicKeys: ["3Fjc1OK5F0e0j2z6bI5w3Yb6kQm8bR0bZz3u0eSWx1U="] },
      compress: false,
    }),
  );
}
while (!clients.every((client) => client.connected()))
  await new Promise((resolve) => setTimeout(resolve, 50));
const connectSeconds = (performance.now() - startedAt) / 1000;
await settle();
const after = process.memoryUsage();
const perClient =
  (after.heapUsed +
    after.external +
    after.arrayBuffers -
    (before.heapUsed + before.external + before.arrayBuffers)) /
  CLIENTS;
const rssPerClient = (after.rss - before.rss) / CLIENTS;

// Throughput through one channel, counted where it lands.
const sender = clients[0]!;
await ask({ type: "count", identifier: "bench-0", expected: MESSAGES });
const sendStart = performance.now();
for (let index = 0; index < MESSAGES; index++) {
  sender.sendUpdateStatus("started", { downloader_network_interface: "eth0" });
  if (index % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
}
const { elapsedMs } = await ask<{ elapsedMs: number }>({ type: "wait" });
const rate = MESSAGES / (Math.max(elapsedMs, performance.now() - sendStart) / 1000);

console.log(
  `# @hublink/client, Node ${process.version}, ${cpus()[0]?.model ?? "cpu"} x${cpus().length}`,
);
console.log(
  `connect + NH1 sign + join, ${CLIENTS} clients: ${Math.round(CLIENTS / connectSeconds)} clients/s`,
);
console.log(
  `memory per connected client (heap + external, ${CLIENTS} clients): ${Math.round(perClient).toLocaleString("en")} bytes`,
);
console.log(
  `RSS per connected client (${CLIENTS} clients): ${Math.round(rssPerClient).toLocaleString("en")} bytes`,
);
console.log(
  `device → hub through one channel (status_update, received by the hub): ${Math.round(rate).toLocaleString("en")} messages/s`,
);

await Promise.all(clients.map((client) => client.stop()));
await ask({ type: "stop" });
child.disconnect();
