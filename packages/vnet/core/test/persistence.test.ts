import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DEFAULT_PERSISTENCE_KEY,
  decodeSavedConfig,
  encodeSavedConfig,
  flatFilePersistence,
  PersistenceError,
} from "../src/persistence/persistence.js";

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 9);
const config = {
  type: "wifi",
  ssid: "home",
  psk: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
};

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PersistenceError);
    return (error as PersistenceError).code;
  }
  return "no error";
}

function syncCodeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(PersistenceError);
    return (error as PersistenceError).code;
  }
  return "no error";
}

describe("saved configuration format", () => {
  it("round-trips and does not contain the secret in clear", () => {
    const bytes = encodeSavedConfig("wlan0", config, key, {
      savedAt: new Date("2026-01-02T03:04:05Z"),
    });
    expect(bytes.subarray(0, 8).toString()).toBe("VNETCONF");
    expect(bytes.includes(Buffer.from("0123456789abcdef"))).toBe(false);
    expect(bytes.includes(Buffer.from("home"))).toBe(false);
    expect(decodeSavedConfig(bytes, key)).toEqual({
      ifname: "wlan0",
      config,
      savedAt: "2026-01-02T03:04:05.000Z",
    });
  });

  it("tells corruption, truncation, a wrong key and a newer version apart", () => {
    const bytes = encodeSavedConfig("wlan0", config, key);
    expect(syncCodeOf(() => decodeSavedConfig(bytes, otherKey))).toBe("DECRYPTION_FAILED");
    expect(syncCodeOf(() => decodeSavedConfig(bytes.subarray(0, bytes.length - 5), key))).toBe(
      "CORRUPT",
    );
    expect(syncCodeOf(() => decodeSavedConfig(Buffer.alloc(0), key))).toBe("CORRUPT");
    const flipped = Buffer.from(bytes);
    flipped[30] = (flipped[30] ?? 0) ^ 0xff;
    expect(syncCodeOf(() => decodeSavedConfig(flipped, key))).toBe("CORRUPT");
    const newer = Buffer.from(bytes);
    newer[8] = 2; // the version byte follows the 8-byte magic
    expect(syncCodeOf(() => decodeSavedConfig(newer, key))).toBe("UNSUPPORTED_VERSION");
  });

  it("every single-byte corruption is detected, never silently accepted", () => {
    const bytes = encodeSavedConfig("wlan0", config, key);
    for (let index = 0; index < bytes.length; index++) {
      const copy = Buffer.from(bytes);
      copy[index] = (copy[index] ?? 0) ^ 0x01;
      let accepted = false;
      try {
        accepted = decodeSavedConfig(copy, key) !== undefined;
      } catch (error) {
        expect(error).toBeInstanceOf(PersistenceError);
      }
      expect(accepted, `byte ${index}`).toBe(false);
    }
  });
});

