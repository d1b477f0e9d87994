import { describe, expect, it } from "vitest";
import type { AddressInfo, JsonObject } from "../src/config.js";
import { dhcpv6ClientService, parseDhcpv6Options } from "../src/ipv6/dhcpv6-client.js";
import type { Service } from "../src/technology.js";
import { fakeServiceContext } from "./helpers/service-context.js";

// What dhclient 4.4.3 passed to its script for a lease from dnsmasq (captured in a namespace).
const boundEnv = {
  interface: "eth0",
  reason: "BOUND6",
  new_dhcp6_domain_search: "lab.test.",
  new_dhcp6_name_servers: "fd00:6::1",
  new_dhcp6_server_id: "0:1:0:1:32:97:8:d:d2:f3:13:c6:da:d6",
  new_ip6_address: "fd00:6::197",
  new_ip6_prefixlen: "128",
  new_max_life: "3600",
  new_preferred_life: "3600",
  new_rebind: "3150",
  new_renew: "1800",
};

const event = (env: Record<string, string>) => ({ source: "dhclient6", args: [], env });

const linkLocal: AddressInfo = {
  family: "inet6",
  address: "fe80::1",
  prefix_length: 64,
  netmask: "ffff:ffff:ffff:ffff::",
  scope: "link",
};

const paths = {
  config_path: "/tmp/vnet-test/dhclient6.conf.eth0",
  lease_file: "/tmp/vnet-test/dhclient6.eth0.leases",
  pid_file: "/tmp/vnet-test/dhclient6.eth0.pid",
};

async function started(extra: JsonObject = {}) {
  const h = fakeServiceContext();
  const service = (await dhcpv6ClientService(h.context, { ...paths, ...extra })) as Service & {
    settled(): Promise<void>;
  };
  const channel = h.channels[0]!;
  const ready = async () => {
    h.table.put(["interface", "eth0", "lower_up"], true);
    h.table.put(["interface", "eth0", "addresses"], [linkLocal]);
    await service.settled();
  };
  return { h, service, channel, ready };
}

const ipLines = (h: ReturnType<typeof fakeServiceContext>) =>
  h.runner.commandLines().filter((line) => line.startsWith("ip"));

describe("parseDhcpv6Options", () => {
  it("types dhclient's variables and drops what does not parse", () => {
    expect(parseDhcpv6Options(boundEnv)).toEqual({
      ip6_address: "fd00:6::197",
      ip6_prefixlen: 128,
      name_servers: ["fd00:6::1"],
      domain_search: ["lab.test"],
      server_id: "0:1:0:1:32:97:8:d:d2:f3:13:c6:da:d6",
      max_life: 3600,
      preferred_life: 3600,
      renew: 1800,
      rebind: 3150,
    });
    expect(
      parseDhcpv6Options({
        new_ip6_address: "10.0.0.1",
        new_ip6_prefixlen: "129",
        new_dhcp6_name_servers: "fd00::1 bogus",
        new_max_life: "-1",
        new_ip6_prefix: "2001:DB8:1::/56",
      }),
    ).toEqual({ ip6_prefix: "2001:db8:1::/56" });
  });
});

