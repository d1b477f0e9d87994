// Real DHCP across a veth pair: busybox udhcpd and dnsmasq serving, busybox udhcpc asking.
import { expect, it } from "vitest";
import {
  describeIntegration,
  runUdhcpc,
  startDnsmasq,
  startUdhcpd,
  useLab,
  waitFor,
} from "../../src/index.js";

describeIntegration("DHCP and router advertisements", { tools: ["udhcpd", "busybox"] }, () => {
  const lab = useLab("dhcp", { per: "test" });

  async function serverAndClient() {
    const server = await lab().namespace("server");
    const client = await lab().namespace("client");
    await lab().veth(server, "eth0", client, "eth0");
    await server.addAddress("eth0", "192.168.5.1/24");
    return { server, client };
  }

  it("leases an address from udhcpd to busybox udhcpc and assigns it", async () => {
    const { server, client } = await serverAndClient();
    const udhcpd = await startUdhcpd(server, {
      interface: "eth0",
      start: "192.168.5.100",
      end: "192.168.5.150",
      router: "192.168.5.1",
      dns: ["192.168.5.1"],
      leaseSeconds: 300,
    });

    const lease = await runUdhcpc(client, "eth0", { hostname: "sensor-1" });
    console.log(`udhcpd lease ${lease.ip} in ${lease.durationMs.toFixed(0)} ms`);
    expect(lease).toMatchObject({
      prefixLength: 24,
      routers: ["192.168.5.1"],
      dns: ["192.168.5.1"],
      leaseSeconds: 300,
      serverId: "192.168.5.1",
    });
    expect(lease.ip).toMatch(/^192\.168\.5\.(1[0-4]\d|150)$/);

    // The address is really on the interface (ip -json addr), with the default route.
    const addresses = await client.addresses("eth0");
    expect(addresses).toContainEqual(
      expect.objectContaining({ family: "inet", address: lease.ip, prefixLength: 24 }),
    );
    expect(await client.routes({ family: 4 })).toContainEqual(
      expect.objectContaining({ destination: "default", gateway: "192.168.5.1" }),
    );
    await client.exec(["busybox", "ping", "-c", "1", "-W", "2", "192.168.5.1"]);

    // And the server recorded it against the client's MAC.
    const mac = (await client.linkInfo("eth0")).address;
    const leases = await udhcpd.leases();
    expect(leases).toContainEqual(
      expect.objectContaining({ ip: lease.ip, mac, hostname: "sensor-1" }),
    );
  });

  it("fails (does not hang) when no server answers", async () => {
    const { client } = await serverAndClient();
    await expect(runUdhcpc(client, "eth0", { attempts: 2 })).rejects.toThrow(/udhcpc/);
    expect((await client.addresses("eth0")).filter((a) => a.family === "inet")).toEqual([]);
  });

  it("serves DHCP and DNS with dnsmasq", async () => {
    const { server, client } = await serverAndClient();
    const dnsmasq = await startDnsmasq(server, {
      interface: "eth0",
      dhcp: { start: "192.168.5.50", end: "192.168.5.60", leaseTime: "1h" },
      dns: { records: { "updates.lab.test": "192.168.5.7" } },
    });
    const lease = await runUdhcpc(client, "eth0");
    console.log(`dnsmasq lease ${lease.ip} in ${lease.durationMs.toFixed(0)} ms`);
    expect(lease.ip).toMatch(/^192\.168\.5\.(5\d|60)$/);
    expect(lease.dns).toEqual(["192.168.5.1"]);
    expect((await client.addresses("eth0")).map((a) => a.address)).toContain(lease.ip);
    const leases = await waitFor(
      async () => {
        const current = await dnsmasq.leases();
        return current.length > 0 ? current : undefined;
      },
      { description: "dnsmasq lease file" },
    );
    expect(leases[0]?.ip).toBe(lease.ip);

    const { stdout } = await client.exec([
      "busybox",
      "nslookup",
      "updates.lab.test",
      "192.168.5.1",
    ]);
    expect(stdout).toMatch(/Address:\s*192\.168\.5\.7/);
  });

  it("gives the client a SLAAC address and a default route by router advertisement", async () => {
    const { server, client } = await serverAndClient();
    await server.addAddress("eth0", "fd00:5::1/64", { noDad: true });
    // The client solicited when its link came up, before dnsmasq ran; solicit again soon.
    await client.sysctl("net.ipv6.conf.eth0.router_solicitation_interval", 1);
    await startDnsmasq(server, {
      interface: "eth0",
      routerAdvertisements: { prefix: "fd00:5::" },
      dns: false,
    });
    const slaac = await waitFor(
      async () =>
        (await client.addresses("eth0")).find(
          (a) => a.family === "inet6" && a.address.startsWith("fd00:5:") && a.dynamic,
        ),
      { timeoutMs: 20_000, description: "a SLAAC address in fd00:5::/64" },
    );
    expect(slaac.prefixLength).toBe(64);
    const route = await waitFor(
      async () =>
        (await client.routes({ family: 6 })).find(
          (r) => r.destination === "default" && r.protocol === "ra",
        ),
      { timeoutMs: 20_000, description: "an RA default route" },
    );
    expect(route.gateway).toMatch(/^fe80:/);
  });
});
