// IPv6 end to end: a "router" namespace runs dnsmasq (router advertisements, then DHCPv6) on the
// other end of the device's cable. IPv4 is disabled throughout, so every address, route and
// connection state comes from IPv6 alone.
import { readFile } from "node:fs/promises";
import {
  type Dnsmasq,
  describeIntegration,
  type Namespace,
  startDnsmasq,
  useLab,
  waitFor,
} from "@testing/netlab";
import type { Dhcpv6Options, NameServerInfo } from "@vnet/core";
import type { EngineInNamespace } from "@vnet/core/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { addressesOf, pidsRunning, startEthernetEngine } from "./fixtures.js";

const PREFIX = "fd00:5::";

describeIntegration(
  "ethernet IPv6: disabled, SLAAC from dnsmasq's router advertisements, static, DHCPv6 (dhclient -6)",
  { tools: ["busybox", "dnsmasq", "dhclient", "mkfifo", "sysctl"] },
  () => {
    const lab = useLab("eth-ipv6");
    let router: Namespace;
    let device: Namespace;
    let dnsmasq: Dnsmasq;
    let engine: EngineInNamespace;

    const kernelInet6 = async () =>
      (await device.addresses("eth0")).filter((address) => address.family === "inet6");

    beforeAll(async () => {
      router = await lab().namespace("router");
      device = await lab().namespace("device");
      await lab().veth(router, "eth0", device, "eth0");
      await router.addAddress("eth0", `${PREFIX}1/64`, { noDad: true });
      dnsmasq = await startDnsmasq(router, {
        interface: "eth0",
        routerAdvertisements: { prefix: PREFIX },
        dns: false,
      });
      engine = await startEthernetEngine(lab(), device);
    });

    afterAll(async () => {
      await engine?.child.stop().catch(() => {});
    });

    it("disabled: disable_ipv6 is set and the interface has no IPv6 address at all", async () => {
      await engine.configure("eth0", {
        type: "ethernet",
        ipv4: { method: "disabled" },
        ipv6: { method: "disabled" },
      });
      await engine.waitForValue("interface/eth0/state", "configured");
      expect(await device.readSysctl("net.ipv6.conf.eth0.disable_ipv6")).toBe("1");
      await waitFor(async () => (await kernelInet6()).length === 0 || undefined, {
        timeoutMs: 10_000,
        description: "eth0 to lose its IPv6 addresses",
      });
      await engine.waitFor("interface/eth0/addresses", () =>
        (engine.get<Array<{ family: string }>>("interface/eth0/addresses") ?? []).every(
          (address) => address.family !== "inet6",
        ),
      );
      expect(engine.get("interface/eth0/connection")).toBe("disconnected");
    });

    it("SLAAC (the default): an address from the router's prefix appears in addresses; lan", async () => {
      await engine.configure("eth0", { type: "ethernet", ipv4: { method: "disabled" } });
      await engine.waitForValue("interface/eth0/state", "configured");
      expect(await device.readSysctl("net.ipv6.conf.eth0.disable_ipv6")).toBe("0");
      expect(await device.readSysctl("net.ipv6.conf.eth0.accept_ra")).toBe("2");
      expect(await device.readSysctl("net.ipv6.conf.eth0.autoconf")).toBe("1");
      await engine.waitFor("interface/eth0/addresses", () =>
        addressesOf(engine, "eth0", "inet6").some((address) =>
          address.address.startsWith("fd00:5:"),
        ),
      );
      const [slaac] = addressesOf(engine, "eth0", "inet6");
      expect(slaac).toMatchObject({ prefix_length: 64, netmask: "ffff:ffff:ffff:ffff::" });
      // The kernel made it from the advertisement (it has a limited lifetime, unlike a static one).
      const kernel = (await kernelInet6()).find((address) => address.address === slaac!.address);
      expect(kernel).toBeDefined();
      expect(addressesOf(engine, "eth0", "inet6", "link")).toHaveLength(1);
      // IPv4 is disabled: IPv6 alone makes the interface usable on the LAN.
      await engine.waitForValue("interface/eth0/connection", "lan");
    });

    it("static: the address answers pings from the router; route and name server in place", async () => {
      await engine.configure("eth0", {
        type: "ethernet",
        ipv4: { method: "disabled" },
        ipv6: {
          method: "static",
          address: `${PREFIX}42/64`,
          gateway: `${PREFIX}1`,
          name_servers: [`${PREFIX}53`],
        },
      });
      await engine.waitForValue("interface/eth0/state", "configured");
      expect(await device.readSysctl("net.ipv6.conf.eth0.accept_ra")).toBe("0");
      expect(await device.readSysctl("net.ipv6.conf.eth0.autoconf")).toBe("0");
      // Listed once duplicate address detection has passed (tentative addresses are left out).
      await engine.waitFor("interface/eth0/addresses", () =>
        addressesOf(engine, "eth0", "inet6").some((address) => address.address === `${PREFIX}42`),
      );
      // The SLAAC address of the previous configuration is gone and none comes back.
      expect(addressesOf(engine, "eth0", "inet6").map((address) => address.address)).toEqual([
        `${PREFIX}42`,
      ]);
      const ping = await router.exec(["busybox", "ping6", "-c", "1", "-W", "2", `${PREFIX}42`], {
        allowFailure: true,
        timeoutMs: 10_000,
      });
      expect(ping.exitCode).toBe(0);
      expect(await device.routes({ family: 6 })).toContainEqual(
        expect.objectContaining({
          destination: "default",
          gateway: `${PREFIX}1`,
          dev: "eth0",
          metric: 10,
        }),
      );
      await engine.waitFor<NameServerInfo[]>(
        "name_servers",
        (servers) => servers?.some((server) => server.address === `${PREFIX}53`) === true,
      );
      await engine.waitForValue("interface/eth0/connection", "lan");
    });

    it("DHCPv6: dhclient -6 leases an address from dnsmasq; dhcpv6_options and the name server are published", async () => {
      await dnsmasq.stop();
      dnsmasq = await startDnsmasq(router, {
        interface: "eth0",
        dns: false,
        extraArgs: [
          "--enable-ra",
          `--dhcp-range=${PREFIX}100,${PREFIX}1ff,64,1h`,
          `--dhcp-option=option6:dns-server,[${PREFIX}1]`,
          "--dhcp-option=option6:domain-search,lab.test",
        ],
      });
      await engine.configure("eth0", {
        type: "ethernet",
        ipv4: { method: "disabled" },
        ipv6: { method: "dhcpv6" },
      });
      await engine.waitForValue("interface/eth0/state", "configured");
      const options = (await engine.waitFor<Dhcpv6Options>(
        "interface/eth0/dhcpv6_options",
        (value) => value?.ip6_address !== undefined,
        30_000,
      ))!;
      expect(options).toMatchObject({
        ip6_prefixlen: 128,
        name_servers: [`${PREFIX}1`],
        domain_search: ["lab.test"],
        max_life: 3600,
      });
      const leased = options.ip6_address!;
      expect(leased).toMatch(/^fd00:5::1[0-9a-f]{2}$/);
      const kernel = (await kernelInet6()).find((address) => address.address === leased);
      expect(kernel?.prefixLength).toBe(128);
      await engine.waitFor<NameServerInfo[]>(
        "name_servers",
        (servers) =>
          servers?.some(
            (server) => server.address === `${PREFIX}1` && server.from.includes("eth0"),
          ) === true,
      );
      await engine.waitFor("interface/eth0/addresses", () =>
        addressesOf(engine, "eth0", "inet6").some((address) => address.address === leased),
      );
      const ping = await router.exec(["busybox", "ping6", "-c", "1", "-W", "2", leased], {
        allowFailure: true,
        timeoutMs: 10_000,
      });
      expect(ping.exitCode).toBe(0);
      // dnsmasq knows the client by the hostname it sent (the FQDN option).
      expect(await readFile(dnsmasq.leaseFile, "utf8")).toMatch(new RegExp(`${leased} device`));
    });

    it("stop: dhclient and everything else gone", async () => {
      expect(await pidsRunning(device, "dhclient")).toHaveLength(1);
      const childPid = engine.child.pid;
      await engine.stop();
      expect((await device.pids()).filter((pid) => pid !== childPid)).toEqual([]);
    });
  },
);
