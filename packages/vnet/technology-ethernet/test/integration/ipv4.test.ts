// IPv4 end to end: the engine with the ethernet technology in a "device" namespace, cabled by a
// veth pair to an "isp" namespace running busybox udhcpd and a TCP responder standing in for a
// host on the Internet (an address on the ISP's loopback, beyond the device's subnet).
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  describeIntegration,
  type Namespace,
  startTcpResponder,
  startUdhcpd,
  type Udhcpd,
  useLab,
  type VethPair,
  waitFor,
} from "@testing/netlab";
import type { DhcpOptions } from "@vnet/core";
import type { EngineInNamespace } from "@vnet/core/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { addressesOf, pidsRunning, startEthernetEngine } from "./fixtures.js";

const ISP = "10.88.0.1";
const INTERNET = { host: "203.0.113.10", port: 8080 };

describeIntegration(
  "ethernet IPv4: DHCP from udhcpd, carrier loss, static addressing, fixed MAC",
  { tools: ["busybox", "udhcpd", "mkfifo", "sysctl"] },
  () => {
    const lab = useLab("eth-ipv4");
    let isp: Namespace;
    let device: Namespace;
    let cable: VethPair;
    let server: Udhcpd;
    let engine: EngineInNamespace;

    beforeAll(async () => {
      isp = await lab().namespace("isp");
      device = await lab().namespace("device");
      cable = await lab().veth(isp, "eth0", device, "eth0");
      await isp.addAddress("eth0", `${ISP}/24`);
      server = await startUdhcpd(isp, {
        interface: "eth0",
        start: "10.88.0.100",
        end: "10.88.0.150",
        router: ISP,
        dns: [ISP],
        extraConfig: ["opt domain lab.test"],
      });
      await isp.ip(["addr", "add", `${INTERNET.host}/32`, "dev", "lo"]);
      await startTcpResponder(isp, { address: INTERNET.host, port: INTERNET.port });
      engine = await startEthernetEngine(lab(), device, { internetHosts: [INTERNET] });
    });

    afterAll(async () => {
      // The last test stops the engine; this is for a failure halfway.
      await engine?.child.stop().catch(() => {});
    });

    it("DHCP (the default): a lease from udhcpd, dhcp_options, route, name server, Internet", async () => {
      await engine.configure("eth0", { type: "ethernet" });
      await engine.waitForValue("interface/eth0/state", "configured");
      expect(engine.get("interface/eth0/type")).toBe("ethernet");
      expect(engine.get("interface/eth0/config")).toEqual({
        type: "ethernet",
        ipv4: { method: "dhcp" },
        ipv6: { method: "slaac" },
      });
      const options = (await engine.waitFor<DhcpOptions>(
        "interface/eth0/dhcp_options",
        (value) => value?.ip !== undefined,
      ))!;
      expect(options).toMatchObject({
        router: [ISP],
        dns: [ISP],
        mask: 24,
        subnet: "255.255.255.0",
        serverid: ISP,
        domain: "lab.test",
        lease: 600,
      });
      expect(options.ip).toMatch(/^10\.88\.0\.1[0-5]\d$/);
      // The kernel has the address, and udhcpd has the lease for our MAC and hostname.
      expect((await device.addresses("eth0")).map((address) => address.address)).toContain(
        options.ip,
      );
      const mac = (await device.linkInfo("eth0")).address;
      expect(await server.leases()).toContainEqual(
        expect.objectContaining({ ip: options.ip, mac, hostname: "device" }),
      );
      await engine.waitFor("interface/eth0/addresses", () =>
        addressesOf(engine, "eth0", "inet").some((address) => address.address === options.ip),
      );
      await engine.waitForValue("interface/eth0/connection", "internet");
      expect(
        (await device.routes({ family: 4 })).some(
          (route) => route.destination === "default" && route.gateway === ISP,
        ),
      ).toBe(true);
      await engine.waitFor("name_servers", (servers) =>
        JSON.stringify(servers).includes(`"address":"${ISP}"`),
      );
      await waitFor(
        async () =>
          (await readFile(join(lab().dir, "resolv.conf"), "utf8")).includes(`nameserver ${ISP}`) ||
          undefined,
        { timeoutMs: 5_000, description: "resolv.conf to list the DHCP name server" },
      );
    });

    it("carrier lost and back: DHCP stops, then restarts with a new udhcpc and a new lease", async () => {
      const [before] = await pidsRunning(device, "udhcpc");
      expect(before).toBeDefined();
      await cable.a.down(); // unplugged at the other end
      await engine.waitForValue("interface/eth0/lower_up", false);
      await engine.waitForValue("interface/eth0/connection", "disconnected");
      await engine.waitFor("interface/eth0/dhcp_options", (value) => value === undefined);
      await waitFor(async () => (await pidsRunning(device, "udhcpc")).length === 0 || undefined, {
        timeoutMs: 10_000,
        description: "udhcpc to stop while the cable is out",
      });
      expect(engine.get("interface/eth0/state")).toBe("configured"); // carrier is not hotplug
      const offersBefore = server.log.matching(/sending OFFER/i).length;
      await cable.a.up();
      await engine.waitForValue("interface/eth0/lower_up", true);
      await engine.waitFor<DhcpOptions>("interface/eth0/dhcp_options", (value) => !!value?.ip);
      const [after] = await pidsRunning(device, "udhcpc");
      expect(after).toBeDefined();
      expect(after).not.toBe(before);
      // A real new DHCP exchange happened at the server.
      expect(server.log.matching(/sending OFFER/i).length).toBeGreaterThan(offersBefore);
      await engine.waitForValue("interface/eth0/connection", "internet", 30_000);
    });

    it("static with a fixed MAC: the address answers pings from the peer, from that MAC", async () => {
      await engine.configure("eth0", {
        type: "ethernet",
        mac_address: "02:00:00:00:00:42",
        ipv4: {
          method: "static",
          address: "10.88.0.42",
          netmask: "255.255.255.0",
          gateway: ISP,
          name_servers: [ISP],
        },
      });
      await engine.waitForValue("interface/eth0/state", "configured");
      expect((await device.linkInfo("eth0")).address).toBe("02:00:00:00:00:42");
      await engine.waitFor("interface/eth0/addresses", () =>
        addressesOf(engine, "eth0", "inet").some((address) => address.address === "10.88.0.42"),
      );
      // The DHCP lease of the previous configuration is gone, and so is udhcpc.
      expect(addressesOf(engine, "eth0", "inet").map((address) => address.address)).toEqual([
        "10.88.0.42",
      ]);
      expect(engine.get("interface/eth0/dhcp_options")).toBeUndefined();
      expect(await pidsRunning(device, "udhcpc")).toEqual([]);
      const ping = await isp.exec(["busybox", "ping", "-c", "1", "-W", "2", "10.88.0.42"], {
        allowFailure: true,
        timeoutMs: 10_000,
      });
      expect(ping.exitCode).toBe(0);
      const { stdout } = await isp.exec(["ip", "neigh", "show", "10.88.0.42", "dev", "eth0"]);
      expect(stdout).toContain("lladdr 02:00:00:00:00:42");
      await engine.waitForValue("interface/eth0/connection", "internet", 30_000);
    });

    it("stop: no process left in the namespace, no generated file left", async () => {
      const childPid = engine.child.pid;
      await engine.stop();
      expect((await device.pids()).filter((pid) => pid !== childPid)).toEqual([]);
      expect(await readdir(join(lab().dir, "vnet"))).toEqual(["notify.sh"]);
    });
  },
);
