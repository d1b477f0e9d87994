// toRawConfig: the recipe for a normalized `ethernet` configuration. Pure.
import {
  type Command,
  dhcpdRawConfig,
  ipv4RawConfig,
  ipv6RawConfig,
  mergeRawConfig,
  type RawConfig,
  type RawConfigParts,
  rawConfig,
  type TechnologyContext,
} from "@vnet/core";
import { directAddressing, directLink } from "./direct.js";
import { authorizedCondition, ieee8021xRawConfig } from "./ieee8021x.js";
import type { NormalizedEthernetConfig } from "./types.js";

/** A fixed MAC address is set while the link is down (many drivers refuse it while up). */
function macAddressParts(ifname: string, macAddress: string | undefined): RawConfigParts {
  if (!macAddress) return {};
  const upCommands: Command[] = [
    { runIgnoringErrors: ["ip", "link", "set", "dev", ifname, "down"] },
    { run: ["ip", "link", "set", "dev", ifname, "address", macAddress] },
  ];
  return { upCommands };
}

/**
 * The recipe, in the order things must happen on the way up:
 * 1. the MAC address (link down first);
 * 2. IPv6 sysctls, before the link comes up (the first router solicitation follows them);
 * 3. 802.1X: wpa_supplicant.conf (0600), `wpa_supplicant -D wired` and the `ethernet.ieee8021x`
 *    service publishing `eap_status`; DHCP (v4 and v6) then runs only while the port is authorized;
 * 4. IPv4 (core's helper, which brings the link up): DHCP client, static address or nothing;
 *    for `direct`, the derived static address;
 * 5. IPv6 after link up: static address, route, name servers, or the DHCPv6 client;
 * 6. the DHCP server (`dhcpd`, or the one `direct` derives).
 * Down commands run in the same order: IPv6's (while the link is still up), then IPv4's (link down).
 */
export function ethernetRawConfig(
  ifname: string,
  config: NormalizedEthernetConfig,
  context: TechnologyContext,
): RawConfig {
  const direct = config.direct
    ? directAddressing(directLink(ifname, config.direct, context.hostname))
    : undefined;
  const ipv4 = direct?.ipv4 ?? config.ipv4 ?? { method: "dhcp" };
  const dhcpd = direct?.dhcpd ?? config.dhcpd;
  const runWhile = config.ieee8021x ? authorizedCondition(ifname) : undefined;
  const hostname = config.hostname ?? context.hostname;
  const ipv6 = ipv6RawConfig(ifname, config.ipv6, context, {
    hostname,
    ...(runWhile ? { runWhile } : {}),
    // IPv4 brings a checker unless it is disabled; then IPv6 reports the connection.
    connectivityChecker: ipv4.method === "disabled",
  });
  return mergeRawConfig(
    rawConfig(ifname, config),
    macAddressParts(ifname, config.mac_address),
    ipv6.beforeLinkUp,
    config.ieee8021x ? ieee8021xRawConfig(ifname, config.ieee8021x, context) : {},
    ipv4RawConfig(ifname, ipv4, context, { hostname, ...(runWhile ? { runWhile } : {}) }),
    ipv6.afterLinkUp,
    dhcpd ? dhcpdRawConfig(ifname, dhcpd, context) : {},
  );
}
