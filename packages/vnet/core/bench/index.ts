// @vnet/core benchmarks, against real Linux (root): the engine runs in a network namespace,
// as in the integration tests. One line per figure.
//
//   pnpm --filter @vnet/core bench
//
// 1. configure() → `lan` over a veth with udhcpd, minus a raw `busybox udhcpc` lease measured
//    in the same run, same namespace, same server (goal: overhead < 50 ms).
// 2. Loss of Internet: from the uplink going dark to `lan` (goal: <= 5 s).
// 3. Engine RSS with 8 configured interfaces (static + gateway, checkers probing).
import { cpus, release } from "node:os";
import { join } from "node:path";
import { Lab, startUdhcpd, waitFor } from "@testing/netlab";
import { startEngine } from "../test/integration/fixtures/engine.js";
import { InternetStandIn } from "../test/integration/fixtures/internet-stand-in.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const LOSS_ROUNDS = Number(process.env.BENCH_LOSS_ROUNDS ?? 5);
const ONLY = process.env.BENCH_ONLY ?? "all";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Ends the run early (BENCH_ONLY) through the lab's cleanup. */
class Done extends Error {}

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

if (process.getuid?.() !== 0) {
  console.log("# @vnet/core bench needs root (network namespaces); skipped");
  process.exit(0);
}

console.log(
  `# @vnet/core, Node ${process.version}, ${cpus()[0]?.model.trim() ?? "unknown CPU"} x${cpus().length}, Linux ${release()}`,
);

