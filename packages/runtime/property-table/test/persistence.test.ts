import { mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type PropertyEvent, PropertyTable } from "../src/index.js";

let directory: string;
const logger = { warn: vi.fn() };
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "ptable-test-"));
  logger.warn.mockReset();
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const open = (properties: Array<[string[], unknown]> = []) =>
  new PropertyTable({ properties, persistence: { directory, logger } });
const main = () => join(directory, "data.ptable");
const backup = () => join(directory, "data.ptable.backup");

describe("persistence", () => {
  it("restores what was flushed, without events, with the start timestamp", async () => {
    const first = open();
    first.put(["settings", "volume"], 7);
    first.put(["settings", "name"], { text: "kitchen" });
    await first.close();

    const second = open();
    expect(second.get(["settings", "volume"])).toBe(7);
    expect(second.get(["settings", "name"])).toEqual({ text: "kitchen" });
    expect(second.fetchWithTimestamp(["settings", "volume"])?.timestamp).toBe(second.startedAt);
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it("initial properties fill only what was not restored", async () => {
    const first = open();
    first.put(["a"], "saved");
    await first.flush();
    const second = open([
      [["a"], "initial"],
      [["b"], "initial"],
    ]);
    expect(second.get(["a"])).toBe("saved");
    expect(second.get(["b"])).toBe("initial");
  });

  it("does not rewrite the file when nothing changed (flash wear)", async () => {
    const table = open();
    table.put(["a"], 1);
    await table.flush();
    const before = await stat(main());
    await new Promise((resolve) => setTimeout(resolve, 20));
    table.put(["a"], 1); // no-op write
    await table.flush();
    await table.close();
    const after = await stat(main());
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  it("keeps the previous file as the backup", async () => {
    const table = open();
    table.put(["a"], 1);
    await table.flush();
    table.put(["a"], 2);
    await table.flush();
    const fromBackup = new PropertyTable({
      persistence: { directory, logger },
    });
    expect(fromBackup.get(["a"])).toBe(2);
    await rm(main());
    expect(open().get(["a"])).toBe(1);
  });

  it("writes periodically only when dirty", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const table = new PropertyTable({ persistence: { directory, logger, intervalMs: 1_000 } });
      const flush = vi.spyOn(table, "flush");
      table.put(["a"], 1);
      vi.advanceTimersByTime(1_000);
      await vi.waitFor(async () => expect(JSON.stringify(open().getAll())).toContain('"a"'));
      const written = await stat(main());
      vi.advanceTimersByTime(5_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await stat(main())).mtimeMs).toBe(written.mtimeMs);
      expect(flush).not.toHaveBeenCalled(); // the timer goes through the persistence layer
      await table.close();
    } finally {
      vi.useRealTimers();
    }
  });

  describe("corruption never stops start-up", () => {
    async function twoGenerations() {
      const table = open();
      table.put(["generation"], 1);
      await table.flush();
      table.put(["generation"], 2);
      await table.close();
    }

    it("truncated main file: restores from the backup and says so", async () => {
      await twoGenerations();
      const size = (await stat(main())).size;
      await truncate(main(), Math.floor(size / 2));
      expect(open().get(["generation"])).toBe(1);
      const messages = logger.warn.mock.calls.map((call) => String(call[0]));
      expect(messages.some((m) => m.includes("data.ptable: truncated"))).toBe(true);
      expect(messages.some((m) => m.includes("restored from backup"))).toBe(true);
    });

    it("bad checksum in main: restores from the backup", async () => {
      await twoGenerations();
      const bytes = await readFile(main());
      bytes[20] = bytes[20]! ^ 0xff;
      await writeFile(main(), bytes);
      expect(open().get(["generation"])).toBe(1);
      expect(String(logger.warn.mock.calls[0]![0])).toMatch(/bad checksum/);
    });

    it("missing main with a good backup: restores from the backup", async () => {
      await twoGenerations();
      await rm(main());
      expect(open().get(["generation"])).toBe(1);
    });

    it("both files corrupt: starts from the given properties and logs", async () => {
      await twoGenerations();
      await writeFile(main(), "garbage");
      await writeFile(backup(), Buffer.alloc(0));
      const table = open([[["generation"], 0]]);
      expect(table.get(["generation"])).toBe(0);
      expect(logger.warn.mock.calls.map((call) => String(call[0])).join("\n")).toMatch(
        /starting from initial properties/,
      );
    });

    it("a well-formed file with a wrong shape is rejected, not trusted", async () => {
      const { sealEnvelope } = await import("@runtime/atomic-file");
      const payload = Buffer.from(
        JSON.stringify({
          properties: [
            [["ok"], 1],
            [[5], 2],
          ],
        }),
      );
      await writeFile(main(), sealEnvelope(payload, { magic: "PTABLE", version: 1 }));
      const table = open();
      expect(table.size).toBe(0);
      expect(String(logger.warn.mock.calls[0]![0])).toMatch(/entry 1 path element 0/);
    });
  });

  describe("snapshots", () => {
    it("keeps at most maxSnapshots, oldest deleted first", async () => {
      const table = new PropertyTable({ persistence: { directory, logger, maxSnapshots: 2 } });
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        table.put(["i"], i);
        ids.push(await table.snapshot());
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
      const kept = (await table.snapshots()).map((snapshot) => snapshot.id);
      expect(kept).toEqual(ids.slice(1));
      for (const id of ids) expect(id).toMatch(/^[0-9A-F]{16}$/);
    });

    it("restoring a snapshot tells subscribers about every change", async () => {
      const table = open();
      table.putMany([
        [["keep"], 1],
        [["change"], "old"],
      ]);
      const id = await table.snapshot();
      table.put(["change"], "new");
      table.put(["extra"], true);
      const events: PropertyEvent[] = [];
      table.subscribe([], (event) => events.push(event));
      await table.restoreSnapshot(id);
      expect(table.get(["change"])).toBe("old");
      expect(table.has(["extra"])).toBe(false);
      expect(
        events.map((event) => [event.property.join("/"), event.value, event.deleted]).sort(),
      ).toEqual([
        ["change", "old", false],
        ["extra", undefined, true],
      ]);
      expect(open().get(["change"])).toBe("old");
    });

    it("refuses an id that is not a snapshot id", async () => {
      const table = open();
      await expect(table.restoreSnapshot("../data.ptable")).rejects.toThrow(/not a snapshot id/);
    });
  });

  it("persistence calls on a table without persistence fail clearly", async () => {
    const table = new PropertyTable();
    await expect(table.flush()).rejects.toThrow(/persistence is not enabled/);
    await expect(table.snapshots()).resolves.toEqual([]);
  });
});
