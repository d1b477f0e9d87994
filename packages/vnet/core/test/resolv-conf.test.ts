import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PropertyTable } from "@runtime/property-table";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { combineSources, NameResolver } from "../src/dns/name-resolver.js";
import {
  mergeNameServers,
  type NameServerEntry,
  renderResolvConf,
} from "../src/dns/resolv-conf.js";
import { silentLogger } from "../src/log.js";

const entries = (record: Record<string, NameServerEntry>) => new Map(Object.entries(record));

describe("mergeNameServers", () => {
  it("interleaves interfaces by position (VintageNet's first fixture)", () => {
    const merged = mergeNameServers(
      [],
      entries({
        eth0: { domain: null, nameServers: ["1.1.1.1", "8.8.8.8"] },
        wlan0: { domain: null, nameServers: ["1.1.1.2", "8.8.8.9"] },
      }),
    );
    expect(merged.nameServers.map((server) => server.address)).toEqual([
      "1.1.1.1",
      "1.1.1.2",
      "8.8.8.8",
      "8.8.8.9",
    ]);
  });

  it("puts globals first and merges duplicates with all their sources (second fixture, total order)", () => {
    const merged = mergeNameServers(
      ["8.8.8.8", "1.1.1.1"],
      entries({
        eth0: { domain: null, nameServers: ["4.4.4.4", "3.3.3.3", "8.8.8.8"] },
        eth1: { domain: null, nameServers: ["4.4.4.4", "1.1.1.1", "2.2.2.2"] },
      }),
    );
    // VintageNet gives 2.2.2.2 before 3.3.3.3 (an artifact of its sort); we order by position.
    expect(merged.nameServers).toEqual([
      { address: "8.8.8.8", from: ["global", "eth0"] },
      { address: "1.1.1.1", from: ["global", "eth1"] },
      { address: "4.4.4.4", from: ["eth0", "eth1"] },
      { address: "3.3.3.3", from: ["eth0"] },
      { address: "2.2.2.2", from: ["eth1"] },
    ]);
  });

  it("is independent of insertion order", () => {
    const a = mergeNameServers(
      ["9.9.9.9"],
      entries({
        b: { domain: "x", nameServers: ["2.2.2.2"] },
        a: { domain: "y", nameServers: ["1.1.1.1"] },
      }),
    );
    const b = mergeNameServers(
      ["9.9.9.9"],
      entries({
        a: { domain: "y", nameServers: ["1.1.1.1"] },
        b: { domain: "x", nameServers: ["2.2.2.2"] },
      }),
    );
    expect(a).toEqual(b);
  });

  it("renders one search line with all domains, and a source comment per server", () => {
    const merged = mergeNameServers(
      ["1.1.1.1"],
      entries({
        eth0: { domain: "example.com", nameServers: ["1.1.1.1", "8.8.8.8"] },
        wlan0: { domain: "example.com", nameServers: [] },
        usb0: { domain: "corp.lan", nameServers: ["8.8.4.4"] },
      }),
    );
    expect(renderResolvConf(merged)).toBe(`# This file is managed by @vnet/core. Do not edit.

# search domain corp.lan from usb0
# search domain example.com from eth0,wlan0
search corp.lan example.com
nameserver 1.1.1.1 # From global,eth0
nameserver 8.8.4.4 # From usb0
nameserver 8.8.8.8 # From eth0
`);
  });
});

