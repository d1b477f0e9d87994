import { createHash } from "node:crypto";
import { inSubnet } from "@vnet/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { derivedDirectSubnet, directLink } from "../src/index.js";

describe("direct links (VintageNetDirect's subnet derivation)", () => {
  it("matches MD5 vectors computed with md5sum", () => {
    // printf deviceusb0 | md5sum      → 01378ba2…: 172.31.1.(0x37 & 0xfc)
    expect(derivedDirectSubnet("usb0", "device")).toBe("172.31.1.52");
    // printf nerves-1234usb0 | md5sum → 251a885e…: 172.31.37.(0x1a & 0xfc)
    expect(derivedDirectSubnet("usb0", "nerves-1234")).toBe("172.31.37.24");
  });

  it("the device is the first address, the peer the second, of a /30", () => {
    expect(directLink("usb0", {}, "nerves-1234")).toEqual({
      subnet: "172.31.37.24",
      prefix_length: 30,
      address: "172.31.37.25",
      peer_start: "172.31.37.26",
      peer_end: "172.31.37.26",
    });
    // A hostname in the config wins over the engine's.
    expect(directLink("usb0", { hostname: "device" }, "nerves-1234").subnet).toBe("172.31.1.52");
  });

  it("a given subnet: the device takes .1, the peers the rest but the broadcast", () => {
    expect(directLink("usb0", { subnet: "192.168.7.0/24" }, "ignored")).toEqual({
      subnet: "192.168.7.0",
      prefix_length: 24,
      address: "192.168.7.1",
      peer_start: "192.168.7.2",
      peer_end: "192.168.7.254",
    });
    expect(directLink("usb0", { subnet: "10.9.0.0/16" }, "x").peer_end).toBe("10.9.255.254");
  });

  it("any hostname and interface: a /30 in 172.31.0.0/16, the same every time, two distinct hosts", () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1, maxLength: 15 }), (hostname, ifname) => {
        const link = directLink(ifname, {}, hostname);
        expect(directLink(ifname, {}, hostname)).toEqual(link);
        expect(inSubnet(link.subnet, "172.31.0.0", 16)).toBe(true);
        expect(Number(link.subnet.split(".")[3]) % 4).toBe(0);
        expect(inSubnet(link.address, link.subnet, 30)).toBe(true);
        expect(inSubnet(link.peer_start, link.subnet, 30)).toBe(true);
        expect(link.address).not.toBe(link.peer_start);
        const digest = createHash("md5").update(`${hostname}${ifname}`).digest();
        expect(link.subnet).toBe(`172.31.${digest[0]}.${digest[1]! & 0xfc}`);
      }),
    );
  });

  it("different interfaces of one device get different subnets (for these names)", () => {
    const subnets = ["usb0", "usb1", "eth0", "eth1"].map((ifname) =>
      derivedDirectSubnet(ifname, "nerves-1234"),
    );
    expect(new Set(subnets).size).toBe(4);
  });
});
