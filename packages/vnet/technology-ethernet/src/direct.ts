// The `direct` preset: a point-to-point link with zero configuration (VintageNetDirect, reference
// §10.2). Pure.
import { createHash } from "node:crypto";
import {
  broadcastAddress,
  type NormalizedDhcpdConfig,
  type NormalizedIPv4Static,
  normalizeDhcpd,
  prefixToNetmask,
} from "@vnet/core";
import type { NormalizedDirectConfig } from "./types.js";

/** The addressing of a direct link. */
export interface DirectLink {
  /** The network address. */
  readonly subnet: string;
  readonly prefix_length: number;
  /** The device's address: the first of the subnet. */
  readonly address: string;
  /** What the DHCP server hands out: every other host address of the subnet. */
  readonly peer_start: string;
  readonly peer_end: string;
}

function toNumber(address: string): number {
  return address.split(".").reduce((value, octet) => value * 256 + Number(octet), 0);
}

function toAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/**
 * VintageNetDirect's derived subnet: the first 14 bits of MD5(hostname ++ ifname) make the
 * host part of 172.31.0.0/16, shifted left by 2 to leave a /30. Stable across reboots, distinct
 * per interface and (almost always) per device, and away from the 10/8 and 192.168/16 networks
 * laptops usually sit on and Docker's 172.18/16.
 */
export function derivedDirectSubnet(ifname: string, hostname: string): string {
  const digest = createHash("md5").update(hostname).update(ifname).digest();
  return `172.31.${digest[0]!}.${digest[1]! & 0xfc}`;
}

/** The link for a `direct` config on `ifname`; `defaultHostname` when the config names none. */
export function directLink(
  ifname: string,
  direct: NormalizedDirectConfig,
  defaultHostname: string,
): DirectLink {
  const [subnet, prefixLength] = direct.subnet
    ? (() => {
        const [network, length] = direct.subnet.split("/") as [string, string];
        return [network, Number(length)] as const;
      })()
    : [derivedDirectSubnet(ifname, direct.hostname ?? defaultHostname), 30];
  const network = toNumber(subnet);
  const broadcast = toNumber(broadcastAddress(subnet, prefixLength));
  return {
    subnet,
    prefix_length: prefixLength,
    address: toAddress(network + 1),
    peer_start: toAddress(network + 2),
    peer_end: toAddress(broadcast - 1),
  };
}

/** The static IPv4 and DHCP server configurations a direct link stands for. */
export function directAddressing(link: DirectLink): {
  ipv4: NormalizedIPv4Static;
  dhcpd: NormalizedDhcpdConfig;
} {
  return {
    // No gateway: the link leads to one peer, not to the Internet (a `lan` connection).
    ipv4: {
      method: "static",
      address: link.address,
      prefix_length: link.prefix_length,
      name_servers: [],
    },
    // Only the mask: the peer must not route its Internet traffic or names through the device.
    dhcpd: normalizeDhcpd({
      start: link.peer_start,
      end: link.peer_end,
      max_leases: toNumber(link.peer_end) - toNumber(link.peer_start) + 1,
      options: { subnet: prefixToNetmask("inet", link.prefix_length) },
    }),
  };
}