describe("NameResolver", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "vnet-dns-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("owns the file: every change rewrites it and republishes name_servers", async () => {
    const table = new PropertyTable();
    const path = join(dir, "resolv.conf");
    const resolver = new NameResolver({
      table,
      logger: silentLogger,
      resolvConfPath: path,
      globalNameServers: ["9.9.9.9", "junk"],
    });
    await resolver.start();
    expect(await readFile(path, "utf8")).toContain("nameserver 9.9.9.9 # From global");
    resolver.setup("eth0", "lan", ["192.168.1.1", "bad"]);
    resolver.setup("eth0", "lan", ["192.168.1.1"]);
    await resolver.settled();
    expect(table.get(["name_servers"])).toEqual([
      { address: "9.9.9.9", from: ["global"] },
      { address: "192.168.1.1", from: ["eth0"] },
    ]);
    expect(await readFile(path, "utf8")).toBe(resolver.render());
    resolver.clear("eth0");
    await resolver.settled();
    expect(await readFile(path, "utf8")).not.toContain("192.168.1.1");
    await resolver.stop();
    expect(table.has(["name_servers"])).toBe(false);
  });

  it("replaces a symlink's target, not the symlink", async () => {
    const target = join(dir, "real-resolv.conf");
    const link = join(dir, "resolv.conf");
    await writeFile(target, "old\n");
    await symlink(target, link);
    const resolver = new NameResolver({
      table: new PropertyTable(),
      logger: silentLogger,
      resolvConfPath: link,
      globalNameServers: [],
    });
    resolver.setup("eth0", null, ["10.0.0.1"]);
    await resolver.settled();
    expect(await readFile(target, "utf8")).toContain("nameserver 10.0.0.1");
    const { lstat } = await import("node:fs/promises");
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
  });
});

describe("NameResolver sources per interface", () => {
  it("keeps IPv4 and IPv6 servers of one interface apart, lists IPv4 first, clears each alone", async () => {
    const table = new PropertyTable();
    const resolver = new NameResolver({
      table,
      logger: silentLogger,
      resolvConfPath: null,
      globalNameServers: [],
    });
    await resolver.start();
    resolver.setup("eth0", null, ["fd00::53", "10.0.0.1"], "ipv6");
    resolver.setup("eth0", "lan", ["10.0.0.1"]);
    resolver.setup("wlan0", null, ["10.1.0.1"]);
    await resolver.settled();
    // eth0: its IPv4 server first, the IPv6 one after (the duplicate 10.0.0.1 listed once).
    expect(table.get(["name_servers"])).toEqual([
      { address: "10.0.0.1", from: ["eth0"] },
      { address: "10.1.0.1", from: ["wlan0"] },
      { address: "fd00::53", from: ["eth0"] },
    ]);
    expect(resolver.render()).toContain("search lan");
    // A DHCPv4 deconfig clears the IPv4 source only.
    resolver.clear("eth0");
    await resolver.settled();
    expect(table.get(["name_servers"])).toEqual([
      { address: "fd00::53", from: ["eth0"] },
      { address: "10.1.0.1", from: ["wlan0"] },
      { address: "10.0.0.1", from: ["eth0"] },
    ]);
    resolver.clear("eth0", "ipv6");
    resolver.clear("eth0", "never-set");
    await resolver.settled();
    expect(table.get(["name_servers"])).toEqual([{ address: "10.1.0.1", from: ["wlan0"] }]);
    await resolver.stop();
  });

  it("combineSources: ipv4 first, then by name; first domain wins; no duplicates", () => {
    expect(
      combineSources(
        new Map([
          ["static6", { domain: "six.example", nameServers: ["fd00::1"] }],
          ["dhcpv6", { domain: null, nameServers: ["fd00::2", "fd00::1"] }],
          ["ipv4", { domain: null, nameServers: ["10.0.0.1"] }],
        ]),
      ),
    ).toEqual({ domain: "six.example", nameServers: ["10.0.0.1", "fd00::2", "fd00::1"] });
  });
});

describe("NameResolver without a file", () => {
  it("publishes name_servers and settles (regression: settled() used to spin forever)", async () => {
    const table = new PropertyTable();
    const resolver = new NameResolver({
      table,
      logger: silentLogger,
      resolvConfPath: null,
      globalNameServers: [],
    });
    await resolver.start();
    resolver.setup("eth0", null, ["10.0.0.1"]);
    await resolver.settled();
    expect(table.get(["name_servers"])).toEqual([{ address: "10.0.0.1", from: ["eth0"] }]);
    await resolver.stop();
  });
});
