import { PropertyTable } from "@runtime/property-table";
import { describe, expect, it } from "vitest";
import { interfaceForAddress } from "../src/index.js";
import { canonicalAddress } from "../src/interface.js";

const address = (family: "inet" | "inet6", text: string, prefix: number) => ({
  family,
  address: text,
  prefix_length: prefix,
  netmask: family === "inet" ? "255.255.255.0" : "ffff:ffff:ffff:ffff::",
  scope: "universe",
});

describe("canonicalAddress", () => {
  it("normalizes IPv4-mapped IPv6, zones and IPv6 spelling", () => {
    expect(canonicalAddress("::ffff:10.0.0.2")).toBe("10.0.0.2");
    expect(canonicalAddress("fe80::1%eth0")).toBe("fe80::1");
    expect(canonicalAddress("2001:DB8:0:0:0:0:0:1")).toBe("2001:db8::1");
    expect(canonicalAddress("192.168.1.10")).toBe("192.168.1.10");
    expect(canonicalAddress("nonsense")).toBeUndefined();
    expect(canonicalAddress(undefined)).toBeUndefined();
  });
});

describe("interfaceForAddress", () => {
  const table = new PropertyTable({
    properties: [
      [
        ["interface", "lo", "addresses"],
        [address("inet", "127.0.0.1", 8), address("inet6", "::1", 128)],
      ],
      [
        ["interface", "eth0", "addresses"],
        [address("inet", "192.168.1.10", 24), address("inet6", "2001:db8::10", 64)],
      ],
      [["interface", "wlan0", "addresses"], [address("inet", "10.0.0.2", 24)]],
      [["interface", "wwan0", "addresses"], "not a list"],
      [
        ["interface", "eth1", "addresses"],
        [null, { address: 5 }],
      ],
    ],
  });

  it("names the interface that holds the socket's local address", () => {
    expect(interfaceForAddress(table, "127.0.0.1")).toBe("lo");
    expect(interfaceForAddress(table, "::ffff:10.0.0.2")).toBe("wlan0");
    expect(interfaceForAddress(table, "2001:0db8::0010")).toBe("eth0");
    expect(interfaceForAddress(table, "::1")).toBe("lo");
  });

  it("is undefined for unknown addresses and ignores badly shaped entries", () => {
    expect(interfaceForAddress(table, "172.16.0.1")).toBeUndefined();
    expect(interfaceForAddress(table, undefined)).toBeUndefined();
    expect(interfaceForAddress(new PropertyTable(), "127.0.0.1")).toBeUndefined();
  });

  it("follows the table as addresses move", () => {
    const live = new PropertyTable();
    live.put(["interface", "eth0", "addresses"], [address("inet", "192.168.1.10", 24)]);
    expect(interfaceForAddress(live, "192.168.1.10")).toBe("eth0");
    live.put(["interface", "eth0", "addresses"], []);
    live.put(["interface", "wlan0", "addresses"], [address("inet", "192.168.1.10", 24)]);
    expect(interfaceForAddress(live, "192.168.1.10")).toBe("wlan0");
  });
});
