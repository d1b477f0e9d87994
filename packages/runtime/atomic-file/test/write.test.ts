import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openEnvelope, readFirstValid, readFirstValidSync, writeFileAtomic } from "../src/index.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "atomic-file-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFileAtomic", () => {
  it("writes the content with the given mode and leaves no temporary file", async () => {
    const path = join(dir, "secret.conf");
    await writeFileAtomic(path, "psk=hidden\n", { mode: 0o600 });
    expect(await readFile(path, "utf8")).toBe("psk=hidden\n");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["secret.conf"]);
  });

  it("moves the previous content to the backup path", async () => {
    const path = join(dir, "data");
    const backupPath = join(dir, "data.backup");
    await writeFileAtomic(path, "one", { backupPath });
    await expect(readFile(backupPath)).rejects.toThrow(/ENOENT/);
    await writeFileAtomic(path, "two", { backupPath });
    expect(await readFile(path, "utf8")).toBe("two");
    expect(await readFile(backupPath, "utf8")).toBe("one");
  });

  it("fails cleanly when the directory does not exist", async () => {
    await expect(writeFileAtomic(join(dir, "missing", "file"), "x")).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("readFirstValid", () => {
  it("falls back to the next path and says why the first was rejected", async () => {
    await writeFile(join(dir, "main"), "garbage");
    await writeFile(join(dir, "backup"), "good");
    const result = await readFirstValid([join(dir, "main"), join(dir, "backup")], (bytes) => {
      if (bytes.toString() !== "good") throw new Error("not good");
      return bytes.toString();
    });
    expect(result).toMatchObject({ found: true, value: "good", path: join(dir, "backup") });
    expect(result.rejected.map((attempt) => attempt.error.message)).toEqual(["not good"]);
  });

  it("has a synchronous twin with the same answers", async () => {
    await writeFile(join(dir, "backup"), "good");
    const result = readFirstValidSync([join(dir, "main"), join(dir, "backup")], (bytes) =>
      bytes.toString(),
    );
    expect(result).toMatchObject({ found: true, value: "good", path: join(dir, "backup") });
    expect(result.rejected[0]?.error.message).toMatch(/ENOENT/);
  });

  it("reports every rejection when nothing is valid", async () => {
    const result = await readFirstValid([join(dir, "a"), join(dir, "b")], () => "never");
    expect(result.found).toBe(false);
    expect(result.rejected).toHaveLength(2);
  });
});

describe("cutting writes short", () => {
  // A child process rewrites one file as fast as it can, each time with a new generation number
  // inside a checksummed envelope. We SIGKILL it at random moments, so writes are cut short at
  // arbitrary points (mid-write, between fsync and rename, between the two renames). After every
  // kill the file or its backup must hold one complete generation, never a torn mix.
  // (SIGKILL leaves the page cache intact, so this proves the write ordering, not the fsyncs.)
  it("always leaves one complete version readable", async () => {
    const path = join(dir, "state");
    const backupPath = join(dir, "state.backup");
    const writer = `
      import { writeFileAtomic, sealEnvelope } from ${JSON.stringify(new URL("../src/index.ts", import.meta.url).pathname)};
      let generation = 0;
      for (;;) {
        generation++;
        const payload = Buffer.alloc(64 * 1024, generation % 256);
        payload.writeUInt32BE(generation, 0);
        await writeFileAtomic(${JSON.stringify(path)}, sealEnvelope(payload, { magic: "GEN", version: 1 }), { backupPath: ${JSON.stringify(backupPath)} });
        if (generation === 1) console.log("first");
      }
    `;
    let lastGeneration = 0;
    for (let round = 0; round < 8; round++) {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", writer],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      await new Promise((resolve) => child.stdout.once("data", resolve));
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));

      const result = await readFirstValid([path, backupPath], (bytes) => {
        const { payload } = openEnvelope(bytes, { magic: "GEN" });
        const generation = payload.readUInt32BE(0);
        expect(payload.subarray(4).every((byte) => byte === generation % 256)).toBe(true);
        return generation;
      });
      expect(result.found).toBe(true);
      if (result.found) {
        expect(result.value).toBeGreaterThanOrEqual(1);
        lastGeneration = result.value;
      }
    }
    expect(lastGeneration).toBeGreaterThan(0);
  }, 60_000); // eight Node children with a TypeScript loader: slow on a loaded 2-core machine
});
