import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CommandRunner, createCommandRunner } from "@runtime/command";
import { PropertyTable } from "@runtime/property-table";
import { describeIntegration, type Namespace, useLab, waitFor } from "@testing/netlab";
import { afterEach, beforeEach, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { silentLogger } from "../../src/log.js";
import { InterfacesMonitor } from "../../src/monitor/interfaces-monitor.js";
import { openEventChannel } from "../../src/notify/event-channel.js";
import { type EventRecord, notifyScript } from "../../src/notify/script.js";

describeIntegration(
  "notify script and FIFO relay (real sh)",
  { tools: ["busybox", "mkfifo", "dash"] },
  () => {
    const runner = createCommandRunner();
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), "vnet-relay-"));
      await writeFile(join(dir, "notify.sh"), notifyScript(), { mode: 0o755 });
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    for (const shell of [["dash"], ["busybox", "sh"]]) {
      it(`${shell.join(" ")}: events arrive whole, values with spaces, newlines and UTF-8 intact`, async () => {
        const channel = await openEventChannel(join(dir, "test.fifo"), {
          runner,
          mkfifo: ["mkfifo"],
          logger: silentLogger,
        });
        const records: EventRecord[] = [];
        channel.onRecord((record) => records.push(record));
        const env = {
          VNET_EVENT_FIFO: channel.path,
          VNET_EVENT_SOURCE: "udhcpc",
          interface: "eth0",
          ip: "10.0.0.5",
          dns: "1.1.1.1 8.8.8.8",
          message: 'hello\nworld ✓ "quoted" $HOME `x`',
          lease: "600",
          UNRELATED: "not forwarded",
        };
        await runner.run([...shell, join(dir, "notify.sh"), "bound"], { env });
        await runner.run([...shell, join(dir, "notify.sh"), "/tmp/udhcpd.leases"], {
          env: { VNET_EVENT_FIFO: channel.path, VNET_EVENT_SOURCE: "udhcpd" },
        });
        await waitFor(() => records.length === 2 || undefined, {
          timeoutMs: 5_000,
          description: "two records",
        });
        expect(records[0]).toEqual({
          source: "udhcpc",
          args: ["bound"],
          env: {
            interface: "eth0",
            ip: "10.0.0.5",
            dns: "1.1.1.1 8.8.8.8",
            message: env.message,
            lease: "600",
          },
        });
        expect(records[1]).toEqual({ source: "udhcpd", args: ["/tmp/udhcpd.leases"], env: {} });
        await channel.close();
      });
    }

    it("many concurrent writers: every record arrives whole and separate", async () => {
      const channel = await openEventChannel(join(dir, "many.fifo"), {
        runner,
        mkfifo: ["mkfifo"],
        logger: silentLogger,
      });
      const records: EventRecord[] = [];
      channel.onRecord((record) => records.push(record));
      await Promise.all(
        Array.from({ length: 40 }, (_, index) =>
          runner.run(["sh", join(dir, "notify.sh"), "renew"], {
            env: {
              VNET_EVENT_FIFO: channel.path,
              VNET_EVENT_SOURCE: "udhcpc",
              ip: `10.0.0.${index + 1}`,
              message: "x".repeat(500),
            },
          }),
        ),
      );
      await waitFor(() => records.length === 40 || undefined, {
        timeoutMs: 10_000,
        description: "40 records",
      });
      expect(new Set(records.map((record) => record.env.ip)).size).toBe(40);
      expect(records.every((record) => record.env.message === "x".repeat(500))).toBe(true);
      await channel.close();
    });

    it("without a reader or without the FIFO the script exits 0 at once (the daemon is never blocked)", async () => {
      const result = await runner.run(["sh", join(dir, "notify.sh"), "bound"], {
        env: { VNET_EVENT_FIFO: join(dir, "missing.fifo"), VNET_EVENT_SOURCE: "udhcpc" },
        timeoutMs: 5_000,
      });
      expect(result.exitCode).toBe(0);
      const channel = await openEventChannel(join(dir, "closed.fifo"), {
        runner,
        mkfifo: ["mkfifo"],
        logger: silentLogger,
      });
      const path = channel.path;
      await channel.close();
      // The FIFO stays for the next channel on the same path.
      // A FIFO nobody reads: the script opens it read-write, writes into the pipe buffer and exits.
      const orphan = await runner.run(["sh", join(dir, "notify.sh"), "bound"], {
        env: { VNET_EVENT_FIFO: path, VNET_EVENT_SOURCE: "udhcpc" },
        timeoutMs: 5_000,
      });
      expect(orphan.exitCode).toBe(0);
      // A new channel on the same path reuses the FIFO and starts clean (the kernel dropped the
      // unread record when the last descriptor closed).
      const reused = await openEventChannel(path, {
        runner,
        mkfifo: ["mkfifo"],
        logger: silentLogger,
      });
      const records: EventRecord[] = [];
      reused.onRecord((record) => records.push(record));
      await runner.run(["sh", join(dir, "notify.sh"), "renew"], {
        env: { VNET_EVENT_FIFO: path, VNET_EVENT_SOURCE: "udhcpc" },
      });
      await waitFor(() => records.length > 0 || undefined, {
        timeoutMs: 5_000,
        description: "a record",
      });
      expect(records.map((record) => record.args)).toEqual([["renew"]]);
      await reused.close();
    });
  },
);

