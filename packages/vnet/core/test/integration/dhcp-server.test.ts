import { join } from "node:path";
import { describeIntegration, runUdhcpc, useLab } from "@testing/netlab";
import { expect, it } from "vitest";
import type { DhcpdLease } from "../../src/index.js";
import { startEngine } from "./fixtures/engine.js";

describeIntegration(
  "DHCP server helper (udhcpd) with a real client",
  { tools: ["busybox", "udhcpd", "mkfifo"] },
  () => {
    const lab = useLab("vnet-core-dhcpd");

    it("hands out a lease, publishes it, reports lan, and leaves nothing running after stop", async () => {
      const device = await lab().namespace("device");
      const laptop = await lab().namespace("laptop");
      await lab().veth(device, "usb0", laptop, "eth0");
      const engine = await startEngine(device, {
        tmpDir: join(lab().dir, "vnet"),
        resolvConfPath: join(lab().dir, "resolv.conf"),
        persistenceDir: null,
        internetHosts: [{ host: "192.0.2.1", port: 53 }],
      });
      await engine.configure("usb0", {
        type: "lab",
        ipv4: { method: "static", address: "172.31.5.1", prefix_length: 24 },
        dhcpd: {
          start: "172.31.5.10",
          end: "172.31.5.20",
          auto_time: 1,
          options: { router: "172.31.5.1", dns: ["172.31.5.1"], subnet: "255.255.255.0" },
        },
      });
      await engine.waitForValue("interface/usb0/state", "configured");
      await engine.waitForValue("interface/usb0/connection", "lan");
      await engine.waitFor("available_interfaces", (value) => JSON.stringify(value) === '["usb0"]');
      // The service starts right after the state turns configured; it publishes an empty list first.
      await engine.waitFor("interface/usb0/dhcpd/leases", (value) => Array.isArray(value));
      expect(engine.get("interface/usb0/dhcpd/leases")).toEqual([]);

      const lease = await runUdhcpc(laptop, "eth0", { hostname: "laptop" });
      expect(lease.ip).toMatch(/^172\.31\.5\.(1\d|20)$/);
      expect(lease.routers).toEqual(["172.31.5.1"]);
      const mac = (await laptop.linkInfo("eth0")).address;
      const leases = await engine.waitFor<DhcpdLease[]>(
        "interface/usb0/dhcpd/leases",
        (value) => (value ?? []).length > 0,
      );
      expect(leases).toEqual([
        { leasetime: expect.any(Number), lease_nip: lease.ip, lease_mac: mac, hostname: "laptop" },
      ]);

      const childPid = engine.child.pid;
      await engine.stop();
      expect((await device.pids()).filter((pid) => pid !== childPid)).toEqual([]);
    });
  },
);
