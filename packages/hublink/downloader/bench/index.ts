// @hublink/downloader benchmarks, all in one run against one nginx on loopback. Prints one line
// per figure. Run with `pnpm --filter @hublink/downloader bench` (needs nginx and curl).
//
// - throughput of a 1 GiB file: curl -o /dev/null, undici's bare dispatch (the transport floor)
//   and this downloader, interleaved and repeated because the machine is shared;
// - peak RSS growth for 100 MiB and 1 GiB, each measured in a fresh child process;
// - bytes downloaded twice after 10 injected drops (fault-injecting server).
import { createHash } from "node:crypto";
import { open, rm } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { join } from "node:path";
import { createCommandRunner } from "@runtime/command";
import { download } from "../src/index.js";
import { FaultServer, patternBytes } from "../test/support/fault-server.js";
import { startNginx } from "../test/support/nginx.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;
const sourcesTsconfig = new URL("../../../../tsconfig.sources.json", import.meta.url).pathname;
const runner = createCommandRunner({ timeoutMs: 600_000 });

interface ChildFigures {
  bytes: number;
  milliseconds: number;
  baselineRss: number;
  peakRss: number;
}

const mbps = (bytes: number, milliseconds: number) => bytes / milliseconds / 1000;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const fixed = (value: number, digits = 0) =>
  value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Writes `size` bytes of verifiable content (1 MiB random block, each copy stamped with its index). */
async function generate(path: string, size: number): Promise<string> {
  const block = patternBytes(MiB, 5);
  const hash = createHash("sha256");
  const handle = await open(path, "w", 0o644);
  try {
    for (let index = 0; index * MiB < size; index++) {
      block.writeBigUInt64BE(BigInt(index), 0);
      const piece = block.subarray(0, Math.min(MiB, size - index * MiB));
      hash.update(piece);
      await handle.write(piece);
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

async function child(script: string, args: string[]): Promise<ChildFigures> {
  const { stdout } = await runner.run(
    [process.execPath, "--import", "tsx", new URL(script, import.meta.url).pathname, ...args],
    { env: { TSX_TSCONFIG_PATH: sourcesTsconfig } },
  );
  const line = stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as ChildFigures;
}

async function curl(url: string): Promise<ChildFigures> {
  const { stdout } = await runner.run([
    "curl",
    "-s",
    "-o",
    "/dev/null",
    "-w",
    "%{size_download} %{time_total}",
    url,
  ]);
  const [size, seconds] = stdout.trim().split(" ").map(Number);
  return { bytes: size ?? 0, milliseconds: (seconds ?? 0) * 1000, baselineRss: 0, peakRss: 0 };
}

async function redownloadedAfterDrops(reset: boolean): Promise<{ extra: number; size: number }> {
  const size = 64 * MiB;
  const content = patternBytes(size, 9);
  const server = await FaultServer.start();
  try {
    server.setResource("/f", { content });
    server.script(
      "/f",
      Array.from({ length: 10 }, (_, index) => ({
        kind: "serve" as const,
        dropAt: Math.floor((size * (index + 1)) / 11),
        reset,
      })),
    );
    const job = download(server.url("/f"), {
      sha256: createHash("sha256").update(content).digest("hex"),
      retry: { timeBetweenRetries: 0, maxDisconnects: 20 },
    });
    let bytes = 0;
    for await (const chunk of job) bytes += chunk.length;
    if (bytes !== size || server.requests.length !== 11) {
      throw new Error(`drop benchmark: ${bytes} bytes in ${server.requests.length} requests`);
    }
    return { extra: server.bodyBytesSent() - size, size };
  } finally {
    await server.close();
  }
}

const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
console.log(
  `# @hublink/downloader, Node ${process.version}, ${cpu} x${cpus().length}, Linux ${release()}, load average ${loadavg()[0]?.toFixed(2)} at start`,
);

const nginx = await startNginx();
const work = join(tmpdir(), `downloader-bench-${process.pid}`);
try {
  const bigHash = await generate(join(nginx.root, "big.bin"), GiB);
  await generate(join(nginx.root, "mid.bin"), 100 * MiB);
  await generate(join(nginx.root, "warm.bin"), MiB);
  const big = nginx.url("/big.bin");
  const warm = nginx.url("/warm.bin");

  const curlRuns: ChildFigures[] = [];
  const floorRuns: ChildFigures[] = [];
  const ourRuns: ChildFigures[] = [];
  for (let run = 0; run < RUNS; run++) {
    curlRuns.push(await curl(big));
    floorRuns.push(await child("./transport-floor-child.ts", [big]));
    ourRuns.push(await child("./download-child.ts", [warm, big, "iterate"]));
  }
  for (const runs of [curlRuns, floorRuns, ourRuns]) {
    if (runs.some((figures) => figures.bytes !== GiB))
      throw new Error("a throughput run came up short");
  }
  const rates = (runs: ChildFigures[]) =>
    runs.map((figures) => mbps(figures.bytes, figures.milliseconds));
  const report = (name: string, runs: ChildFigures[]) => {
    const values = rates(runs);
    console.log(
      `throughput 1 GiB, ${name}: best ${fixed(Math.max(...values))} MB/s, median ${fixed(median(values))} MB/s (${RUNS} runs)`,
    );
  };
  report("curl -o /dev/null", curlRuns);
  report("undici dispatch, no-op handler (transport floor)", floorRuns);
  report("this downloader (async iterator)", ourRuns);
  const ratio = (of: ChildFigures[], to: ChildFigures[]) =>
    `${fixed(Math.max(...rates(of)) / Math.max(...rates(to)), 2)} best, ${fixed(median(rates(of)) / median(rates(to)), 2)} median`;
  console.log(
    `throughput ratio, this downloader / curl: ${ratio(ourRuns, curlRuns)} (goal >= 0.9)`,
  );
  console.log(`throughput ratio, this downloader / undici floor: ${ratio(ourRuns, floorRuns)}`);

  const growth = (runs: ChildFigures[]) =>
    median(runs.map((figures) => figures.peakRss - figures.baselineRss)) / MiB;
  const midRuns: ChildFigures[] = [];
  for (let run = 0; run < 3; run++)
    midRuns.push(await child("./download-child.ts", [warm, nginx.url("/mid.bin"), "iterate"]));
  console.log(
    `peak RSS growth (median): 100 MiB ${fixed(growth(midRuns), 1)} MiB, 1 GiB ${fixed(growth(ourRuns), 1)} MiB (goal: the same, < 32 MiB); undici floor 1 GiB ${fixed(growth(floorRuns), 1)} MiB`,
  );

  await rm(work, { recursive: true, force: true });
  const { mkdir } = await import("node:fs/promises");
  await mkdir(work, { recursive: true });
  const file = await child("./download-child.ts", [
    warm,
    big,
    "file",
    join(work, "big.bin"),
    bigHash,
  ]);
  console.log(
    `toFile 1 GiB with SHA-256 verified: ${fixed(mbps(file.bytes, file.milliseconds))} MB/s, peak RSS growth ${fixed((file.peakRss - file.baselineRss) / MiB, 1)} MiB`,
  );
  await rm(work, { recursive: true, force: true });

  for (const reset of [false, true]) {
    const { extra, size } = await redownloadedAfterDrops(reset);
    console.log(
      `re-downloaded after 10 injected drops (${reset ? "RST: unread socket data is lost" : "FIN"}): ${fixed(extra)} bytes of ${fixed(size / MiB)} MiB (goal: only what was in flight)`,
    );
  }
} finally {
  await nginx.stop();
  await rm(work, { recursive: true, force: true });
}
