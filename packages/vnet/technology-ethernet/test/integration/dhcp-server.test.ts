// DHCP server mode: the device serves DHCP on its interface and a "laptop" namespace leases an
// address with busybox udhcpc. Two cables: eth0 (a configured server) and usb0 (a direct link,
// the USB-gadget case, modelled by a veth pair).
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describeIntegration, type Namespace, runUdhcpc, useLab } from "@testing/netlab";
import type { DhcpdLease } from "@vnet/core";
import type { EngineInNamespace } from "@vnet/core/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { addressesOf, startEthernetEngine } from "./fixtures.js";

describeIntegration(
  "ethernet DHCP server: a real lease for busybox udhcpc, published; the direct preset",
  { tools: ["busybox", "mkfifo", "sysctl"] },
  () => {
    const lab = useLab("eth-dhcpd");
    let device: Namespace;
    let laptop: Namespace;
    let engine: EngineInNamespace;

    beforeAll(async () => {
      device = await lab().namespace("device");
      laptop = await lab().namespace("laptop");
      await lab().veth(device, "eth0", laptop, "eth0");
      await lab().veth(device, "usb0", laptop, "usb0");
      // The engine's hostname "device" with usb0 derives 172.31.1.52/30 (MD5 "deviceusb0").
      engine = await startEthernetEngine(lab(), device, { hostname: "device" });
    });

    afterAll(async () => {
      await engine?.child.stop().catch(() => {});
    });

    /** Waits for the leases property to list `ip`, and returns that lease. */
    async function publishedLease(ifname: string, ip: string): Promise<DhcpdLease> {
      const leases = await engine.waitFor<DhcpdLease[]>(
        `interface/${ifname}/dhcpd/leases`,
        (value) => value?.some((lease) => lease.lease_nip === ip) === true,
        // udhcpd writes its lease file every auto_time (10 s) and then notifies the engine.
        30_000,
      );
      return leases!.find((lease) => lease.lease_nip === ip)!;
    }

    it("static IPv4 with dhcpd: the laptop leases an address of the pool; the leases property shows it", async () => {
      await engine.configure("eth0", {
        type: "ethernet",
        ipv4: { method: "static", address: "192.168.24.1", prefix_length: 24 },
        dhcpd: {
          start: "192.168.24.10",
          end: "192.168.24.20",
          options: { router: "192.168.24.1", dns: "192.168.24.1", domain: "lab.test" },
        },
      });
      await engine.waitForValue("interface/eth0/state", "configured");
      await engine.waitFor("interface/eth0/dhcpd/leases", (value) => Array.isArray(value));
      const lease = await runUdhcpc(laptop, "eth0", { hostname: "laptop" });
      expect(lease.ip).toMatch(/^192\.168\.24\.(1\d|20)$/);
      expect(lease).toMatchObject({
        prefixLength: 24,
        routers: ["192.168.24.1"],
        dns: ["192.168.24.1"],
        serverId: "192.168.24.1",
      });
      expect(lease.options.domain).toBe("lab.test");
      const published = await publishedLease("eth0", lease.ip);
      expect(published).toMatchObject({
        lease_mac: (await laptop.linkInfo("eth0")).address,
        hostname: "laptop",
      });
      expect(published.leasetime).toBeGreaterThan(0);
      // No gateway on the device: a LAN-only interface.
      await engine.waitForValue("interface/eth0/connection", "lan");
    });

    it("direct (USB gadget): zero configuration gives the laptop the other address of a derived /30", async () => {
      await engine.configure("usb0", { type: "ethernet", direct: {} });
      await engine.waitForValue("interface/usb0/state", "configured");
      await engine.waitFor("interface/usb0/addresses", () =>
        addressesOf(engine, "usb0", "inet").some((address) => address.address === "172.31.1.53"),
      );
      expect(addressesOf(engine, "usb0", "inet")).toEqual([
        expect.objectContaining({ address: "172.31.1.53", prefix_length: 30 }),
      ]);
      const lease = await runUdhcpc(laptop, "usb0", { hostname: "laptop" });
      expect(lease).toMatchObject({ ip: "172.31.1.54", prefixLength: 30, routers: [], dns: [] });
      await publishedLease("usb0", "172.31.1.54");
      const ping = await laptop.exec(["busybox", "ping", "-c", "1", "-W", "2", "172.31.1.53"], {
        allowFailure: true,
        timeoutMs: 10_000,
      });
      expect(ping.exitCode).toBe(0);
      await engine.waitForValue("interface/usb0/connection", "lan");
      // The laptop's Internet traffic must not go to the device: no default route was offered
      // (its default route through eth0, from the first test, stays the only one).
      expect(
        (await laptop.routes({ family: 4 })).filter(
          (route) => route.destination === "default" && route.dev === "usb0",
        ),
      ).toEqual([]);
    });

    it("direct with a given /24: the device is .1, the laptop gets one of the rest", async () => {
      await laptop.ip(["-4", "addr", "flush", "dev", "usb0"]);
      await engine.configure("usb0", {
        type: "ethernet",
        direct: { subnet: "192.168.7.0/24" },
      });
      await engine.waitForValue("interface/usb0/state", "configured");
      await engine.waitFor("interface/usb0/addresses", () =>
        addressesOf(engine, "usb0", "inet").some((address) => address.address === "192.168.7.1"),
      );
      const lease = await runUdhcpc(laptop, "usb0");
      expect(lease.ip).toMatch(/^192\.168\.7\.\d+$/);
      expect(lease.ip).not.toBe("192.168.7.1");
      expect(lease.prefixLength).toBe(24);
      await publishedLease("usb0", lease.ip);
    });

    it("stop: udhcpd and everything else gone; lease and config files removed", async () => {
      const childPid = engine.child.pid;
      await engine.stop();
      expect((await device.pids()).filter((pid) => pid !== childPid)).toEqual([]);
      expect(await readdir(join(lab().dir, "vnet"))).toEqual(
        expect.not.arrayContaining([expect.stringMatching(/^udhcpd\.conf/)]),
      );
    });
  },
);