/** Runs every command inside `namespace` (what a process started there would do). */
function runnerIn(namespace: Namespace, base: CommandRunner): CommandRunner {
  const wrap = (argv: readonly string[]) => ["ip", "netns", "exec", namespace.name, ...argv];
  return {
    run: (argv, options) => base.run(wrap(argv), options),
    start: (argv, options) => base.start(wrap(argv), options),
  };
}

describeIntegration("interfaces monitor on a real kernel (in a namespace)", { tools: [] }, () => {
  const lab = useLab("vnet-core-monitor", { per: "test" });

  async function startMonitor(namespace: Namespace) {
    const table = new PropertyTable();
    const monitor = new InterfacesMonitor({
      table,
      runner: runnerIn(namespace, createCommandRunner()),
      logger: silentLogger,
      clock: systemClock,
      // The test process sees the root namespace's sysfs; hw_path is covered by the engine test.
      sysClassNet: join(lab().dir, "no-sysfs"),
    });
    await monitor.start();
    const until = (check: () => boolean, description: string) =>
      waitFor(() => check() || undefined, { timeoutMs: 10_000, intervalMs: 10, description });
    return { table, monitor, until };
  }

  it("initial dump, then links and addresses as they change, without polling", async () => {
    const device = await lab().namespace("device");
    const { table, monitor, until } = await startMonitor(device);
    expect(table.get(["interface", "lo", "present"])).toBe(true);
    expect(table.get(["interface", "lo", "addresses"])).toContainEqual({
      family: "inet",
      address: "127.0.0.1",
      prefix_length: 8,
      netmask: "255.0.0.0",
      scope: "host",
    });
    await device.ip(["link", "add", "eth1", "type", "veth", "peer", "name", "eth2"]);
    await until(() => table.get(["interface", "eth1", "present"]) === true, "eth1 present");
    expect(table.get(["interface", "eth1", "lower_up"])).toBe(false);
    expect(table.get(["interface", "eth1", "mac_address"])).toBe(
      (await device.linkInfo("eth1")).address,
    );
    await device.setLink("eth1", "up");
    await device.setLink("eth2", "up");
    await until(() => table.get(["interface", "eth1", "lower_up"]) === true, "carrier");
    await device.addAddress("eth1", "192.168.50.2/24");
    await device.addAddress("eth1", "2001:db8:50::2/64", { noDad: true });
    await until(
      () => (table.get<unknown[]>(["interface", "eth1", "addresses"]) ?? []).length >= 2,
      "addresses",
    );
    expect(table.get(["interface", "eth1", "addresses"])).toEqual(
      expect.arrayContaining([
        {
          family: "inet",
          address: "192.168.50.2",
          prefix_length: 24,
          netmask: "255.255.255.0",
          scope: "universe",
        },
        {
          family: "inet6",
          address: "2001:db8:50::2",
          prefix_length: 64,
          netmask: "ffff:ffff:ffff:ffff::",
          scope: "universe",
        },
      ]),
    );
    await device.setLink("eth2", "down");
    await until(() => table.get(["interface", "eth1", "lower_up"]) === false, "carrier lost");
    await device.ip(["addr", "del", "192.168.50.2/24", "dev", "eth1"]);
    await until(
      () =>
        !(table.get<Array<{ address: string }>>(["interface", "eth1", "addresses"]) ?? []).some(
          (a) => a.address === "192.168.50.2",
        ),
      "address removed",
    );
    await monitor.stop();
    expect(table.getAll()).toEqual([]);
  });

  it("rename, and delete + re-create between two reads: the unplug is still seen", async () => {
    const device = await lab().namespace("device");
    const { table, monitor, until } = await startMonitor(device);
    await device.ip(["link", "add", "eth1", "type", "veth", "peer", "name", "eth2"]);
    await until(() => table.get(["interface", "eth1", "present"]) === true, "eth1");
    await device.ip(["link", "set", "eth1", "name", "wan0"]);
    await until(() => table.get(["interface", "wan0", "present"]) === true, "wan0");
    expect(table.has(["interface", "eth1", "present"])).toBe(false);
    expect(table.has(["interface", "eth1", "lower_up"])).toBe(false);

    const presence: Array<boolean | undefined> = [];
    table.subscribe(["interface", "wan0", "present"], (event) =>
      presence.push(event.value as boolean | undefined),
    );
    // One shell, two commands: faster than one re-read can follow.
    await device.exec([
      "sh",
      "-c",
      "ip link del wan0 && ip link add wan0 type veth peer name wan1",
    ]);
    await until(() => presence.length >= 2 && presence.at(-1) === true, "wan0 gone and back");
    expect(presence).toEqual([undefined, true]);
    await monitor.stop();
  });

  it("stop leaves no ip monitor running in the namespace", async () => {
    const device = await lab().namespace("device");
    const { monitor, until } = await startMonitor(device);
    await until(() => true, "started");
    expect((await device.pids()).length).toBeGreaterThan(0); // ip monitor runs there
    await monitor.stop();
    await waitFor(async () => (await device.pids()).length === 0 || undefined, {
      timeoutMs: 5_000,
      description: "no process in the namespace",
    });
  });
});
