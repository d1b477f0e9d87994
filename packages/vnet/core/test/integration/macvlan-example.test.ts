import { join } from "node:path";
import { describeIntegration, startUdhcpd, useLab } from "@testing/netlab";
import { expect, it } from "vitest";
import type { AddressInfo } from "../../src/index.js";
import { startEngine } from "./fixtures/engine.js";

describeIntegration(
  "the example macvlan technology on a real kernel",
  { tools: ["busybox", "udhcpd", "mkfifo"] },
  () => {
    const lab = useLab("vnet-core-macvlan");

    it("creates mv0 on eth0, leases an address over it, and deletes it on deconfigure", async () => {
      const isp = await lab().namespace("isp");
      const device = await lab().namespace("device");
      await lab().veth(isp, "eth0", device, "eth0");
      await isp.addAddress("eth0", "10.77.0.1/24");
      await startUdhcpd(isp, {
        interface: "eth0",
        start: "10.77.0.50",
        end: "10.77.0.60",
        router: "10.77.0.1",
      });
      const engine = await startEngine(device, {
        tmpDir: join(lab().dir, "vnet"),
        resolvConfPath: join(lab().dir, "resolv.conf"),
        persistenceDir: null,
        internetHosts: [{ host: "192.0.2.1", port: 53 }],
      });
      // The parent only needs its link up.
      await engine.configure("eth0", { type: "lab", ipv4: { method: "disabled" } });
      await engine.configure("mv0", {
        type: "macvlan",
        parent: "eth0",
        mac_address: "02:00:00:00:77:01",
      });
      await engine.waitForValue("interface/mv0/state", "configured");
      await engine.waitForValue("interface/mv0/present", true);
      expect(engine.get("interface/mv0/mac_address")).toBe("02:00:00:00:77:01");
      const leased = await engine.waitFor<AddressInfo[]>("interface/mv0/addresses", (addresses) =>
        (addresses ?? []).some(
          (address) => address.family === "inet" && address.address.startsWith("10.77.0."),
        ),
      );
      expect(leased!.find((address) => address.family === "inet")?.prefix_length).toBe(24);
      await engine.waitForValue("interface/mv0/connection", "lan");
      expect((await device.links()).map((link) => link.ifname)).toContain("mv0");

      await engine.configure("mv0", { type: "null" });
      await engine.waitForValue("interface/mv0/type", "null");
      await engine.waitFor("interface/mv0/present", (present) => present === undefined);
      expect((await device.links()).map((link) => link.ifname)).not.toContain("mv0");
      await engine.stop();
    });
  },
);
