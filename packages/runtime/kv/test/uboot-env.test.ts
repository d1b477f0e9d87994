// The U-Boot environment backend against image files in a temporary directory (no tools needed;
// the round trips with the real U-Boot tools are in test/integration).
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { ValidationError } from "@runtime/errors";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  EnvTooLargeError,
  KV,
  memory,
  serializeEnvBlock,
  UBootEnvError,
  ubootEnv,
} from "../src/index.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kv-uboot-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SIZE = 0x2000;

async function redundantImage(
  first: Record<string, string>,
  second: Record<string, string>,
  flags: [number, number],
) {
  const path = join(dir, "disk.img");
  await writeFile(
    path,
    Buffer.concat([
      Buffer.alloc(0x1000, 0), // something before the environment, like a partition table
      serializeEnvBlock(first, { size: SIZE, layout: "redundant", flag: flags[0] }),
      serializeEnvBlock(second, { size: SIZE, layout: "redundant", flag: flags[1] }),
      Buffer.alloc(0x1000, 0xaa), // something after it that must never be touched
    ]),
  );
  return {
    path,
    locations: [
      { path, offset: 0x1000, size: SIZE },
      { path, offset: 0x1000 + SIZE, size: SIZE },
    ],
  };
}

async function copies(path: string) {
  const bytes = await readFile(path);
  return [
    bytes.subarray(0x1000, 0x1000 + SIZE),
    bytes.subarray(0x1000 + SIZE, 0x1000 + 2 * SIZE),
  ] as const;
}

describe("ubootEnv reads", () => {
  it("reads the newer copy of a redundant environment and reports both", async () => {
    const { locations } = await redundantImage({ v: "old" }, { v: "new" }, [3, 4]);
    const read = await ubootEnv({ locations }).read();
    expect(read).toMatchObject({
      entries: { v: "new" },
      layout: "redundant",
      copy: 1,
      flag: 4,
      copies: [
        { valid: true, flag: 3 },
        { valid: true, flag: 4 },
      ],
    });
  });

  it("reads the locations from a fw_env.config", async () => {
    const { path } = await redundantImage({ v: "a" }, { v: "b" }, [9, 8]);
    const config = join(dir, "fw_env.config");
    await writeFile(config, `# test\n${path} 0x1000 0x2000\n${path} 0x3000 2000\n`);
    const logger = { warn: vi.fn() };
    const backend = ubootEnv({ config, logger });
    expect(await backend.load()).toEqual({ v: "a" });
    expect(backend.description).toBe(`U-Boot environment (${config})`);
    // The size without 0x is read as hex, like fw_printenv, and said once.
    expect(logger.warn).toHaveBeenCalledTimes(1);
    await backend.load();
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it("a missing config file is a typed error naming the path", async () => {
    const config = join(dir, "missing.config");
    const error = await ubootEnv({ config })
      .load()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UBootEnvError);
    expect(error).toMatchObject({ code: "ENV_CONFIG_UNREADABLE", path: config });
    expect((error as Error).message).toContain(`${config}: ENOENT`);
  });

  it("an invalid config is a ValidationError naming the line", async () => {
    const config = join(dir, "bad.config");
    await writeFile(config, "/dev/mmcblk0 0x100000\n");
    const error = await ubootEnv({ config })
      .load()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: "ENV_CONFIG_INVALID", path: `${config}:1` });
  });

  it("a missing or unreadable device is a typed error naming the path", async () => {
    const path = join(dir, "no-such-disk");
    const error = await ubootEnv({ locations: [{ path, offset: 0, size: SIZE }] })
      .load()
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "ENV_DEVICE_UNREADABLE", path });
    expect((error as Error).message).toMatch(/no-such-disk @ 0x0: ENOENT/);
  });

  it("an image shorter than the block, or erased, has no valid copy", async () => {
    const path = join(dir, "short.img");
    await writeFile(path, Buffer.alloc(100, 0xff));
    const error = await ubootEnv({ locations: [{ path, offset: 0, size: SIZE }] })
      .load()
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "ENV_NO_VALID_COPY" });
    expect((error as UBootEnvError).problems[0]?.reason).toBe("short: 100 of 8192 bytes");
  });

  it("survives one corrupt copy", async () => {
    const { path, locations } = await redundantImage({ v: "old" }, { v: "new" }, [3, 4]);
    const bytes = await readFile(path);
    bytes[0x1000 + SIZE + 100] = bytes[0x1000 + SIZE + 100]! ^ 0xff; // corrupt the newer copy
    await writeFile(path, bytes);
    expect(await ubootEnv({ locations }).load()).toEqual({ v: "old" });
  });
});

