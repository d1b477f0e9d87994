import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RecordingCommandRunner } from "@runtime/command/testing";
import { DeviceError, ValidationError } from "@runtime/errors";
import { PropertyTable } from "@runtime/property-table";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { VintageNet, type VintageNetOptions } from "../src/engine/vintage-net.js";
import type { Logger } from "../src/log.js";
import { encodeSavedConfig, flatFilePersistence } from "../src/persistence/persistence.js";
import { testTechnology } from "./helpers/test-technology.js";

let dir: string;
const engines: VintageNet[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vnet-engine-"));
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
  await rm(dir, { recursive: true, force: true });
});

const key = Buffer.alloc(32, 3);
const staticIPv4 = { method: "static", address: "10.0.0.2", prefix_length: 24 } as const;
const PSK = "super-secret-passphrase";

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function start(options: Partial<VintageNetOptions> = {}) {
  const runner = new RecordingCommandRunner();
  const logs: string[] = [];
  const logger: Logger = {
    debug: (message) => logs.push(message),
    info: (message) => logs.push(message),
    warn: (message) => logs.push(message),
    error: (message) => logs.push(message),
  };
  const table = new PropertyTable();
  table.put(["interface", "eth0", "present"], true);
  table.put(["interface", "eth0", "lower_up"], true);
  table.put(["interface", "lo", "present"], true);
  const vnet = await VintageNet.start({
    table,
    runner,
    logger,
    technologies: [testTechnology],
    persistence: flatFilePersistence({ directory: join(dir, "saved"), key }),
    tmpDir: join(dir, "tmp"),
    resolvConfPath: join(dir, "resolv.conf"),
    monitorInterfaces: false,
    probe: async () => ({ reachable: true, how: "connected" }),
    ...options,
  });
  engines.push(vnet);
  return { vnet, runner, logs, table };
}

