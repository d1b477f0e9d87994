// @runtime/kv benchmarks: parse and write times for a 128 KiB redundant U-Boot environment,
// compared in the same run with libubootenv's fw_printenv / fw_setenv reading and writing the same
// image. Prints one line per figure. Run with `pnpm --filter @runtime/kv bench`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  encodeEnvBlock,
  entriesToRecords,
  readEnvBlocks,
  recordsToEntries,
} from "../src/env-codec.js";
import { formatFwEnvConfig, serializeEnvBlock, ubootEnv } from "../src/index.js";

const SIZE = 128 * 1024;
const DURATION_MS = Number(process.env.BENCH_MS ?? 1_000);

/** Median milliseconds per call of `step`, over batches run for about DURATION_MS. */
async function measure(step: () => unknown): Promise<number> {
  for (let i = 0; i < 5; i++) await step();
  const samples: number[] = [];
  const deadline = performance.now() + DURATION_MS;
  while (performance.now() < deadline || samples.length < 5) {
    const start = performance.now();
    await step();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const ms = (value: number) => `${value.toFixed(3)} ms`;

/** A typical Nerves environment: two slots of metadata and a few globals (about 2 KiB). */
function typicalEnvironment(): Record<string, string> {
  const entries: Record<string, string> = {
    nerves_fw_active: "a",
    nerves_fw_devpath: "/dev/mmcblk0",
    nerves_serial_number: "0123456789abcdef",
    upgrade_available: "0",
    bootcount: "1",
    bootlimit: "3",
  };
  for (const slot of ["a", "b"]) {
    for (const [key, value] of Object.entries({
      application_part0_devpath: "/dev/mmcblk0p3",
      application_part0_fstype: "f2fs",
      application_part0_target: "/root",
      architecture: "aarch64",
      author: "The Nerves Team",
      description: "Thermostat firmware",
      platform: "rpi4",
      product: "thermostat",
      version: "1.4.2",
      vcs_identifier: "bdeead38a1b2c3d4e5f60718293a4b5c6d7e8f90",
      misc: "built on ci-42",
      uuid: "8a8b902c-d1a9-58aa-6111-04ab57c2f2a8",
      validated: "1",
    })) {
      entries[`${slot}.nerves_fw_${key}`] = value;
    }
  }
  for (let i = 0; i < 30; i++)
    entries[`bootarg_${i}`] = `console=ttyS0,115200 root=/dev/mmcblk0p${i}`;
  return entries;
}

/** An environment that nearly fills the 128 KiB block (about 1,500 variables). */
function fullEnvironment(): Record<string, string> {
  const entries: Record<string, string> = {};
  let bytes = 1;
  for (let i = 0; bytes < SIZE - 5 - 200; i++) {
    const key = `variable_${i.toString().padStart(5, "0")}`;
    const value = `value ${i} `.repeat(6);
    entries[key] = value;
    bytes += key.length + value.length + 2;
  }
  return entries;
}

function hasTool(name: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  console.log(
    `# @runtime/kv, Node ${process.version}, ${cpu} x${cpus().length}, ${SIZE / 1024} KiB redundant environment`,
  );
  const dir = mkdtempSync(join(tmpdir(), "kv-bench-"));
  try {
    for (const [name, entries] of [
      ["typical (2 KiB of data)", typicalEnvironment()],
      ["full (~127 KiB of data)", fullEnvironment()],
    ] as const) {
      const count = Object.keys(entries).length;
      const first = serializeEnvBlock(entries, { size: SIZE, layout: "redundant", flag: 7 });
      const second = serializeEnvBlock(entries, { size: SIZE, layout: "redundant", flag: 6 });

      const parse = await measure(() =>
        recordsToEntries(
          readEnvBlocks([first, second], { layout: "redundant", size: SIZE }).records,
        ),
      );
      console.log(`parse, ${name}, ${count} vars (both CRCs + decode): ${ms(parse)} (goal < 2 ms)`);

      const records = entriesToRecords(entries);
      const serialize = await measure(() =>
        encodeEnvBlock(records, { size: SIZE, layout: "redundant", flag: 8 }),
      );
      console.log(`serialize, ${name}: ${ms(serialize)}`);

      const image = join(dir, "disk.img");
      writeFileSync(image, Buffer.concat([first, second]));
      const locations = [
        { path: image, offset: 0, size: SIZE },
        { path: image, offset: SIZE, size: SIZE },
      ];
      const config = join(dir, "fw_env.config");
      writeFileSync(config, formatFwEnvConfig(locations));
      const backend = ubootEnv({ locations });

      const load = await measure(() => backend.load());
      console.log(`load from file (read 2 copies + parse), ${name}: ${ms(load)}`);

      let counter = 0;
      const write = await measure(() =>
        backend.update(new Map([["bench_counter", String(counter++)]])),
      );
      console.log(
        `write one variable (re-read, merge, serialize, pwrite, fsync), ${name}: ${ms(write)}`,
      );

      if (hasTool("fw_printenv") && hasTool("fw_setenv")) {
        const printenv = await measure(() =>
          execFileSync("fw_printenv", ["-c", config], { stdio: ["ignore", "pipe", "ignore"] }),
        );
        console.log(
          `reference: fw_printenv -c, same image (includes starting its process), ${name}: ${ms(printenv)} (fw_printenv / our load: ${(printenv / load).toFixed(1)})`,
        );
        const setenv = await measure(() =>
          execFileSync("fw_setenv", ["-c", config, "bench_counter", String(counter++)], {
            stdio: "ignore",
          }),
        );
        console.log(
          `reference: fw_setenv -c one variable, same image (includes starting its process), ${name}: ${ms(setenv)} (fw_setenv / our write: ${(setenv / write).toFixed(1)})`,
        );
      } else {
        console.log("reference: fw_printenv / fw_setenv not installed; no comparison");
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
