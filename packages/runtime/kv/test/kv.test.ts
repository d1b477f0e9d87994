import { ValidationError } from "@runtime/errors";
import { ANY, PropertyTable } from "@runtime/property-table";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { type EnvChanges, KV, type KvBackend, memory } from "../src/index.js";

const FIRMWARE = {
  nerves_fw_active: "a",
  nerves_fw_devpath: "/dev/mmcblk0",
  "a.nerves_fw_version": "1.4.2",
  "a.nerves_fw_platform": "rpi4",
  "a.nerves_fw_architecture": "aarch64",
  "b.nerves_fw_version": "1.4.1",
  "b.nerves_fw_platform": "rpi4",
  "b.nerves_fw_architecture": "aarch64",
  "b.nerves_fw_validated": "0",
};

/** A backend that records calls and lets the test decide when each update finishes. */
class GatedBackend implements KvBackend {
  readonly description = "gated";
  readonly started: string[] = [];
  private contents: Record<string, string> = {};
  private gates: Array<() => void> = [];
  async load() {
    return { ...this.contents };
  }
  async update(changes: EnvChanges) {
    const label = [...changes.keys()].join(",");
    this.started.push(label);
    await new Promise<void>((resolve) => this.gates.push(resolve));
    for (const [key, value] of changes) {
      if (value === null) delete this.contents[key];
      else this.contents[key] = value;
    }
    return { ...this.contents };
  }
  release(): void {
    this.gates.shift()?.();
  }
}

describe("KV reads", () => {
  it("get, getAll, getActive, getAllActive", async () => {
    const kv = await KV.inMemory(FIRMWARE);
    expect(kv.get("nerves_fw_devpath")).toBe("/dev/mmcblk0");
    expect(kv.get("missing")).toBeUndefined();
    expect(kv.get("__proto__")).toBeUndefined();
    expect(kv.getAll()).toEqual(FIRMWARE);
    expect(kv.activeSlot).toBe("a");
    expect(kv.getActive("nerves_fw_version")).toBe("1.4.2");
    expect(kv.getAllActive()).toEqual({
      nerves_fw_version: "1.4.2",
      nerves_fw_platform: "rpi4",
      nerves_fw_architecture: "aarch64",
    });
  });

  it("treats keys named like Object.prototype members as plain data", async () => {
    const kv = await KV.inMemory({});
    expect(kv.get("toString")).toBeUndefined();
    expect(kv.get("constructor")).toBeUndefined();
    await kv.put({ constructor: "c", __proto__: "p" } as Record<string, string>);
    expect(kv.get("constructor")).toBe("c");
    expect(Object.keys(kv.getAll()).sort()).toEqual(["constructor"]);
  });

  it("getAll returns a copy", async () => {
    const kv = await KV.inMemory({ a: "1" });
    kv.getAll().a = "changed";
    expect(kv.get("a")).toBe("1");
  });

  it("the active slot defaults to a", async () => {
    const kv = await KV.inMemory({ "a.x": "1" });
    expect(kv.activeSlot).toBe("a");
    expect(kv.getActive("x")).toBe("1");
  });
});