describe("flatFilePersistence", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "vnet-persist-"));
  });
  afterEach(async () => {
    await chmod(dir, 0o700).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it("saves one 0600 file per interface, atomically, and enumerates them", async () => {
    const persistence = flatFilePersistence({ directory: join(dir, "configs"), key });
    expect(await persistence.enumerate()).toEqual([]);
    await persistence.save("wlan0", config);
    await persistence.save("eth0", { type: "ethernet" });
    expect(await persistence.enumerate()).toEqual(["eth0", "wlan0"]);
    expect(await persistence.load("wlan0")).toEqual(config);
    expect((await stat(join(dir, "configs", "wlan0"))).mode & 0o777).toBe(0o600);
    expect((await readdir(join(dir, "configs"))).filter((name) => name.startsWith("."))).toEqual(
      [],
    );
    await persistence.clear("wlan0");
    await persistence.clear("wlan0");
    expect(await persistence.enumerate()).toEqual(["eth0"]);
    expect(await codeOf(persistence.load("wlan0"))).toBe("NOT_FOUND");
  });

  it("ignores temporary files left by an interrupted write", async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, ".eth0.abc123.tmp"), "half");
    expect(await flatFilePersistence({ directory: dir, key }).enumerate()).toEqual([]);
  });

  it("a file of another interface renamed into place is refused", async () => {
    const persistence = flatFilePersistence({ directory: dir, key });
    await writeFile(join(dir, "eth1"), encodeSavedConfig("eth0", { type: "ethernet" }, key));
    expect(await codeOf(persistence.load("eth1"))).toBe("CORRUPT");
  });

  it("takes the key from a function, once; a failing function is KEY_UNAVAILABLE", async () => {
    let calls = 0;
    const persistence = flatFilePersistence({
      directory: dir,
      key: async () => {
        calls++;
        return key;
      },
    });
    await persistence.save("eth0", { type: "ethernet" });
    expect(await persistence.load("eth0")).toEqual({ type: "ethernet" });
    expect(calls).toBe(1);
    const broken = flatFilePersistence({
      directory: dir,
      key: () => {
        throw new Error("secure element not ready");
      },
    });
    expect(await codeOf(broken.load("eth0"))).toBe("KEY_UNAVAILABLE");
    const short = flatFilePersistence({ directory: dir, key: async () => Buffer.alloc(16) });
    expect(await codeOf(short.load("eth0"))).toBe("KEY_UNAVAILABLE");
    expect(() => flatFilePersistence({ key: Buffer.alloc(16) })).toThrow(/32 bytes/);
  });

  it("a wrong key is DECRYPTION_FAILED; an unreadable file is UNREADABLE", async () => {
    await flatFilePersistence({ directory: dir, key }).save("eth0", { type: "ethernet" });
    expect(await codeOf(flatFilePersistence({ directory: dir, key: otherKey }).load("eth0"))).toBe(
      "DECRYPTION_FAILED",
    );
    expect(await codeOf(flatFilePersistence({ directory: dir }).load("eth0"))).toBe(
      "DECRYPTION_FAILED",
    );
    await mkdir(join(dir, "wlan0"));
    expect(await codeOf(flatFilePersistence({ directory: dir, key }).load("wlan0"))).toBe(
      "UNREADABLE",
    );
  });

  it("uses the public default key when none is given", async () => {
    await flatFilePersistence({ directory: dir }).save("eth0", { type: "ethernet" });
    const bytes = await readFile(join(dir, "eth0"));
    expect(decodeSavedConfig(bytes, DEFAULT_PERSISTENCE_KEY).config).toEqual({ type: "ethernet" });
  });

  it("a writer killed at any moment leaves the old or the new config, never a broken file", async () => {
    const persistence = flatFilePersistence({ directory: dir, key });
    await persistence.save("eth0", { type: "ethernet", generation: 0 });
    const source = `
      import { flatFilePersistence } from ${JSON.stringify(new URL("../src/persistence/persistence.ts", import.meta.url).pathname)};
      const persistence = flatFilePersistence({ directory: ${JSON.stringify(dir)}, key: Buffer.alloc(32, 7) });
      for (let generation = 1; ; generation++) {
        await persistence.save("eth0", { type: "ethernet", generation, padding: "x".repeat(20000) });
      }
    `;
    // Node itself with tsx as a loader (not the tsx CLI, which would run the writer in a
    // grandchild that SIGKILL does not reach).
    const tsxLoader = new URL("../../../../node_modules/tsx/dist/esm/index.mjs", import.meta.url)
      .href;
    let newest = 0;
    for (let round = 0; round < 5; round++) {
      const child = spawn(
        process.execPath,
        ["--import", tsxLoader, "--input-type=module", "-e", source],
        {
          stdio: "ignore",
        },
      );
      // Kill only once the writer is saving: wait (with a deadline) for a newer generation.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const generation = (await persistence.load("eth0")).generation as number;
        if (generation > newest || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, round * 7));
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      const loaded = await persistence.load("eth0");
      expect(loaded.type).toBe("ethernet");
      expect(typeof loaded.generation).toBe("number");
      newest = Math.max(newest, loaded.generation as number);
    }
    // The writers really ran: later generations were saved between the kills.
    expect(newest).toBeGreaterThan(0);
  }, 120_000);
});