describe("ubootEnv writes", () => {
  it("merges into a fresh read and writes the older copy with the flag advanced, fsynced", async () => {
    const { path, locations } = await redundantImage(
      { v: "old", keep: "1" },
      { v: "new", keep: "2" },
      [3, 4],
    );
    const backend = ubootEnv({ locations });
    const before = await readFile(path);
    expect(await backend.update(new Map([["v", "newest"]]))).toEqual({ v: "newest", keep: "2" });
    const [first, second] = await copies(path);
    expect(first[4]).toBe(5);
    expect(second).toEqual(before.subarray(0x1000 + SIZE, 0x1000 + 2 * SIZE)); // untouched
    expect(await backend.read()).toMatchObject({
      copy: 0,
      flag: 5,
      entries: { v: "newest", keep: "2" },
    });
    // Bytes outside the environment are never touched.
    const after = await readFile(path);
    expect(after.subarray(0, 0x1000)).toEqual(before.subarray(0, 0x1000));
    expect(after.subarray(0x1000 + 2 * SIZE)).toEqual(before.subarray(0x1000 + 2 * SIZE));
    expect(after.length).toBe(before.length);
  });

  it("writes over a corrupt copy first, never over the only good one", async () => {
    const { path, locations } = await redundantImage({ v: "good" }, { v: "x" }, [200, 201]);
    const bytes = await readFile(path);
    bytes[0x1000 + SIZE + 40] = bytes[0x1000 + SIZE + 40]! ^ 1; // copy 1 (the newer) is corrupt
    await writeFile(path, bytes);
    await ubootEnv({ locations }).update(new Map([["v", "fixed"]]));
    const [first, second] = await copies(path);
    expect(first.readUInt32LE(0)).toBe(crc32(first.subarray(5)) >>> 0); // still the good old copy
    expect(second[4]).toBe(201);
    expect(await ubootEnv({ locations }).read()).toMatchObject({
      copy: 1,
      entries: { v: "fixed" },
    });
  });

  // 300 fsynced writes: seconds on a loaded machine.
  it("wraps the flag past 255 and keeps reading the newest copy", { timeout: 30_000 }, async () => {
    const { locations } = await redundantImage({ n: "0" }, { n: "0" }, [250, 250]);
    const backend = ubootEnv({ locations });
    for (let n = 1; n <= 300; n++) {
      await backend.update(new Map([["n", String(n)]]));
      const read = await backend.read();
      expect(read.entries.n).toBe(String(n));
      expect(read.flag).toBe((250 + n) & 0xff);
    }
  });

  it("deletes variables with null", async () => {
    const { locations } = await redundantImage({ a: "1", b: "2" }, { a: "1", b: "2" }, [1, 1]);
    expect(await ubootEnv({ locations }).update(new Map([["a", null]]))).toEqual({ b: "2" });
  });

  it("single layout: writes in place", async () => {
    const path = join(dir, "single.img");
    await writeFile(path, serializeEnvBlock({ a: "1" }, { size: SIZE, layout: "single" }));
    const backend = ubootEnv({ locations: [{ path, offset: 0, size: SIZE }] });
    await backend.update(new Map([["b", "2"]]));
    expect(await backend.read()).toMatchObject({
      layout: "single",
      copy: 0,
      flag: undefined,
      entries: { a: "1", b: "2" },
    });
    expect((await stat(path)).size).toBe(SIZE);
  });

  it("refuses an environment larger than its block before writing anything", async () => {
    const { path, locations } = await redundantImage({ a: "1" }, { a: "1" }, [1, 2]);
    const before = await readFile(path);
    const error = await ubootEnv({ locations })
      .update(new Map([["big", "x".repeat(SIZE)]]))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EnvTooLargeError);
    expect(error).toMatchObject({ code: "ENV_TOO_LARGE", capacity: SIZE - 5 });
    expect(await readFile(path)).toEqual(before);
  });

  it("refuses to merge into an environment with no valid copy; replace() recovers it", async () => {
    const path = join(dir, "corrupt.img");
    await writeFile(path, Buffer.alloc(SIZE, 0x00));
    const backend = ubootEnv({ locations: [{ path, offset: 0, size: SIZE }] });
    await expect(backend.update(new Map([["a", "1"]]))).rejects.toMatchObject({
      code: "ENV_NO_VALID_COPY",
    });
    expect(await backend.replace({ a: "1", b: "2" })).toEqual({ a: "1", b: "2" });
    expect(await backend.load()).toEqual({ a: "1", b: "2" });
  });

  it("replace() on a redundant environment never overwrites the newest good copy", async () => {
    const { locations } = await redundantImage({ v: "old" }, { v: "new" }, [7, 8]);
    const backend = ubootEnv({ locations });
    await backend.replace({ v: "replaced" });
    expect(await backend.read()).toMatchObject({ copy: 0, flag: 9, entries: { v: "replaced" } });
  });

  it("a read-only image is a typed write error naming the path", async () => {
    if (process.getuid?.() === 0) {
      // root ignores file permissions; use a path that cannot be opened for writing instead.
      const backend = ubootEnv({ locations: [{ path: "/proc/version", offset: 0, size: 64 }] });
      await expect(backend.replace({ a: "1" })).rejects.toMatchObject({
        code: "ENV_WRITE_FAILED",
        path: "/proc/version",
      });
      return;
    }
    const path = join(dir, "ro.img");
    await writeFile(path, serializeEnvBlock({ a: "1" }, { size: 64, layout: "single" }));
    await chmod(path, 0o444);
    await expect(
      ubootEnv({ locations: [{ path, offset: 0, size: 64 }] }).update(new Map([["a", "2"]])),
    ).rejects.toMatchObject({ code: "ENV_WRITE_FAILED", path });
  });

  it("keeps bytes of variables it does not change, even when they are not UTF-8", async () => {
    const path = join(dir, "latin1.img");
    const block = Buffer.alloc(64, 0xff);
    Buffer.from("name=J\xf6rg\0\0", "latin1").copy(block, 4);
    block.writeUInt32LE(crc32(block.subarray(4)) >>> 0, 0);
    await writeFile(path, block);
    const backend = ubootEnv({ locations: [{ path, offset: 0, size: 64 }] });
    await backend.update(new Map([["other", "ö"]]));
    const after = await readFile(path);
    expect(after.subarray(4, 24)).toEqual(
      Buffer.concat([Buffer.from("name=J\xf6rg\0", "latin1"), Buffer.from("other=ö\0\0", "utf8")]),
    );
  });
});