const lab = await Lab.create("vnet-core-bench");
try {
  const isp = await lab.namespace("isp");
  const device = await lab.namespace("device");
  await lab.veth(isp, "eth0", device, "eth0");
  await isp.addAddress("eth0", "10.88.0.1/24");
  await startUdhcpd(isp, {
    interface: "eth0",
    start: "10.88.0.100",
    end: "10.88.0.150",
    router: "10.88.0.1",
    dns: ["10.88.0.1"],
  });
  const internet = await InternetStandIn.start(isp, "203.0.113.10", 8080);
  const tmpDir = join(lab.dir, "vnet");
  const engine = await startEngine(device, {
    tmpDir,
    resolvConfPath: join(lab.dir, "resolv.conf"),
    persistenceDir: null,
    internetHosts: [{ host: internet.address, port: internet.port }],
  });
  const dhcp = { type: "lab", ipv4: { method: "dhcp" } } as const;
  const off = { type: "null" } as const;

  async function deconfigure(): Promise<void> {
    await engine.configure("eth0", off, false);
    await engine.waitForValue("interface/eth0/state", "configured");
    await engine.waitForValue("interface/eth0/type", "null");
  }

  // Warm-up: first lease, code paths loaded.
  await engine.configure("eth0", dhcp, false);
  await engine.waitForValue("interface/eth0/connection", "internet");

  // 1. configure() → lan, against the raw client, interleaved.
  const engineTimes: number[] = [];
  const rawTimes: number[] = [];
  const rawWithLinkTimes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await deconfigure();
    engineTimes.push(await engine.measure("eth0", dhcp, "interface/eth0/connection", "lan"));
    await deconfigure();
    // Raw: link up with carrier first (the engine's time includes bringing the link up).
    await device.setLink("eth0", "up");
    await waitFor(async () => (await device.linkInfo("eth0")).lowerUp || undefined, {
      timeoutMs: 10_000,
      description: "carrier",
    });
    const raw = await engine.run([
      "busybox",
      "udhcpc",
      "-f",
      "-q",
      "-n",
      "-i",
      "eth0",
      "-s",
      join(tmpDir, "notify.sh"),
    ]);
    if (raw.exitCode !== 0) throw new Error(`raw udhcpc failed: ${raw.stderr}`);
    rawTimes.push(raw.ms);
    await device.ip(["link", "set", "eth0", "down"]);
    // Raw, the same work as the engine: bring the link up, then lease (one shell, timed inside).
    const rawWithLink = await engine.run([
      "sh",
      "-c",
      `ip link set eth0 up && exec busybox udhcpc -f -q -n -i eth0 -s ${join(tmpDir, "notify.sh")}`,
    ]);
    if (rawWithLink.exitCode !== 0) throw new Error(`raw udhcpc failed: ${rawWithLink.stderr}`);
    rawWithLinkTimes.push(rawWithLink.ms);
    await device.ip(["link", "set", "eth0", "down"]);
  }
  const overhead = median(engineTimes) - median(rawTimes);
  console.log(
    `configure() → lan over veth with udhcpd: median ${fmt(median(engineTimes))} (min ${fmt(Math.min(...engineTimes))}, ${ROUNDS} rounds)`,
  );
  console.log(
    `raw busybox udhcpc lease, same run: median ${fmt(median(rawTimes))} (min ${fmt(Math.min(...rawTimes))})`,
  );
  console.log(
    `raw link up + busybox udhcpc lease, same run: median ${fmt(median(rawWithLinkTimes))} (min ${fmt(Math.min(...rawWithLinkTimes))})`,
  );
  console.log(`engine overhead (difference of medians): ${fmt(overhead)} (goal < 50 ms)`);
  console.log(
    `engine overhead vs link up + lease: ${fmt(median(engineTimes) - median(rawWithLinkTimes))}`,
  );

  if (ONLY === "lan") {
    await engine.stop();
    throw new Done();
  }
  // 2. Loss of Internet.
  await engine.configure("eth0", dhcp, false);
  const detections: number[] = [];
  for (let round = 0; round < LOSS_ROUNDS; round++) {
    await engine.waitForValue("interface/eth0/connection", "internet", 30_000);
    // A random moment within the probe interval, not always right after a probe.
    await new Promise((resolve) => setTimeout(resolve, 500 + Math.random() * 1_000));
    await internet.stop();
    await engine.waitForValue("interface/eth0/connection", "lan", 30_000);
    const lanAt = engine.history.get("interface/eth0/connection")!.at(-1)!.at;
    detections.push(lanAt - internet.darkAt);
    await internet.start();
  }
  console.log(
    `loss of Internet → lan: median ${fmt(median(detections))}, max ${fmt(Math.max(...detections))} (${LOSS_ROUNDS} rounds; goal <= 5000 ms)`,
  );
  await engine.stop();

  // 3. RSS with 8 configured interfaces.
  const hub = await lab.namespace("hub");
  const multi = await lab.namespace("multi");
  for (let index = 0; index < 8; index++) {
    await lab.veth(hub, `p${index}`, multi, `eth${index}`);
    await hub.addAddress(`p${index}`, `10.90.${index}.1/24`);
  }
  const hubInternet = await InternetStandIn.start(hub, "203.0.113.20", 8080);
  const many = await startEngine(multi, {
    tmpDir: join(lab.dir, "vnet-multi"),
    resolvConfPath: join(lab.dir, "resolv-multi.conf"),
    persistenceDir: null,
    internetHosts: [{ host: hubInternet.address, port: hubInternet.port }],
  });
  const idle = await many.memory();
  for (let index = 0; index < 8; index++) {
    await many.configure(
      `eth${index}`,
      {
        type: "lab",
        ipv4: {
          method: "static",
          address: `10.90.${index}.2`,
          prefix_length: 24,
          gateway: `10.90.${index}.1`,
        },
      },
      false,
    );
  }
  for (let index = 0; index < 8; index++) {
    await many.waitForValue(`interface/eth${index}/connection`, "internet", 30_000);
  }
  await new Promise((resolve) => setTimeout(resolve, 5_000)); // steady state: checkers probing
  const busy = await many.memory();
  console.log(
    `engine RSS with 8 configured interfaces (internet, checkers probing): ${mib(busy.rss)} (idle engine, no interfaces: ${mib(idle.rss)}; heap used ${mib(busy.heapUsed)}; Node + tsx loader included)`,
  );
  await many.stop();
} catch (error) {
  if (!(error instanceof Done)) throw error;
} finally {
  await lab.destroy();
}