describe("KV writes", () => {
  it("put one key or a map; putActive prefixes the active slot", async () => {
    const backend = memory({ nerves_fw_active: "b" });
    const kv = await KV.open({ backend });
    await kv.put("nerves_serial_number", "ABC123");
    await kv.put({ x: "1", y: "2" });
    await kv.putActive("nerves_fw_misc", "hello");
    await kv.putActive({ nerves_fw_author: "ACME" });
    expect(await backend.load()).toEqual({
      nerves_fw_active: "b",
      nerves_serial_number: "ABC123",
      x: "1",
      y: "2",
      "b.nerves_fw_misc": "hello",
      "b.nerves_fw_author": "ACME",
    });
    expect(kv.getAll()).toEqual(await backend.load());
  });

  it("putActive uses the slot current when the write runs, after earlier queued writes", async () => {
    const kv = await KV.inMemory({ nerves_fw_active: "a" });
    const first = kv.put("nerves_fw_active", "b");
    const second = kv.putActive("nerves_fw_version", "2.0.0");
    await Promise.all([first, second]);
    expect(kv.get("b.nerves_fw_version")).toBe("2.0.0");
    expect(kv.get("a.nerves_fw_version")).toBeUndefined();
  });

  it("delete removes keys", async () => {
    const kv = await KV.inMemory({ a: "1", b: "2", c: "3" });
    await kv.delete("a");
    await kv.delete(["b", "absent"]);
    expect(kv.getAll()).toEqual({ c: "3" });
  });

  it("refuses bad keys and values with a ValidationError naming the key; nothing is written", async () => {
    const backend = memory({ keep: "1" });
    const update = vi.spyOn(backend, "update");
    const kv = await KV.open({ backend });
    const cases: Array<[() => Promise<void>, string, RegExp]> = [
      [() => kv.put("a=b", "1"), "a=b", /key must not contain "="/],
      [() => kv.put("a\0b", "1"), "a\0b", /NUL/],
      [() => kv.put("ok", "x\0y"), "ok", /value must not contain a NUL byte/],
      [() => kv.put({ good: "1", "bad=": "2" }), "bad=", /"="/],
      [() => kv.put("k", undefined as unknown as string), "k", /value must be a string/],
      [() => kv.putActive("x=y", "1"), "a.x=y", /"="/],
      [() => kv.delete("a=b"), "a=b", /"="/],
    ];
    for (const [attempt, path, reason] of cases) {
      const caught = await attempt().then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(caught).toBeInstanceOf(ValidationError);
      expect((caught as ValidationError).code).toBe("INVALID_ENV_ENTRY");
      expect((caught as ValidationError).path).toBe(path);
      expect((caught as Error).message).toMatch(reason);
    }
    expect(update).not.toHaveBeenCalled();
    expect(kv.getAll()).toEqual({ keep: "1" });
  });

  it("accepts exactly the valid entries (property)", async () => {
    const kv = await KV.inMemory();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 8 }),
        fc.string({ maxLength: 8 }),
        async (key, value) => {
          const valid =
            key !== "" && !key.includes("=") && !key.includes("\0") && !value.includes("\0");
          let error: unknown;
          try {
            await kv.put(key, value);
          } catch (caught) {
            error = caught;
          }
          if (valid) {
            expect(error).toBeUndefined();
            expect(kv.get(key)).toBe(value);
          } else {
            expect(error).toBeInstanceOf(ValidationError);
          }
        },
      ),
    );
  });

  it("serializes writes: the second starts only after the first finished", async () => {
    const backend = new GatedBackend();
    const kv = await KV.open({ backend });
    const first = kv.put("first", "1");
    const second = kv.put("second", "2");
    await vi.waitFor(() => expect(backend.started).toEqual(["first"]));
    // Give the queue every chance to start the second write early.
    await new Promise((resolve) => setImmediate(resolve));
    expect(backend.started).toEqual(["first"]);
    backend.release();
    await first;
    expect(kv.get("first")).toBe("1");
    expect(kv.get("second")).toBeUndefined();
    await vi.waitFor(() => expect(backend.started).toEqual(["first", "second"]));
    backend.release();
    await second;
    expect(kv.getAll()).toEqual({ first: "1", second: "2" });
  });

  it("a failed write leaves the cache as it was and the queue running", async () => {
    const backend = memory({ a: "1" });
    const kv = await KV.open({ backend });
    vi.spyOn(backend, "update").mockRejectedValueOnce(new Error("disk on fire"));
    await expect(kv.put("a", "2")).rejects.toThrow("disk on fire");
    expect(kv.get("a")).toBe("1");
    await kv.put("a", "3");
    expect(kv.get("a")).toBe("3");
  });

  it("reload picks up changes made behind the store's back", async () => {
    const backend = memory({ a: "1" });
    const kv = await KV.open({ backend });
    await backend.update(new Map([["a", "external"]]));
    expect(kv.get("a")).toBe("1");
    await kv.reload();
    expect(kv.get("a")).toBe("external");
  });

  it("replaceAll writes exactly the given entries", async () => {
    const kv = await KV.inMemory({ a: "1", b: "2" });
    await kv.replaceAll({ c: "3" });
    expect(kv.getAll()).toEqual({ c: "3" });
    const noReplace: KvBackend = {
      description: "plain",
      load: async () => ({}),
      update: async () => ({}),
    };
    const plain = await KV.open({ backend: noReplace });
    await expect(plain.replaceAll({})).rejects.toThrow(/cannot replace/);
  });
});

