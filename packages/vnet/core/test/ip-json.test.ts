import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { hwPathFromSysfsLink, monitorProperties, parseIpAddrShow } from "../src/monitor/ip-json.js";

const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

describe("parseIpAddrShow (fixtures captured on this machine with iproute2 6.1)", () => {
  it("veth up in a namespace: carrier, MAC, IPv4 with lifetime, deprecated IPv6, link-local", () => {
    const links = parseIpAddrShow(fixture("ip-addr-show-veth-up.json"));
    expect(links.map((link) => [link.ifindex, link.ifname, link.lowerUp])).toEqual([
      [1, "lo", true],
      [2, "eth7", true],
      [3, "eth8p", false],
      [4, "eth8", false],
    ]);
    expect(links[1]).toEqual({
      ifindex: 2,
      ifname: "eth7",
      lowerUp: true,
      macAddress: "ca:0a:83:d0:af:51",
      addresses: [
        {
          family: "inet",
          address: "10.77.0.23",
          prefix_length: 24,
          netmask: "255.255.255.0",
          scope: "universe",
        },
        {
          family: "inet6",
          address: "2001:db8:77::23",
          prefix_length: 64,
          netmask: "ffff:ffff:ffff:ffff::",
          scope: "universe",
        },
        {
          family: "inet6",
          address: "fe80::c80a:83ff:fed0:af51",
          prefix_length: 64,
          netmask: "ffff:ffff:ffff:ffff::",
          scope: "link",
        },
      ],
    });
    expect(links[0]!.addresses).toEqual([
      {
        family: "inet",
        address: "127.0.0.1",
        prefix_length: 8,
        netmask: "255.0.0.0",
        scope: "host",
      },
      {
        family: "inet6",
        address: "::1",
        prefix_length: 128,
        netmask: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        scope: "host",
      },
    ]);
  });

  it("no carrier, point-to-point (local address wins), tentative IPv6 left out", () => {
    const links = parseIpAddrShow(fixture("ip-addr-show-no-carrier.json"));
    const vb = links.find((link) => link.ifname === "vb")!;
    expect(vb.lowerUp).toBe(false);
    expect(vb.addresses).toEqual([
      {
        family: "inet",
        address: "10.9.8.7",
        prefix_length: 32,
        netmask: "255.255.255.255",
        scope: "universe",
      },
    ]);
    const va = links.find((link) => link.ifname === "va")!;
    expect(va.lowerUp).toBe(false); // NO-CARRIER, UP but no LOWER_UP
    expect(va.addresses.map((address) => address.address)).toEqual(["192.168.77.2"]);
  });

  it("the host's own interfaces parse too", () => {
    const links = parseIpAddrShow(fixture("ip-addr-show-host.json"));
    expect(links.length).toBeGreaterThan(0);
    expect(links.every((link) => link.ifname.length > 0 && link.ifindex > 0)).toBe(true);
  });

  it("skips entries it cannot use and refuses non-arrays", () => {
    expect(
      parseIpAddrShow(
        JSON.stringify([
          { ifindex: "x", ifname: "a" },
          {
            ifindex: 5,
            ifname: "tun0",
            flags: ["UP", "LOWER_UP"],
            addr_info: [
              { family: "inet", local: "10.0.0.1", prefixlen: 99, scope: "global" },
              { family: "packet" },
            ],
          },
        ]),
      ),
    ).toEqual([
      { ifindex: 5, ifname: "tun0", lowerUp: true, macAddress: undefined, addresses: [] },
    ]);
    expect(() => parseIpAddrShow("{}")).toThrow(TypeError);
  });
});

describe("hw_path and monitor properties", () => {
  it("strips the sysfs prefix and the net/<ifname> suffix", () => {
    expect(
      hwPathFromSysfsLink("../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0", "eth0"),
    ).toBe("/devices/pci0000:00/0000:00:03.0/virtio2");
    expect(hwPathFromSysfsLink("../../devices/virtual/net/eth7", "eth7")).toBe("/devices/virtual");
    expect(
      hwPathFromSysfsLink("../../devices/platform/ocp/4a100000.ethernet/net/eth0", "eth0"),
    ).toBe("/devices/platform/ocp/4a100000.ethernet");
  });

  it("publishes present, hw_path, lower_up, addresses, and mac_address when there is one", () => {
    const [lo] = parseIpAddrShow(fixture("ip-addr-show-veth-up.json"));
    expect([...monitorProperties(lo!, "/devices/virtual").keys()]).toEqual([
      "present",
      "hw_path",
      "lower_up",
      "addresses",
      "mac_address",
    ]);
    const tun = { ifindex: 9, ifname: "tun0", lowerUp: true, macAddress: undefined, addresses: [] };
    expect(monitorProperties(tun, "").has("mac_address")).toBe(false);
  });
});