describe("KV over ubootEnv", () => {
  it("re-reads before every write, so changes made by other tools are kept", async () => {
    const { path, locations } = await redundantImage({ a: "1" }, { a: "1" }, [1, 1]);
    const kv = await KV.open({ backend: ubootEnv({ locations }) });
    // Another program (fw_setenv, fwup) writes copy 1 behind the store's back.
    const bytes = await readFile(path);
    serializeEnvBlock(
      { a: "1", external: "yes" },
      { size: SIZE, layout: "redundant", flag: 2 },
    ).copy(bytes, 0x1000 + SIZE);
    await writeFile(path, bytes);
    await kv.put("mine", "1");
    expect(kv.getAll()).toEqual({ a: "1", external: "yes", mine: "1" });
  });

  it("concurrent puts are serialized and none is lost", async () => {
    const { locations } = await redundantImage({}, {}, [1, 1]);
    const kv = await KV.open({ backend: ubootEnv({ locations }) });
    await Promise.all(
      Array.from({ length: 20 }, (_, index) => kv.put(`key${index}`, String(index))),
    );
    const reopened = await KV.open({ backend: ubootEnv({ locations }) });
    expect(Object.keys(reopened.getAll())).toHaveLength(20);
  });

  it("the fallback is only used when asked for", async () => {
    const missing = ubootEnv({ config: join(dir, "nope") });
    await expect(KV.open({ backend: missing })).rejects.toMatchObject({
      code: "ENV_CONFIG_UNREADABLE",
    });
    const kv = await KV.open({ backend: missing, fallback: memory(), logger: { warn: () => {} } });
    expect(kv.fallbackReason).toMatchObject({ code: "ENV_CONFIG_UNREADABLE" });
  });
});