describe("VintageNet engine (recording runner, no monitor)", () => {
  it("applies default configurations at start and publishes type, state, config", async () => {
    const { vnet, runner } = await start({
      defaultConfig: { eth0: { type: "test", ipv4: staticIPv4 } },
    });
    await vnet.waitUntilConfigured("eth0", 2_000);
    expect(vnet.get(["interface", "eth0", "type"])).toBe("test");
    expect(vnet.get(["interface", "eth0", "config"])).toEqual({
      type: "test",
      ipv4: { ...staticIPv4, name_servers: [] },
      retry_millis: 1_000,
    });
    expect(runner.commandLines()).toContain(
      "ip addr add 10.0.0.2/24 dev eth0 broadcast 10.0.0.255 label eth0",
    );
    expect(vnet.configuredInterfaces()).toEqual(["eth0"]);
    expect(vnet.allInterfaces()).toEqual(["eth0", "lo"]);
    await until(() => vnet.get(["interface", "eth0", "connection"]) === "lan", "lan");
    expect(vnet.get(["connection"])).toBe("lan");
    expect(vnet.get(["available_interfaces"])).toEqual(["eth0"]); // LAN-only, but it can carry traffic
    expect(await readFile(join(dir, "tmp", "notify.sh"), "utf8")).toContain("VNET_EVENT_FIFO");
  });

  it("configure: state machine runs, config saved, getConfiguration returns the normalized config", async () => {
    const { vnet, runner } = await start();
    expect(vnet.configuredInterfaces()).toEqual([]);
    await vnet.configure("eth0", {
      type: "test",
      ipv4: {
        method: "static",
        address: "10.0.0.9",
        netmask: "255.255.255.0",
        gateway: "10.0.0.1",
      },
    });
    expect(vnet.get(["interface", "eth0", "state"])).not.toBe("configured");
    await vnet.waitUntilConfigured("eth0");
    expect(vnet.getConfiguration("eth0")).toEqual({
      type: "test",
      ipv4: {
        method: "static",
        address: "10.0.0.9",
        prefix_length: 24,
        gateway: "10.0.0.1",
        name_servers: [],
      },
      retry_millis: 1_000,
    });
    expect(await readdir(join(dir, "saved"))).toEqual(["eth0"]);
    await until(() => vnet.get(["interface", "eth0", "connection"]) === "internet", "internet");
    await until(
      () =>
        runner.commandLines().some((line) => line.includes("route replace default via 10.0.0.1")),
      "route",
    );
    expect(vnet.get(["available_interfaces"])).toEqual(["eth0"]);
    expect(() => vnet.getConfiguration("wlan9")).toThrow(DeviceError);
  });

  it("bad input changes nothing: no command, no file, nothing saved, same properties", async () => {
    const { vnet, runner, table } = await start({
      defaultConfig: { eth0: { type: "test", ipv4: staticIPv4 } },
    });
    await vnet.waitUntilConfigured("eth0");
    await until(() => vnet.get(["interface", "eth0", "connection"]) === "lan", "lan");
    const calls = runner.calls.length;
    const properties = JSON.stringify(table.getAll());
    const files = await readdir(join(dir, "tmp"));
    const cases: Array<[unknown, string, string, unknown]> = [
      [{ type: "nope" }, "eth0", "type", "nope"],
      [{ ipv4: staticIPv4 }, "eth0", "type", undefined],
      [
        { type: "test", ipv4: { method: "static", prefix_length: 24 } },
        "eth0",
        "ipv4.address",
        undefined,
      ],
      [
        { type: "test", ipv4: { method: "static", address: 10, prefix_length: 24 } },
        "eth0",
        "ipv4.address",
        10,
      ],
      [
        { type: "test", ipv4: { method: "static", address: "10.0.0.5", prefix_length: 40 } },
        "eth0",
        "ipv4.prefix_length",
        40,
      ],
      [{ type: "test", retry_millis: 0 }, "eth0", "retry_millis", 0],
      [{ type: "test", psk: "short" }, "eth0", "psk", "****"],
      [{ type: "test" }, "eth0/../x", "ifname", "eth0/../x"],
      ["not an object", "eth0", "", "not an object"],
    ];
    for (const [config, ifname, path, value] of cases) {
      const error = await vnet
        .configure(ifname, config as never)
        .catch((caught: unknown) => caught);
      expect(error, JSON.stringify(config)).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).code).toBe("INVALID_CONFIG");
      expect((error as ValidationError).path).toBe(path);
      expect((error as ValidationError).value).toEqual(value);
      expect((error as ValidationError).reason).not.toBe("");
    }
    expect(runner.calls.length).toBe(calls);
    expect(JSON.stringify(table.getAll())).toBe(properties);
    expect(await readdir(join(dir, "tmp"))).toEqual(files);
    await expect(readdir(join(dir, "saved"))).rejects.toThrow(/ENOENT/);
  });

  it("the same normalized config again does not bounce the interface", async () => {
    const { vnet, runner } = await start();
    await vnet.configure("eth0", { type: "test", ipv4: staticIPv4 });
    await vnet.waitUntilConfigured("eth0");
    const states: unknown[] = [];
    vnet.subscribe(["interface", "eth0", "state"], (event) => states.push(event.value));
    const calls = runner.calls.length;
    await vnet.configure("eth0", {
      type: "test",
      ipv4: { ...staticIPv4, netmask: "255.255.255.0", prefix_length: undefined } as never,
    });
    await vnet.configure("eth0", {
      type: "test",
      ipv4: { method: "static", address: "10.0.0.2", netmask: "255.255.255.0" },
    });
    expect(states).toEqual([]);
    expect(runner.calls.length).toBe(calls);
  });

  it("persist: false does not save; a later persisting configure of the same config saves without a bounce", async () => {
    const { vnet } = await start();
    await vnet.configure("eth0", { type: "test", ipv4: staticIPv4 }, { persist: false });
    await expect(readdir(join(dir, "saved"))).rejects.toThrow(/ENOENT/);
    await vnet.waitUntilConfigured("eth0");
    const states: unknown[] = [];
    vnet.subscribe(["interface", "eth0", "state"], (event) => states.push(event.value));
    await vnet.configure("eth0", { type: "test", ipv4: staticIPv4 });
    expect(await readdir(join(dir, "saved"))).toEqual(["eth0"]);
    expect(states).toEqual([]);
    await expect(
      vnet.configure("eth0", { type: "test" }, { persist: "yes" as never }),
    ).rejects.toMatchObject({
      path: "options.persist",
    });
  });

  it("a saved config wins over the default at start", async () => {
    await flatFilePersistence({ directory: join(dir, "saved"), key }).save("eth0", {
      type: "test",
      ipv4: { method: "disabled" },
    });
    const { vnet } = await start({ defaultConfig: { eth0: { type: "test", ipv4: staticIPv4 } } });
    expect(vnet.getConfiguration("eth0")).toMatchObject({ ipv4: { method: "disabled" } });
    expect(vnet.infoData().persistenceProblems).toEqual([]);
  });

  it("a corrupt, wrongly keyed or invalid saved config falls back to the default and is reported", async () => {
    await writeFile(join(dir, "placeholder"), "");
    const saved = join(dir, "saved");
    await flatFilePersistence({ directory: saved, key }).save("eth0", {
      type: "test",
      ipv4: { method: "disabled" },
    });
    await writeFile(
      join(saved, "eth1"),
      encodeSavedConfig("eth1", { type: "test" }, Buffer.alloc(32, 99)),
    );
    await writeFile(join(saved, "eth2"), Buffer.from("garbage that is not a config file"));
    await flatFilePersistence({ directory: saved, key }).save("eth3", {
      type: "test",
      ipv4: { method: "carrier-pigeon" },
    });
    const bytes = await readFile(join(saved, "eth0"));
    await writeFile(join(saved, "eth0"), bytes.subarray(0, bytes.length - 3));
    const { vnet, logs } = await start({
      defaultConfig: {
        eth0: { type: "test", ipv4: staticIPv4 },
        eth1: { type: "test", ipv4: { method: "disabled" } },
      },
    });
    expect(vnet.getConfiguration("eth0")).toMatchObject({ ipv4: { method: "static" } });
    expect(vnet.getConfiguration("eth1")).toMatchObject({ ipv4: { method: "disabled" } });
    expect(() => vnet.getConfiguration("eth3")).toThrow(/no configuration/);
    expect(
      vnet.infoData().persistenceProblems.map((problem) => [problem.ifname, problem.code]),
    ).toEqual([
      ["eth0", "CORRUPT"],
      ["eth1", "DECRYPTION_FAILED"],
      ["eth2", "CORRUPT"],
      ["eth3", "INVALID_CONFIG"],
    ]);
    expect(vnet.info()).toContain("Saved configuration of eth1 ignored: DECRYPTION_FAILED");
    expect(logs.some((line) => line.includes("ignoring saved configuration of eth2"))).toBe(true);
  });

  it("a failing key function never blocks start-up", async () => {
    await flatFilePersistence({ directory: join(dir, "saved"), key }).save("eth0", {
      type: "test",
    });
    const { vnet } = await start({
      persistence: flatFilePersistence({
        directory: join(dir, "saved"),
        key: () => {
          throw new Error("TPM unavailable");
        },
      }),
      defaultConfig: { eth0: { type: "test", ipv4: staticIPv4 } },
    });
    expect(vnet.getConfiguration("eth0")).toMatchObject({ ipv4: { method: "static" } });
    expect(vnet.infoData().persistenceProblems[0]).toMatchObject({
      ifname: "eth0",
      code: "KEY_UNAVAILABLE",
    });
  });

  it("a read-only persistence directory is logged, never blocks configure", async () => {
    await writeFile(join(dir, "saved"), "a file where the directory should be");
    const { vnet, logs } = await start();
    await vnet.configure("eth0", { type: "test", ipv4: staticIPv4 });
    await vnet.waitUntilConfigured("eth0");
    expect(logs.some((line) => line.includes("cannot save configuration"))).toBe(true);
  });

  it("resetToDefaults applies the default without saving and deletes the saved file", async () => {
    const { vnet } = await start({ defaultConfig: { eth0: { type: "test", ipv4: staticIPv4 } } });
    await vnet.configure("eth0", { type: "test", ipv4: { method: "disabled" } });
    expect(await readdir(join(dir, "saved"))).toEqual(["eth0"]);
    await vnet.resetToDefaults("eth0");
    expect(vnet.getConfiguration("eth0")).toMatchObject({ ipv4: { method: "static" } });
    expect(await readdir(join(dir, "saved"))).toEqual([]);
    await vnet.resetToDefaults("wlan0");
    expect(vnet.getConfiguration("wlan0")).toEqual({
      type: "null",
      reason: "No default configuration",
    });
  });

  it("deconfigure applies null: the interface is no longer in configuredInterfaces", async () => {
    const { vnet, runner } = await start({
      defaultConfig: { eth0: { type: "test", ipv4: staticIPv4 } },
    });
    await vnet.waitUntilConfigured("eth0");
    await vnet.deconfigure("eth0", { persist: false });
    await vnet.waitUntilConfigured("eth0");
    expect(vnet.configuredInterfaces()).toEqual([]);
    expect(vnet.get(["interface", "eth0", "type"])).toBe("null");
    expect(runner.commandLines()).toContain("ip link set eth0 down");
    expect(vnet.get(["interface", "eth0", "connection"])).toBe("disconnected");
  });

  it("secrets never appear in the config property, info, logs or errors", async () => {
    const { vnet, logs } = await start();
    await vnet.configure("eth0", { type: "test", ipv4: staticIPv4, psk: PSK });
    await vnet.waitUntilConfigured("eth0");
    expect(vnet.get(["interface", "eth0", "config"])).toMatchObject({ psk: "****" });
    expect(vnet.info()).not.toContain(PSK);
    expect(JSON.stringify(vnet.infoData())).not.toContain(PSK);
    expect(vnet.info({ redact: false })).toContain(PSK);
    expect(vnet.getConfiguration("eth0")).toMatchObject({ psk: PSK });
    const error = await vnet
      .configure("eth0", { type: "test", psk: PSK, ipv4: { method: "x" } })
      .catch((caught: Error) => caught);
    expect((error as Error).message).not.toContain(PSK);
    await vnet.stop();
    expect(logs.join("\n")).not.toContain(PSK);
    expect(logs.length).toBeGreaterThan(3);
    const secretFile = join(dir, "tmp", "secret.eth0");
    await expect(readFile(secretFile)).rejects.toThrow(/ENOENT/); // removed at tear-down
  });

  it("info shows interfaces with durations in VintageNet's layout", async () => {
    const { vnet } = await start({ defaultConfig: { eth0: { type: "test", ipv4: staticIPv4 } } });
    await vnet.waitUntilConfigured("eth0");
    vnet.table.put(
      ["interface", "eth0", "addresses"],
      [
        {
          family: "inet",
          address: "10.0.0.2",
          prefix_length: 24,
          netmask: "255.255.255.0",
          scope: "universe",
        },
      ],
    );
    vnet.table.put(["interface", "eth0", "mac_address"], "02:00:00:00:00:01");
    const text = vnet.info();
    expect(text).toMatch(/^@vnet\/core\n\nAll interfaces: {7}\["eth0", "lo"\]\n/);
    expect(text).toContain("Interface eth0\n  Type: test\n  Present: true\n  State: configured (");
    expect(text).toContain("  Addresses: 10.0.0.2/24\n");
    expect(text).toContain('  MAC Address: "02:00:00:00:00:01"');
    expect(text).toContain('    "type": "test"');
  });

  it("hotplug through the present property: gone → retrying, back → configured", async () => {
    const { vnet, table } = await start({
      defaultConfig: { eth0: { type: "test", ipv4: staticIPv4 } },
    });
    await vnet.waitUntilConfigured("eth0");
    table.delete(["interface", "eth0", "present"]);
    await until(() => vnet.get(["interface", "eth0", "state"]) === "retrying", "retrying");
    table.put(["interface", "eth0", "present"], true);
    await vnet.waitUntilConfigured("eth0");
  });

  it("waitUntilConfigured times out with a clear error", async () => {
    const { vnet, table } = await start();
    table.delete(["interface", "eth0", "present"]);
    await vnet.configure("eth0", { type: "test" });
    await expect(vnet.waitUntilConfigured("eth0", 50)).rejects.toMatchObject({
      code: "TIMEOUT",
      message: expect.stringMatching(
        /eth0 not configured within 50 ms \(state: (reconfiguring|retrying)\)/,
      ),
    });
  });

  it("ioctl and scan reach the technology only while configured", async () => {
    const { vnet } = await start({ defaultConfig: { eth0: { type: "test", ipv4: staticIPv4 } } });
    await expect(vnet.scan("wlan0")).rejects.toMatchObject({ code: "UNCONFIGURED" });
    await vnet.waitUntilConfigured("eth0");
    await expect(vnet.scan("eth0")).resolves.toEqual({ scanned: true, args: [] });
    await expect(vnet.ioctl("eth0", "dance")).rejects.toMatchObject({ code: "UNSUPPORTED" });
  });

  it("reportTraffic maps a local address to its interface", async () => {
    const { vnet } = await start({ defaultConfig: { eth0: { type: "test", ipv4: staticIPv4 } } });
    await vnet.waitUntilConfigured("eth0");
    vnet.reportTraffic({ localAddress: "::ffff:10.0.0.2", remoteAddress: "203.0.113.5" });
    vnet.reportTraffic({ localAddress: "10.0.0.2", remoteAddress: "10.0.0.77" }); // same subnet: ignored
    vnet.reportTraffic({ localAddress: "192.0.2.99" }); // unknown: ignored
    expect(vnet.configurationValid("eth0", { type: "test" })).toBe(true);
    expect(vnet.configurationValid("eth0", { type: "test", bogus: 1 })).toBe(false);
    expect(vnet.configurationValid("bad/name", { type: "test" })).toBe(false);
  });

  it("verifySystem asks each configured interface's technology", async () => {
    const { vnet } = await start({ defaultConfig: { eth0: { type: "test", ipv4: staticIPv4 } } });
    expect(await vnet.verifySystem()).toEqual([
      { ifname: "eth0", type: "test", problems: ["definitely-not-a-program-xyz is missing"] },
    ]);
  });

  it("stop tears everything down and leaves no property of ours behind", async () => {
    const { vnet, table, runner } = await start({
      defaultConfig: { eth0: { type: "test", ipv4: staticIPv4 } },
    });
    await vnet.waitUntilConfigured("eth0");
    await vnet.stop();
    await vnet.stop();
    const left = table
      .getAll()
      .map(([path]) => path.join("/"))
      .sort();
    expect(left).toEqual([
      "interface/eth0/lower_up",
      "interface/eth0/present",
      "interface/lo/present",
    ]);
    expect(runner.started.every((process) => process.stopped)).toBe(true);
    await expect(vnet.configure("eth0", { type: "test" })).rejects.toMatchObject({
      code: "STOPPED",
    });
  });

  it("fuzz: configure only ever throws ValidationError and never breaks the engine", async () => {
    const { vnet, runner } = await start({ persistence: null });
    const ipv4 = fc.oneof(
      fc.record(
        {
          method: fc.constantFrom("dhcp", "static", "disabled", "bogus", 7),
          address: fc.oneof(fc.ipV4(), fc.string(), fc.integer()),
          prefix_length: fc.oneof(fc.integer({ min: -5, max: 40 }), fc.string()),
          netmask: fc.oneof(fc.constantFrom("255.255.255.0", "255.0.255.0"), fc.anything()),
          gateway: fc.oneof(fc.ipV4(), fc.anything()),
          name_servers: fc.anything(),
          dhcp_request_options: fc.anything(),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    const config = fc.oneof(
      fc.constantFrom(
        { type: "null" },
        { type: "null", reason: "fuzz" },
        { type: "test" },
        { type: "test", ipv4: { method: "disabled" } },
        { type: "test", ipv4: { method: "static", address: "10.1.2.3", prefix_length: 16 } },
      ),
      fc.record(
        {
          type: fc.oneof(fc.constantFrom("test", "null", "ethernet", ""), fc.anything()),
          ipv4,
          psk: fc.oneof(fc.string(), fc.anything()),
          retry_millis: fc.oneof(fc.integer(), fc.anything()),
          reason: fc.anything(),
          extra: fc.anything(),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    const ifname = fc.oneof(fc.constantFrom("eth0", "eth1"), fc.string({ maxLength: 20 }));
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(ifname, config, fc.boolean(), async (name, input, persist) => {
        // Validation runs synchronously inside configure(), before its first await: comparing
        // right around the call isolates its effects from earlier configurations still settling.
        const calls = runner.calls.length;
        const before = JSON.stringify(vnet.table.getAll());
        const attempt = vnet.configure(name, input as never, { persist });
        const callsAfter = runner.calls.length;
        const after = JSON.stringify(vnet.table.getAll());
        try {
          await attempt;
          accepted++;
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          expect(callsAfter).toBe(calls);
          expect(after).toBe(before);
        }
      }),
      { numRuns: 400 },
    );
    expect(accepted).toBeGreaterThan(0);
    // Still works: a valid configuration comes up.
    await vnet.configure("eth0", {
      type: "test",
      ipv4: { method: "static", address: "10.9.9.9", prefix_length: 24 },
    });
    await vnet.waitUntilConfigured("eth0", 3_000);
    expect(vnet.getConfiguration("eth0")).toMatchObject({ ipv4: { address: "10.9.9.9" } });
  }, 60_000);
});
