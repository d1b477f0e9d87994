import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  describeIntegration,
  type Namespace,
  startUdhcpd,
  type Udhcpd,
  useLab,
  type VethPair,
  waitFor,
} from "@testing/netlab";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AddressInfo, NameServerInfo } from "../../src/index.js";
import { type EngineInNamespace, startEngine } from "./fixtures/engine.js";
import { InternetStandIn } from "./fixtures/internet-stand-in.js";

const ISP = "10.88.0.1";
const INTERNET_HOST = "203.0.113.10";
const INTERNET_PORT = 8080;

describeIntegration(
  "engine in a namespace: DHCP, carrier, Internet, hotplug",
  { tools: ["busybox", "udhcpd", "mkfifo"] },
  () => {
    const lab = useLab("vnet-core-engine");
    let isp: Namespace;
    let device: Namespace;
    let cable: VethPair;
    let dhcpServer: Udhcpd;
    let internet: InternetStandIn;
    let engine: EngineInNamespace;
    let tmpDir: string;
    let resolvConf: string;

    async function startDhcpServer(): Promise<void> {
      await isp.addAddress("eth0", `${ISP}/24`);
      dhcpServer = await startUdhcpd(isp, {
        interface: "eth0",
        start: "10.88.0.100",
        end: "10.88.0.150",
        router: ISP,
        dns: [ISP],
      });
    }

    const leasedAddress = () =>
      (engine.get("interface/eth0/addresses") as AddressInfo[] | undefined)?.find(
        (address) => address.family === "inet" && address.scope === "universe",
      );

    beforeAll(async () => {
      isp = await lab().namespace("isp");
      device = await lab().namespace("device");
      cable = await lab().veth(isp, "eth0", device, "eth0");
      await startDhcpServer();
      internet = await InternetStandIn.start(isp, INTERNET_HOST, INTERNET_PORT);
      tmpDir = join(lab().dir, "vnet");
      resolvConf = join(lab().dir, "resolv.conf");
      engine = await startEngine(device, {
        tmpDir,
        resolvConfPath: resolvConf,
        persistenceDir: join(lab().dir, "saved"),
        internetHosts: [{ host: INTERNET_HOST, port: INTERNET_PORT }],
        // VNET_TEST_DEBUG=1 puts the engine's and the runner's debug lines in the child's output.
        debug: process.env.VNET_TEST_DEBUG === "1",
      });
    });

    afterAll(async () => {
      // The last test stops the engine; this is only for a failure halfway.
      if (engine && !engine.child.pid) return;
      await engine?.child.stop().catch(() => {});
    });

    it("publishes the kernel's view of eth0 before it is configured", async () => {
      await engine.waitForValue("interface/eth0/present", true);
      expect(engine.get("interface/eth0/hw_path")).toBe("/devices/virtual");
      expect(engine.get("interface/eth0/mac_address")).toBe(
        (await device.linkInfo("eth0")).address,
      );
      expect(engine.get("interface/lo/present")).toBe(true);
      expect(engine.get("interface/eth0/state")).toBeUndefined(); // not configured: no machine yet
    });

    it("configured with DHCP: leases an address, sets route and DNS, reaches the Internet", async () => {
      await engine.configure("eth0", { type: "lab", ipv4: { method: "dhcp" } });
      await engine.waitForValue("interface/eth0/state", "configured");
      await engine.waitForValue("interface/eth0/lower_up", true);
      await engine.waitFor("interface/eth0/addresses", () => leasedAddress() !== undefined);
      const lease = leasedAddress()!;
      expect(lease).toMatchObject({
        family: "inet",
        prefix_length: 24,
        netmask: "255.255.255.0",
        scope: "universe",
      });
      expect(lease.address).toMatch(/^10\.88\.0\.1\d\d$/);
      // The kernel really has it.
      expect((await device.addresses("eth0")).map((address) => address.address)).toContain(
        lease.address,
      );
      expect(engine.get("interface/eth0/dhcp_options")).toMatchObject({
        ip: lease.address,
        router: [ISP],
        dns: [ISP],
        mask: 24,
      });
      await engine.waitForValue("interface/eth0/connection", "internet");
      // Each property is its own message: wait for each rather than read them all at once.
      await engine.waitForValue("connection", "internet");
      await engine.waitFor("available_interfaces", (value) => JSON.stringify(value) === '["eth0"]');
      expect(engine.get("name_servers")).toEqual([
        { address: ISP, from: ["eth0"] } satisfies NameServerInfo,
      ]);
      await waitFor(
        async () =>
          (await readFile(resolvConf, "utf8")).includes(`nameserver ${ISP} # From eth0`) ||
          undefined,
        { timeoutMs: 5_000, description: "resolv.conf to list the DHCP name server" },
      );
      const routes = await device.routes({ family: 4 });
      expect(
        routes.some(
          (route) =>
            route.destination === "default" && route.gateway === ISP && route.dev === "eth0",
        ),
      ).toBe(true);
      expect(internet.connections).toBeGreaterThan(0);
      // It went through the states and statuses in order.
      const states = engine.history.get("interface/eth0/state")!.map((change) => change.value);
      expect(states.slice(-3)).toEqual(["reconfiguring", "configuring", "configured"]);
      const connections = engine.history
        .get("interface/eth0/connection")!
        .map((change) => change.value);
      expect(connections.indexOf("lan")).toBeLessThan(connections.lastIndexOf("internet"));
      expect(await engine.info()).toContain(`Addresses: ${lease.address}/24`);
    });

    it("carrier loss at the peer: disconnected and no default route; carrier back: Internet again", async () => {
      await cable.a.down();
      await engine.waitForValue("interface/eth0/lower_up", false);
      await engine.waitForValue("interface/eth0/connection", "disconnected");
      await engine.waitForValue("connection", "disconnected");
      await waitFor(
        async () =>
          !(await device.routes({ family: 4 })).some((route) => route.destination === "default") ||
          undefined,
        { timeoutMs: 10_000, description: "the default route to go" },
      );
      expect(engine.get("interface/eth0/state")).toBe("configured"); // carrier is not hotplug
      await cable.a.up();
      await engine.waitForValue("interface/eth0/lower_up", true);
      await engine.waitForValue("interface/eth0/connection", "internet", 30_000);
      // Properties are published independently: the monitor's view of the address may trail.
      await engine.waitFor("interface/eth0/addresses", () => leasedAddress() !== undefined);
    });

    it("the Internet goes dark: lan; it comes back: internet", async () => {
      await engine.waitForValue("interface/eth0/connection", "internet");
      await internet.stop();
      const darkAt = Date.now();
      await engine.waitForValue("interface/eth0/connection", "lan", 15_000);
      const lanAt = engine.history.get("interface/eth0/connection")!.at(-1)!.at;
      // Reported, not asserted: timing belongs to the benchmark (goal: within 5 s).
      console.log(`internet → lan after ${lanAt - darkAt} ms`);
      expect(engine.get("interface/eth0/state")).toBe("configured");
      expect(leasedAddress()).toBeDefined();
      await internet.start();
      await engine.waitForValue("interface/eth0/connection", "internet", 30_000);
    });

    it("the veth is deleted and re-created: the interface comes back configured by itself", async () => {
      await dhcpServer.stop();
      await cable.delete();
      await engine.waitFor("interface/eth0/present", (present) => present === undefined);
      await engine.waitFor("interface/eth0/state", (state) => state === "retrying");
      expect(engine.get("interface/eth0/connection")).toBe("disconnected");
      cable = await lab().veth(isp, "eth0", device, "eth0");
      await startDhcpServer();
      await engine.waitForValue("interface/eth0/present", true);
      await engine.waitForValue("interface/eth0/state", "configured");
      await engine.waitFor("interface/eth0/addresses", () => leasedAddress() !== undefined, 30_000);
      await engine.waitForValue("interface/eth0/connection", "internet", 30_000);
      const states = engine.history.get("interface/eth0/state")!.map((change) => change.value);
      expect(states).toContain("retrying");
    });

    it("stop: every daemon is gone, FIFOs and generated files removed", async () => {
      const childPid = engine.child.pid;
      await engine.stop();
      const pids = await device.pids();
      expect(pids.filter((pid) => pid !== childPid)).toEqual([]);
      const left = await readdir(tmpDir);
      expect(left.filter((name) => name.endsWith(".fifo"))).toEqual([]);
      expect(left).toEqual(["notify.sh"]);
    });
  },
);