describe("dhcpv6-client service (dhclient -6 through the event relay)", () => {
  it("starts dhclient only with carrier and a usable link-local address", async () => {
    const { h, service } = await started();
    h.table.put(["interface", "eth0", "lower_up"], true);
    await service.settled();
    expect(h.runner.started).toEqual([]); // no link-local address yet (still tentative)
    h.table.put(["interface", "eth0", "addresses"], [linkLocal]);
    await service.settled();
    expect(h.runner.started.map((process) => process.argv)).toEqual([
      [
        "dhclient",
        "-6",
        "-d",
        "-D",
        "LL",
        "-sf",
        "/tmp/vnet-test/notify.sh",
        // dhclient does not pass its own environment to the script.
        "-e",
        "VNET_EVENT_FIFO=/tmp/vnet-test/dhclient6.eth0.fifo",
        "-e",
        "VNET_EVENT_SOURCE=dhclient6",
        "-cf",
        paths.config_path,
        "-lf",
        paths.lease_file,
        "-pf",
        paths.pid_file,
        "eth0",
      ],
    ]);
    await service.stop();
    expect(h.runner.started[0]!.stopped).toBe(true);
  });

  it("BOUND6 adds the address with its lifetimes, sets IPv6 name servers, publishes the options", async () => {
    const { h, service, channel, ready } = await started();
    await ready();
    channel.emit(event(boundEnv));
    await service.settled();
    expect(ipLines(h)).toEqual([
      "ip -6 addr replace fd00:6::197/128 dev eth0 valid_lft 3600 preferred_lft 3600",
    ]);
    expect(h.nameServerCalls).toEqual(["setup eth0 lab.test fd00:6::1 [ipv6]"]);
    expect(h.table.get(["interface", "eth0", "dhcpv6_options"])).toMatchObject({
      ip6_address: "fd00:6::197",
      domain_search: ["lab.test"],
    });
    // A renewal refreshes the lifetimes; a new address replaces the old one.
    channel.emit(event({ ...boundEnv, reason: "RENEW6", new_max_life: "7200" }));
    channel.emit(event({ ...boundEnv, reason: "REBIND6", new_ip6_address: "fd00:6::198" }));
    channel.emit(event({ ...boundEnv, reason: "DEPREF6" }));
    await service.settled();
    expect(ipLines(h).slice(1)).toEqual([
      "ip -6 addr replace fd00:6::197/128 dev eth0 valid_lft 7200 preferred_lft 3600",
      "ip -6 addr del fd00:6::197/128 dev eth0",
      "ip -6 addr replace fd00:6::198/128 dev eth0 valid_lft 3600 preferred_lft 3600",
      "ip -6 addr change fd00:6::198/128 dev eth0 preferred_lft 0",
    ]);
    channel.emit(event({ interface: "eth0", reason: "EXPIRE6" }));
    await service.settled();
    expect(ipLines(h).at(-1)).toBe("ip -6 addr del fd00:6::198/128 dev eth0");
    expect(h.nameServerCalls.at(-1)).toBe("clear eth0 [ipv6]");
    expect(h.table.has(["interface", "eth0", "dhcpv6_options"])).toBe(false);
    await service.stop();
  });

  it("ignores other interfaces, other sources and unknown reasons", async () => {
    const { h, service, channel, ready } = await started();
    await ready();
    channel.emit(event({ ...boundEnv, interface: "eth1" }));
    channel.emit({ source: "udhcpc", args: ["bound"], env: boundEnv });
    channel.emit(event({ interface: "eth0", reason: "PREINIT6" }));
    await service.settled();
    expect(ipLines(h)).toEqual([]);
    expect(h.logs).toContain('debug eth0: ignoring dhclient event "PREINIT6"');
    await service.stop();
  });

  it("carrier loss stops dhclient and removes what the lease added; carrier back restarts it", async () => {
    const { h, service, channel, ready } = await started();
    await ready();
    channel.emit(event(boundEnv));
    await service.settled();
    h.table.put(["interface", "eth0", "lower_up"], false);
    await service.settled();
    expect(h.runner.started[0]!.stopped).toBe(true);
    expect(ipLines(h).at(-1)).toBe("ip -6 addr del fd00:6::197/128 dev eth0");
    expect(h.table.has(["interface", "eth0", "dhcpv6_options"])).toBe(false);
    h.table.put(["interface", "eth0", "lower_up"], true);
    await service.settled();
    expect(h.runner.started).toHaveLength(2);
    await service.stop();
  });

  it("run_while holds it back until the condition holds", async () => {
    const eap = ["interface", "eth0", "eap_status"];
    const { h, service, ready } = await started({
      run_while: { path: eap, matches: { authorized: true } },
    });
    await ready();
    expect(h.runner.started).toEqual([]);
    h.table.put(eap, { authorized: true });
    await service.settled();
    expect(h.runner.started).toHaveLength(1);
    h.table.put(eap, { authorized: false });
    await service.settled();
    expect(h.runner.started[0]!.stopped).toBe(true);
    await service.stop();
  });

  it("rejects options without absolute paths", async () => {
    const h = fakeServiceContext();
    await expect(
      dhcpv6ClientService(h.context, { ...paths, lease_file: "leases" }),
    ).rejects.toThrow("dhcpv6-client option lease_file must be an absolute path");
  });
});
