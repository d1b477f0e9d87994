// Round trips between @runtime/kv and the real U-Boot tools on file-backed environment images:
// mkenvimage (u-boot-tools) and fw_printenv / fw_setenv -c CONFIG (libubootenv-tool). They need
// no root themselves; describeIntegration gates them like every integration test here (skip with
// a reason, or fail under REQUIRE_INTEGRATION=1 when the tools are missing).
import { spawn } from "node:child_process";
import { copyFile, readFile, truncate, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { crc32 } from "node:zlib";
import { describeIntegration } from "@testing/netlab";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  decodeEnvBlock,
  type EnvLocation,
  KV,
  planEnvWrite,
  serializeEnvBlock,
  ubootEnv,
} from "../../src/index.js";
import {
  fwPrintenv,
  fwSetenv,
  mkenvimage,
  testRunner,
  type Workspace,
  workspace,
  writeConfig,
} from "./helpers.js";

describeIntegration(
  "@runtime/kv with the real U-Boot tools",
  { tools: ["mkenvimage", "fw_printenv", "fw_setenv"] },
  () => {
    const runner = testRunner();
    let space: Workspace;
    beforeEach(async () => {
      space = await workspace("uboot-tools");
    });
    afterEach(async () => {
      await space.cleanup();
    });

    const SOURCES_TSCONFIG = fileURLToPath(
      new URL("../../../../../tsconfig.sources.json", import.meta.url),
    );

    const FIRMWARE = {
      nerves_fw_active: "a",
      "a.nerves_fw_version": "1.4.2",
      "a.nerves_fw_product": "Thermostat",
      "a.nerves_fw_author": "Jöhn Døe",
      bootcmd: "run distro_bootcmd; echo a=b",
      nerves_serial_number: "SN-0001",
    };

    interface Layout {
      name: string;
      size: number;
      redundant: boolean;
      /** Both copies in one file at two offsets (like Nerves on an eMMC) or in two files. */
      oneFile: boolean;
    }

    const LAYOUTS: Layout[] = [
      { name: "single 8 KiB", size: 0x2000, redundant: false, oneFile: true },
      { name: "single 128 KiB", size: 0x20000, redundant: false, oneFile: true },
      { name: "redundant 8 KiB in one file", size: 0x2000, redundant: true, oneFile: true },
      { name: "redundant 16 KiB in two files", size: 0x4000, redundant: true, oneFile: false },
      { name: "redundant 128 KiB in one file", size: 0x20000, redundant: true, oneFile: true },
    ];

    /** Builds the image(s) with mkenvimage and returns the locations and a config for the tools. */
    async function imageFor(layout: Layout, entries: Record<string, string>) {
      const block = space.path("block.bin");
      await mkenvimage(runner, space, entries, {
        size: layout.size,
        redundant: layout.redundant,
        output: block,
      });
      const bytes = await readFile(block);
      let locations: EnvLocation[];
      if (!layout.redundant) {
        // 4 KiB of something else before the environment, as on a real disk.
        const path = space.path("disk.img");
        await writeFile(path, Buffer.concat([Buffer.alloc(0x1000, 0x11), bytes]));
        locations = [{ path, offset: 0x1000, size: layout.size }];
      } else if (layout.oneFile) {
        const path = space.path("disk.img");
        await writeFile(path, Buffer.concat([Buffer.alloc(0x1000, 0x11), bytes, bytes]));
        locations = [
          { path, offset: 0x1000, size: layout.size },
          { path, offset: 0x1000 + layout.size, size: layout.size },
        ];
      } else {
        await copyFile(block, space.path("env1.bin"));
        await copyFile(block, space.path("env2.bin"));
        locations = [
          { path: space.path("env1.bin"), offset: 0, size: layout.size },
          { path: space.path("env2.bin"), offset: 0, size: layout.size },
        ];
      }
      const config = await writeConfig(space, locations);
      return { locations, config };
    }

    describe.each(LAYOUTS)("U-Boot tools round trips: $name", (layout) => {
      it("reads what mkenvimage wrote", async () => {
        const { config } = await imageFor(layout, FIRMWARE);
        const kv = await KV.open({ backend: ubootEnv({ config }) });
        expect(kv.getAll()).toEqual(FIRMWARE);
        expect(kv.getActive("nerves_fw_version")).toBe("1.4.2");
      });

      it("fw_printenv reads what we write", async () => {
        const { config } = await imageFor(layout, FIRMWARE);
        const kv = await KV.open({ backend: ubootEnv({ config }) });
        await kv.put({ "a.nerves_fw_version": "1.5.0", new_key: "with = and spaces", "b.x": "ü" });
        await kv.delete("bootcmd");
        const expected = {
          ...FIRMWARE,
          "a.nerves_fw_version": "1.5.0",
          new_key: "with = and spaces",
          "b.x": "ü",
        };
        delete (expected as Record<string, string>).bootcmd;
        expect(await fwPrintenv(runner, config)).toEqual(expected);
      });

      it("we read what fw_setenv writes, and each keeps the other's changes", async () => {
        const { config } = await imageFor(layout, FIRMWARE);
        const kv = await KV.open({ backend: ubootEnv({ config }) });
        const expected: Record<string, string> = { ...FIRMWARE };
        for (let round = 0; round < 6; round++) {
          await fwSetenv(runner, space, config, {
            [`tool_${round}`]: `t${round}`,
            upgrade_available: String(round % 2),
          });
          expected[`tool_${round}`] = `t${round}`;
          expected.upgrade_available = String(round % 2);
          await kv.reload();
          expect(kv.getAll()).toEqual(expected);
          await kv.put(`ours_${round}`, `o${round}`);
          expected[`ours_${round}`] = `o${round}`;
          expect(await fwPrintenv(runner, config)).toEqual(expected);
        }
      });

      it("refuses an environment larger than its block; the tools still read the old one", async () => {
        const { config, locations } = await imageFor(layout, FIRMWARE);
        const before = await readFile(locations[0]!.path);
        const kv = await KV.open({ backend: ubootEnv({ config }) });
        await expect(kv.put("huge", "x".repeat(layout.size))).rejects.toMatchObject({
          code: "ENV_TOO_LARGE",
        });
        expect(await readFile(locations[0]!.path)).toEqual(before);
        expect(await fwPrintenv(runner, config)).toEqual(FIRMWARE);
      });
    });

    /** A redundant image (one file, two copies) whose copies we build by hand, CRC and all. */
    async function handMadeRedundant(
      first: { text: string; flag: number },
      second: { text: string; flag: number },
      size = 0x2000,
    ) {
      const block = ({ text, flag }: { text: string; flag: number }) => {
        const bytes = Buffer.alloc(size, 0xff);
        bytes[4] = flag;
        bytes.write(text, 5, "latin1");
        bytes.writeUInt32LE(crc32(bytes.subarray(5)) >>> 0, 0);
        return bytes;
      };
      const path = space.path("hand.img");
      await writeFile(path, Buffer.concat([block(first), block(second)]));
      const locations = [
        { path, offset: 0, size },
        { path, offset: size, size },
      ];
      return { path, locations, config: await writeConfig(space, locations) };
    }

    describe("redundant copies, against fw_printenv", () => {
      it("chooses the same copy as fw_printenv for every flag pair it was shown", async () => {
        const pairs = [
          [1, 2],
          [2, 1],
          [5, 5],
          [254, 255],
          [255, 0],
          [0, 255],
          [0, 1],
          [10, 200],
          [200, 10],
          [127, 0],
          [0, 128],
          [128, 0],
          [1, 129],
          [129, 1],
        ] as const;
        for (const [a, b] of pairs) {
          const { config } = await handMadeRedundant(
            { text: "who=first\0\0", flag: a },
            { text: "who=second\0\0", flag: b },
          );
          const theirs = (await fwPrintenv(runner, config)).who;
          const ours = (await ubootEnv({ config }).load()).who;
          expect({ flags: [a, b], ours }).toEqual({ flags: [a, b], ours: theirs });
        }
      });

      it("survives a corrupt copy like fw_printenv does, and the next write repairs it", async () => {
        for (const corrupt of [0, 1]) {
          const { path, config } = await handMadeRedundant(
            { text: "who=first\0\0", flag: 7 },
            { text: "who=second\0\0", flag: 8 },
          );
          const bytes = await readFile(path);
          bytes[corrupt * 0x2000 + 100] = bytes[corrupt * 0x2000 + 100]! ^ 0x55;
          await writeFile(path, bytes);
          const survivor = corrupt === 0 ? "second" : "first";
          expect((await fwPrintenv(runner, config)).who).toBe(survivor);
          const backend = ubootEnv({ config });
          expect(await backend.read()).toMatchObject({
            entries: { who: survivor },
            copy: 1 - corrupt,
          });
          // The write goes over the corrupt copy, never the good one.
          await backend.update(new Map([["who", "repaired"]]));
          const after = await backend.read();
          expect(after).toMatchObject({
            copy: corrupt,
            copies: [{ valid: true }, { valid: true }],
          });
          expect((await fwPrintenv(runner, config)).who).toBe("repaired");
        }
      });

      it("wraps the flag past 255, alternating writes with fw_setenv, and both always agree", async () => {
        const { locations, config } = await handMadeRedundant(
          { text: "n=0\0\0", flag: 240 },
          { text: "n=0\0\0", flag: 239 },
        );
        const backend = ubootEnv({ locations });
        const flags: number[] = [];
        for (let n = 1; n <= 40; n++) {
          if (n % 2) await backend.update(new Map([["n", String(n)]]));
          else await fwSetenv(runner, space, config, { n: String(n) });
          const read = await backend.read();
          flags.push(read.flag!);
          expect(read.entries.n).toBe(String(n));
          expect((await fwPrintenv(runner, config)).n).toBe(String(n));
        }
        // Every write advanced the flag by one, through 255 → 0.
        expect(flags.slice(0, 18)).toEqual([
          241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255, 0, 1, 2,
        ]);
      });

      it("reads fw_env.config numbers the way fw_printenv does (size always hex, octal offsets)", async () => {
        const path = space.path("odd.img");
        const env = serializeEnvBlock({ where: "here" }, { size: 0x2000, layout: "single" });
        await writeFile(path, Buffer.concat([Buffer.alloc(16, 0), env]));
        const config = space.path("odd.config");
        await writeFile(config, `${path} 020 2000\n`);
        expect(await fwPrintenv(runner, config)).toEqual({ where: "here" });
        expect(await ubootEnv({ config, logger: { warn: () => {} } }).load()).toEqual({
          where: "here",
        });
      });
    });

    describe("power cuts", () => {
      it("redundant: a write torn at any point leaves the previous environment readable by both", async () => {
        const size = 0x2000;
        const { path, locations, config } = await handMadeRedundant(
          { text: "version=1.0\0\0", flag: 4 },
          { text: "version=1.1\0\0", flag: 5 },
          size,
        );
        const pristine = await readFile(path);
        const copies = [0, 1].map((index) =>
          decodeEnvBlock(pristine.subarray(index * size, (index + 1) * size), "redundant"),
        );
        const plan = planEnvWrite(copies, "redundant");
        expect(plan).toEqual({ copy: 0, flag: 6 });
        const next = serializeEnvBlock(
          { version: "2.0", note: "x".repeat(3000) },
          { size, layout: "redundant", flag: 6 },
        );
        // Cut the write after N bytes: the medium keeps the old bytes of the rest of that copy.
        // Until the new data is complete (header + data) only the old environment can be valid;
        // after that the rest is identical 0xFF padding and the new block may already be whole.
        const dataEnd = 5 + 3000 + "note=".length + "\0version=2.0\0\0".length;
        for (const cut of [1, 4, 5, 6, 64, 512, 2000, 3000, dataEnd - 1, dataEnd, 4096, size - 1]) {
          const image = Buffer.from(pristine);
          next.copy(image, locations[plan.copy]!.offset, 0, cut);
          await writeFile(path, image);
          const expected = cut < dataEnd ? "1.1" : "2.0";
          expect({ cut, theirs: (await fwPrintenv(runner, config)).version }).toEqual({
            cut,
            theirs: expected,
          });
          expect({ cut, ours: (await ubootEnv({ config }).load()).version }).toEqual({
            cut,
            ours: expected,
          });
        }
      });

      it("redundant: an image truncated in the middle of the newer copy reads the older one", async () => {
        const size = 0x2000;
        const { path, config } = await handMadeRedundant(
          { text: "version=1.0\0\0", flag: 4 },
          { text: "version=1.1\0\0", flag: 5 },
          size,
        );
        // The file ends half-way through copy 1 (as if the writer died while extending the file).
        await truncate(path, size + size / 2);
        const read = await ubootEnv({ config }).read();
        expect(read).toMatchObject({ entries: { version: "1.0" }, copy: 0 });
        expect(read.copies[1]).toEqual({
          valid: false,
          reason: `short: ${size / 2} of ${size} bytes`,
        });
        // libubootenv treats the short read as an I/O error and gives up on both copies (a real
        // block device cannot be short; an image file can). Our next write fills copy 1 again.
        await expect(runner.run(["fw_printenv", "-c", config])).rejects.toMatchObject({
          code: "EXIT_STATUS",
        });
        await ubootEnv({ config }).update(new Map([["version", "1.2"]]));
        expect((await fwPrintenv(runner, config)).version).toBe("1.2");
      });

      it("redundant: SIGKILL of a process mid-write never leaves an unreadable environment", async () => {
        const size = 0x20000;
        const { locations, config } = await handMadeRedundant(
          { text: "counter=0\0\0", flag: 1 },
          { text: "counter=0\0\0", flag: 0 },
          size,
        );
        // A separate Node process writes as fast as it can through the real backend, each write a
        // new counter plus 64 KiB of filler so every write is large; after each acknowledged write
        // it prints the counter. We SIGKILL it at random moments.
        const writer = `
        import { KV, ubootEnv } from ${JSON.stringify(new URL("../../src/index.ts", import.meta.url).pathname)};
        const kv = await KV.open({ backend: ubootEnv({ locations: ${JSON.stringify(locations)} }) });
        let counter = Number(kv.get("counter"));
        for (;;) {
          counter++;
          await kv.put({ counter: String(counter), filler: String(counter % 10).repeat(65536) });
          process.stdout.write(counter + "\\n");
        }
      `;
        for (let round = 0; round < 6; round++) {
          const child = spawn(
            process.execPath,
            ["--import", "tsx", "--input-type=module", "-e", writer],
            {
              stdio: ["ignore", "pipe", "inherit"],
              // Workspace packages resolve to their sources, so no build is needed first.
              env: { ...process.env, TSX_TSCONFIG_PATH: SOURCES_TSCONFIG },
            },
          );
          let acknowledged = -1;
          const target = 3 + Math.floor(Math.random() * 20);
          await new Promise<void>((resolve) => {
            let buffered = "";
            child.stdout.on("data", (data: Buffer) => {
              buffered += data.toString();
              const lines = buffered.split("\n");
              buffered = lines.pop() ?? "";
              for (const line of lines) acknowledged = Number(line);
              if (acknowledged >= target) {
                child.kill("SIGKILL");
                resolve();
              }
            });
          });
          await new Promise((resolve) => child.once("exit", resolve));
          const ours = await ubootEnv({ config }).load();
          const theirs = await fwPrintenv(runner, config);
          expect(theirs.counter).toBe(ours.counter);
          const counter = Number(ours.counter);
          // The last acknowledged write is there, or the one after it (killed after its fsync).
          expect([acknowledged, acknowledged + 1]).toContain(counter);
          expect(ours.filler).toBe(String(counter % 10).repeat(65536));
        }
      });

      it("single: a torn write loses the only copy; both tools see that; replaceAll recovers", async () => {
        const size = 0x2000;
        const path = space.path("single.img");
        await writeFile(
          path,
          serializeEnvBlock({ version: "1.0", serial: "SN" }, { size, layout: "single" }),
        );
        const locations = [{ path, offset: 0, size }];
        const config = await writeConfig(space, locations);
        const kv = await KV.open({ backend: ubootEnv({ config }) });
        // The write is cut after the new CRC and the first bytes of data reached the medium.
        const next = serializeEnvBlock(
          { version: "2.0", serial: "SN" },
          { size, layout: "single" },
        );
        const image = await readFile(path);
        next.copy(image, 0, 0, 8);
        await writeFile(path, image);
        // fw_printenv exits non-zero ("Cannot read environment, using default").
        await expect(runner.run(["fw_printenv", "-c", config])).rejects.toMatchObject({
          code: "EXIT_STATUS",
          stderr: expect.stringMatching(/Cannot read environment/),
        });
        await expect(kv.reload()).rejects.toMatchObject({ code: "ENV_NO_VALID_COPY" });
        await expect(kv.put("x", "1")).rejects.toMatchObject({ code: "ENV_NO_VALID_COPY" });
        // The cache still holds what was last read: write it back.
        await kv.replaceAll(kv.getAll());
        expect(await fwPrintenv(runner, config)).toEqual({ version: "1.0", serial: "SN" });
      });
    });
  },
);
