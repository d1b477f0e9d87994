import { describe, expect, it } from "vitest";
import type { JsonObject } from "../src/config.js";
import { dhcpClientService } from "../src/ipv4/dhcp-client.js";
import type { Service } from "../src/technology.js";
import { fakeServiceContext } from "./helpers/service-context.js";

const bound = (extra: Record<string, string> = {}) => ({
  source: "udhcpc",
  args: ["bound"],
  env: {
    interface: "eth0",
    ip: "10.0.0.23",
    mask: "24",
    router: "10.0.0.1",
    dns: "10.0.0.1 1.1.1.1",
    domain: "lan",
    lease: "600",
    ...extra,
  },
});

async function started(extraOptions: JsonObject = {}) {
  const h = fakeServiceContext();
  // The service's settled() resolves once every event so far is applied: no guessing.
  const service = (await dhcpClientService(h.context, {
    hostname: "box",
    request_options: ["ntpsrv"],
    ...extraOptions,
  })) as Service & { settled(): Promise<void> };
  const channel = h.channels[0]!;
  return { h, service, channel };
}

describe("dhcp-client service (udhcpc driven through the event relay)", () => {
  it("runs udhcpc only while the link has carrier, with the relay script and FIFO", async () => {
    const { h, service } = await started();
    await service.settled();
    expect(h.runner.started).toEqual([]);
    h.table.put(["interface", "eth0", "lower_up"], true);
    await service.settled();
    expect(h.runner.started.map((process) => process.argv)).toEqual([
      [
        "udhcpc",
        "-f",
        "-i",
        "eth0",
        "-s",
        "/tmp/vnet-test/notify.sh",
        "-x",
        "hostname:box",
        "-O",
        "ntpsrv",
      ],
    ]);
    expect(h.runner.calls[0]!.options).toMatchObject({
      env: { VNET_EVENT_FIFO: "/tmp/vnet-test/udhcpc.eth0.fifo", VNET_EVENT_SOURCE: "udhcpc" },
    });
    h.table.put(["interface", "eth0", "lower_up"], false);
    await service.settled();
    expect(h.runner.started[0]!.stopped).toBe(true);
    await service.stop();
  });

  it("with run_while: runs udhcpc only while carrier and the condition hold (an 802.1X port)", async () => {
    const eap = ["interface", "eth0", "eap_status"];
    const { h, service, channel } = await started({
      run_while: { path: eap, matches: { authorized: true } },
    });
    h.table.put(["interface", "eth0", "lower_up"], true);
    h.table.put(eap, { status: "started", authorized: false });
    await service.settled();
    expect(h.runner.started).toEqual([]); // carrier, but the port is not authorized yet
    h.table.put(eap, { status: "success", authorized: true, method: "PEAP" });
    await service.settled();
    expect(h.runner.started).toHaveLength(1);
    channel.emit(bound());
    await service.settled();
    expect(h.routing.get("eth0")?.gateway).toBe("10.0.0.1");
    // Re-authentication keeps the port authorized: nothing changes.
    h.table.put(eap, { status: "started", authorized: true, method: "PEAP" });
    await service.settled();
    expect(h.runner.started).toHaveLength(1);
    expect(h.runner.started[0]!.stopped).toBe(false);
    // Rejected: the client stops as on carrier loss and the lease is forgotten.
    h.table.put(eap, { status: "failure", authorized: false });
    await service.settled();
    expect(h.runner.started[0]!.stopped).toBe(true);
    expect(h.routing.get("eth0")?.gateway ?? null).toBeNull();
    expect(h.table.has(["interface", "eth0", "dhcp_options"])).toBe(false);
    // The property going away closes the condition too; coming back opens it.
    h.table.delete(eap);
    h.table.put(eap, { status: "success", authorized: true });
    await service.settled();
    expect(h.runner.started).toHaveLength(2);
    // Carrier loss still stops it whatever the condition says.
    h.table.put(["interface", "eth0", "lower_up"], false);
    await service.settled();
    expect(h.runner.started[1]!.stopped).toBe(true);
    await service.stop();
  });

  it("rejects a malformed run_while", async () => {
    const h = fakeServiceContext();
    await expect(
      dhcpClientService(h.context, { run_while: { path: "eth0", matches: true } }),
    ).rejects.toThrow("run_while must be { path: string[], matches }");
  });

  it("bound: replaces the address, records route and name servers, publishes dhcp_options", async () => {
    const { h, service, channel } = await started();
    h.table.put(["interface", "eth0", "lower_up"], true);
    await service.settled();
    channel.emit(bound({ broadcast: "10.0.0.255" }));
    await service.settled();
    expect(h.runner.commandLines().filter((line) => line.startsWith("ip"))).toEqual([
      "ip -4 addr replace 10.0.0.23/24 dev eth0 broadcast 10.0.0.255 label eth0",
    ]);
    expect(h.routing.get("eth0")).toMatchObject({
      subnets: [{ address: "10.0.0.23", prefix_length: 24 }],
      gateway: "10.0.0.1",
    });
    expect(h.nameServerCalls).toEqual(["setup eth0 lan 10.0.0.1,1.1.1.1"]);
    expect(h.table.get(["interface", "eth0", "dhcp_options"])).toMatchObject({
      ip: "10.0.0.23",
      lease: 600,
      router: ["10.0.0.1"],
    });
    await service.stop();
  });

  it("renewals with unchanged settings touch neither the address nor routes nor DNS", async () => {
    const { h, service, channel } = await started();
    h.table.put(["interface", "eth0", "lower_up"], true);
    await service.settled();
    channel.emit(bound());
    await service.settled();
    const commands = h.runner.calls.length;
    const routeChanges: unknown[] = [];
    h.routing.onChange("eth0", (routing) => routeChanges.push(routing));
    channel.emit({ ...bound({ lease: "3600" }), args: ["renew"] });
    await service.settled();
    expect(h.runner.calls.length).toBe(commands);
    expect(routeChanges).toEqual([]);
    expect(h.nameServerCalls).toHaveLength(1);
    expect(h.table.get(["interface", "eth0", "dhcp_options"])).toMatchObject({ lease: 3_600 });
    await service.stop();
  });

  it("a renewal with a new address removes the old one first", async () => {
    const { h, service, channel } = await started();
    h.table.put(["interface", "eth0", "lower_up"], true);
    await service.settled();
    channel.emit(bound());
    channel.emit({ ...bound({ ip: "10.0.0.99" }), args: ["renew"] });
    await service.settled();
    expect(h.runner.commandLines().filter((line) => line.startsWith("ip"))).toEqual([
      "ip -4 addr replace 10.0.0.23/24 dev eth0 label eth0",
      "ip -4 addr del 10.0.0.23/24 dev eth0",
      "ip -4 addr replace 10.0.0.99/24 dev eth0 label eth0",
    ]);
    await service.stop();
  });

  it("deconfig flushes IPv4 and forgets route, DNS and dhcp_options; leasefail forgets the options", async () => {
    const { h, service, channel } = await started();
    h.table.put(["interface", "eth0", "lower_up"], true);
    await service.settled();
    channel.emit(bound());
    await service.settled();
    channel.emit({ source: "udhcpc", args: ["deconfig"], env: { interface: "eth0" } });
    await service.settled();
    expect(h.runner.commandLines().at(-1)).toBe("ip -4 addr flush dev eth0 label eth0");
    expect(h.routing.get("eth0")).toMatchObject({
      subnets: [],
      gateway: null,
      connection: "disconnected",
    });
    expect(h.nameServerCalls.at(-1)).toBe("clear eth0");
    expect(h.table.has(["interface", "eth0", "dhcp_options"])).toBe(false);
    channel.emit(bound());
    channel.emit({ source: "udhcpc", args: ["leasefail"], env: { interface: "eth0" } });
    await service.settled();
    expect(h.table.has(["interface", "eth0", "dhcp_options"])).toBe(false);
    await service.stop();
  });

  it("the deconfig udhcpc sends at start runs no command when there is no IPv4 address", async () => {
    const { h, service, channel } = await started();
    h.table.put(["interface", "eth0", "lower_up"], true);
    h.table.put(
      ["interface", "eth0", "addresses"],
      [
        {
          family: "inet6",
          address: "fe80::1",
          prefix_length: 64,
          netmask: "ffff:ffff:ffff:ffff::",
          scope: "link",
        },
      ],
    );
    await service.settled();
    channel.emit({ source: "udhcpc", args: ["deconfig"], env: { interface: "eth0" } });
    await service.settled();
    expect(h.runner.commandLines().filter((line) => line.startsWith("ip"))).toEqual([]);
    h.table.put(
      ["interface", "eth0", "addresses"],
      [
        {
          family: "inet",
          address: "10.0.0.7",
          prefix_length: 24,
          netmask: "255.255.255.0",
          scope: "universe",
        },
      ],
    );
    channel.emit({ source: "udhcpc", args: ["deconfig"], env: { interface: "eth0" } });
    await service.settled();
    expect(h.runner.commandLines().filter((line) => line.startsWith("ip"))).toEqual([
      "ip -4 addr flush dev eth0 label eth0",
    ]);
    await service.stop();
  });

  it("ignores events of other sources and interfaces, and everything after stop", async () => {
    const { h, service, channel } = await started();
    h.table.put(["interface", "eth0", "lower_up"], true);
    await service.settled();
    channel.emit({ ...bound(), source: "udhcpd" });
    channel.emit(bound({ interface: "eth1" }));
    await service.settled();
    expect(h.table.has(["interface", "eth0", "dhcp_options"])).toBe(false);
    h.controller.abort();
    await service.stop();
    channel.emit(bound());
    await service.settled();
    expect(h.table.has(["interface", "eth0", "dhcp_options"])).toBe(false);
    expect(channel.closed).toBe(true);
    expect(h.runner.started.every((process) => process.stopped)).toBe(true);
  });

  it("carrier loss forgets route, DNS and options so nothing points at a dead link", async () => {
    const { h, service, channel } = await started();
    h.table.put(["interface", "eth0", "lower_up"], true);
    await service.settled();
    channel.emit(bound());
    await service.settled();
    h.table.put(["interface", "eth0", "lower_up"], false);
    await service.settled();
    expect(h.routing.get("eth0")).toMatchObject({ subnets: [], gateway: null });
    expect(h.nameServerCalls.at(-1)).toBe("clear eth0");
    expect(h.table.has(["interface", "eth0", "dhcp_options"])).toBe(false);
    await service.stop();
  });
});