describe("KV open and fallback", () => {
  const broken: KvBackend = {
    description: "broken env",
    load: async () => {
      throw new Error("ENOENT: /etc/fw_env.config");
    },
    update: async () => ({}),
  };

  it("throws the backend's error; never switches to memory on its own", async () => {
    await expect(KV.open({ backend: broken })).rejects.toThrow("ENOENT: /etc/fw_env.config");
  });

  it("uses an explicit fallback and logs once, saying why", async () => {
    const logger = { warn: vi.fn() };
    const kv = await KV.open({ backend: broken, fallback: memory({ x: "1" }), logger });
    expect(kv.get("x")).toBe("1");
    expect(kv.backendDescription).toBe("memory");
    expect(kv.fallbackReason?.message).toContain("ENOENT");
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]![0]).toMatch(/broken env cannot be loaded.*using memory/);
    await kv.put("y", "2");
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });
});

describe("KV publishing into a PropertyTable", () => {
  it("publishes every variable under the prefix and a firmware view", async () => {
    const table = new PropertyTable();
    await KV.inMemory(FIRMWARE, { table });
    expect(table.get(["kv", "a.nerves_fw_version"])).toBe("1.4.2");
    expect(table.get(["kv", "nerves_fw_devpath"])).toBe("/dev/mmcblk0");
    expect(
      Object.fromEntries(
        table.match(["firmware"]).map(([path, value]) => [path.slice(1).join("/"), value]),
      ),
    ).toEqual({
      active_slot: "a",
      inactive_slot: "b",
      validation_status: "unknown",
      valid: true,
      auto_revert_detected: true,
      "active/version": "1.4.2",
      "active/platform": "rpi4",
      "active/architecture": "aarch64",
      "inactive/version": "1.4.1",
      "inactive/platform": "rpi4",
      "inactive/architecture": "aarch64",
      "inactive/validated": "0",
    });
  });

  it("updates changed paths, deletes vanished ones, and fires events only for real changes", async () => {
    const table = new PropertyTable();
    const kv = await KV.inMemory(
      { a: "1", b: "2", nerves_fw_active: "a", "a.nerves_fw_version": "1" },
      { table },
    );
    const events: string[] = [];
    table.subscribe(["kv"], (event) =>
      events.push(
        `${event.property.join("/")}=${event.deleted ? "<deleted>" : String(event.value)}`,
      ),
    );
    await kv.put({ a: "1", b: "3" });
    await kv.delete("a");
    expect(events).toEqual(["kv/b=3", "kv/a=<deleted>"]);
    // Switching slots moves the firmware view.
    await kv.put({ nerves_fw_active: "b", "b.nerves_fw_version": "2" });
    expect(table.get(["firmware", "active", "version"])).toBe("2");
    expect(table.get(["firmware", "inactive", "version"])).toBe("1");
    expect(table.get(["firmware", "active_slot"])).toBe("b");
    await kv.put("upgrade_available", "1");
    expect(table.get(["firmware", "validation_status"])).toBe("unvalidated");
    expect(table.get(["firmware", "valid"])).toBe(false);
  });

  it("uses custom prefixes and can turn the firmware view off", async () => {
    const table = new PropertyTable();
    await KV.inMemory(
      { x: "1", "a.nerves_fw_version": "1" },
      { table, prefix: ["device", "env"], firmwarePrefix: false },
    );
    expect(table.match([ANY]).map(([path]) => path)).toEqual([
      ["device", "env", "x"],
      ["device", "env", "a.nerves_fw_version"],
    ]);
  });

  it("publishes secret-looking variables as ****, but get() still returns them", async () => {
    const table = new PropertyTable();
    const kv = await KV.inMemory(
      {
        nerves_hub_key: "-----BEGIN EC PRIVATE KEY-----",
        nerves_hub_cert: "cert",
        wifi_psk: "hunter2",
        my_pin_code: "1234",
      },
      { table, secretKeys: ["my_pin_code"] },
    );
    expect(table.get(["kv", "nerves_hub_key"])).toBe("****");
    expect(table.get(["kv", "wifi_psk"])).toBe("****");
    expect(table.get(["kv", "my_pin_code"])).toBe("****");
    expect(table.get(["kv", "nerves_hub_cert"])).toBe("cert");
    expect(kv.get("nerves_hub_key")).toContain("PRIVATE KEY");
    // Nor in validation errors.
    const error = await kv.put("my_pin_code", "12\u000034").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ path: "my_pin_code", value: "****" });
    expect((error as Error).message).not.toContain("12");
  });
});
