import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describeIntegration, useLab } from "@testing/netlab";
import { expect, it } from "vitest";
import { startEngine } from "./fixtures/engine.js";

describeIntegration(
  "a saved configuration survives a restart of the engine",
  { tools: ["mkfifo"] },
  () => {
    const lab = useLab("vnet-core-restart");

    it("configure, stop, start again: the interface comes back with the saved config", async () => {
      const device = await lab().namespace("device");
      const peer = await lab().namespace("peer");
      await lab().veth(device, "eth0", peer, "eth0");
      const options = {
        tmpDir: join(lab().dir, "vnet"),
        resolvConfPath: join(lab().dir, "resolv.conf"),
        persistenceDir: join(lab().dir, "saved"),
        internetHosts: [{ host: "192.0.2.1", port: 53 }],
        defaultConfig: { eth0: { type: "lab", ipv4: { method: "disabled" } } },
      };
      const first = await startEngine(device, options);
      await first.configure("eth0", {
        type: "lab",
        ipv4: { method: "static", address: "192.168.77.2", prefix_length: 24 },
      });
      await first.waitForValue("interface/eth0/state", "configured");
      await first.stop();
      expect(await readdir(join(lab().dir, "saved"))).toEqual(["eth0"]);
      // The kernel address went with the tear-down.
      expect(
        (await device.addresses("eth0")).some((address) => address.address === "192.168.77.2"),
      ).toBe(false);

      const second = await startEngine(device, options);
      await second.waitForValue("interface/eth0/state", "configured");
      await second.waitFor("interface/eth0/addresses", (addresses) =>
        ((addresses as Array<{ address: string }> | undefined) ?? []).some(
          (address) => address.address === "192.168.77.2",
        ),
      );
      expect(second.get("interface/eth0/config")).toMatchObject({
        ipv4: { method: "static", address: "192.168.77.2" },
      });
      await second.stop();
    });
  },
);
