import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  broadcastAddress,
  canonicalIPv4,
  formatIPv6,
  inSubnet,
  netmaskToPrefix,
  parseAddress,
  parseIPv4,
  parseIPv6,
  prefixToNetmask,
  subnetAddress,
} from "../src/ip/address.js";

/** WHATWG URL serializes IPv6 hosts in RFC 5952 form: an independent oracle. */
function urlCanonical(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

describe("IPv4", () => {
  it("parses dotted decimal and refuses everything else", () => {
    expect(parseIPv4("192.168.1.2")).toEqual([192, 168, 1, 2]);
    expect(parseIPv4("0.0.0.0")).toEqual([0, 0, 0, 0]);
    for (const bad of [
      "256.1.1.1",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "1.2.3.-4",
      " 1.2.3.4",
      "a.b.c.d",
      "",
    ]) {
      expect(parseIPv4(bad), bad).toBeUndefined();
    }
  });

  it("converts netmasks and prefix lengths both ways", () => {
    expect(netmaskToPrefix("255.255.255.0")).toBe(24);
    expect(netmaskToPrefix("255.255.255.255")).toBe(32);
    expect(netmaskToPrefix("0.0.0.0")).toBe(0);
    expect(netmaskToPrefix("255.0.255.0")).toBeUndefined();
    expect(netmaskToPrefix("255.255.255.1")).toBeUndefined();
    expect(prefixToNetmask("inet", 20)).toBe("255.255.240.0");
    expect(prefixToNetmask("inet6", 64)).toBe("ffff:ffff:ffff:ffff::");
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 32 }), (prefix) => {
        expect(netmaskToPrefix(prefixToNetmask("inet", prefix))).toBe(prefix);
      }),
    );
  });

  it("computes subnet and broadcast addresses", () => {
    expect(subnetAddress("inet", "192.168.1.50", 24)).toBe("192.168.1.0");
    expect(broadcastAddress("192.168.1.50", 24)).toBe("192.168.1.255");
    expect(broadcastAddress("10.1.2.3", 30)).toBe("10.1.2.3");
    expect(subnetAddress("inet6", "2001:db8::1:2", 64)).toBe("2001:db8::");
    expect(inSubnet("192.168.1.200", "192.168.1.0", 24)).toBe(true);
    expect(inSubnet("192.168.2.1", "192.168.1.0", 24)).toBe(false);
    expect(inSubnet("2001:db8::5", "2001:db8::1", 64)).toBe(true);
    expect(inSubnet("2001:db8::5", "192.168.1.0", 24)).toBe(false);
  });

  it("canonicalizes only valid addresses", () => {
    expect(canonicalIPv4("10.0.0.1")).toBe("10.0.0.1");
    expect(canonicalIPv4("10.0.0.256")).toBeUndefined();
  });
});

describe("IPv6", () => {
  it("parses the usual forms", () => {
    expect(parseIPv6("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6("fe80::c80a:83ff:fed0:af51")).toEqual([
      0xfe80, 0, 0, 0, 0xc80a, 0x83ff, 0xfed0, 0xaf51,
    ]);
    expect(parseIPv6("::ffff:192.0.2.1")).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]);
    for (const bad of [
      "1::2::3",
      "12345::",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "fe80::1%eth0",
      ":::",
      "g::1",
    ]) {
      expect(parseIPv6(bad), bad).toBeUndefined();
    }
  });

  it("prints RFC 5952 text exactly like WHATWG URL (property)", () => {
    const word = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
        const text = formatIPv6(words);
        expect(text).toBe(urlCanonical(words.map((value) => value.toString(16)).join(":")));
        expect(parseIPv6(text)).toEqual(words);
      }),
      { numRuns: 2_000 },
    );
  });

  it("canonicalizes any accepted spelling", () => {
    expect(parseAddress("2001:DB8:0:0:0:0:0:0002")).toEqual({
      family: "inet6",
      address: "2001:db8::2",
    });
    expect(parseAddress("2001:db8:0:0:1:0:0:1")?.address).toBe("2001:db8::1:0:0:1");
    expect(parseAddress("192.168.0.1")).toEqual({ family: "inet", address: "192.168.0.1" });
    expect(parseAddress("host.example")).toBeUndefined();
  });
});
