// normalize: validate an `ethernet` configuration and return it in canonical form. Pure.
import { ValidationError, type ValidationIssue } from "@runtime/errors";
import {
  ConfigIssues,
  hostnameField,
  inSubnet,
  isPlainObject,
  type NetworkConfig,
  type NormalizedDhcpdConfig,
  type NormalizedIPv4Config,
  normalizeDhcpd,
  normalizeIPv4,
  normalizeIPv6,
  parseIPv4,
  prefixToNetmask,
  rejectUnknownFields,
  subnetAddress,
} from "@vnet/core";
import { normalizeIeee8021x } from "./ieee8021x.js";
import type { NormalizedDirectConfig, NormalizedEthernetConfig } from "./types.js";

const FIELDS = ["type", "ipv4", "ipv6", "dhcpd", "direct", "mac_address", "hostname", "ieee8021x"];

/** Runs a section normalizer, collecting its ValidationError's issues instead of throwing. */
function collect<T>(issues: ConfigIssues, normalize: () => T): T | undefined {
  try {
    return normalize();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    for (const issue of error.issues) issues.list.push(issue as ValidationIssue);
    return undefined;
  }
}

function macAddressField(issues: ConfigIssues, value: unknown): string | undefined {
  if (typeof value !== "string" || !/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(value)) {
    return issues.add("mac_address", value, "must be a MAC address such as 02:00:00:00:00:01");
  }
  const canonical = value.toLowerCase().replaceAll("-", ":");
  const first = Number.parseInt(canonical.slice(0, 2), 16);
  if (first & 1) {
    return issues.add("mac_address", value, "is a multicast address (the first octet is odd)");
  }
  if (canonical === "00:00:00:00:00:00") {
    return issues.add("mac_address", value, "is all zeros");
  }
  return canonical;
}

function ipv4Number(address: string): number {
  return parseIPv4(address)!.reduce((value, octet) => value * 256 + octet, 0);
}

function directField(issues: ConfigIssues, value: unknown): NormalizedDirectConfig | undefined {
  if (!isPlainObject(value)) {
    return issues.add("direct", value, "must be an object (use {} for the derived subnet)");
  }
  rejectUnknownFields(issues, value, ["subnet", "hostname"], "direct", "direct configs");
  let subnet: string | undefined;
  if (value.subnet !== undefined) {
    const match =
      typeof value.subnet === "string"
        ? /^([0-9.]+)\/([0-9]{1,2})$/.exec(value.subnet.trim())
        : null;
    const address = match ? parseIPv4(match[1]!) : undefined;
    const prefixLength = match ? Number(match[2]) : Number.NaN;
    if (!address || !(prefixLength >= 16 && prefixLength <= 30)) {
      issues.add(
        "direct.subnet",
        value.subnet,
        "must be an IPv4 subnet from /16 to /30 in CIDR form, e.g. 192.168.7.0/24",
      );
    } else {
      subnet = `${subnetAddress("inet", address.join("."), prefixLength)}/${prefixLength}`;
    }
  }
  const hostname =
    value.hostname === undefined
      ? undefined
      : hostnameField(issues, value.hostname, "direct.hostname");
  if (subnet && hostname) {
    issues.add(
      "direct.hostname",
      value.hostname,
      "only derives a subnet; with direct.subnet given it would be ignored",
    );
  }
  return { ...(subnet ? { subnet } : {}), ...(hostname ? { hostname } : {}) };
}

/**
 * A DHCP server needs a static address, and its pool must lie on that subnet without it. The
 * subnet mask handed out defaults to the interface's: udhcpd sends none unless told, and a
 * client without one takes a /32 and cannot reach its neighbours.
 */
function checkDhcpd(
  issues: ConfigIssues,
  ipv4: NormalizedIPv4Config | undefined,
  dhcpd: NormalizedDhcpdConfig,
  input: Record<string, unknown>,
): NormalizedDhcpdConfig {
  if (ipv4?.method !== "static") {
    issues.add("dhcpd", input.dhcpd, "needs static IPv4 addressing (ipv4.method static)");
    return dhcpd;
  }
  const network = `${subnetAddress("inet", ipv4.address, ipv4.prefix_length)}/${ipv4.prefix_length}`;
  const section = input.dhcpd as Record<string, unknown>;
  for (const field of ["start", "end"] as const) {
    if (!inSubnet(dhcpd[field], ipv4.address, ipv4.prefix_length)) {
      issues.add(
        `dhcpd.${field}`,
        section[field] ?? dhcpd[field],
        `is not on the interface's subnet ${network}${section[field] === undefined ? " (it is the default; give start and end)" : ""}`,
      );
    }
  }
  const own = ipv4Number(ipv4.address);
  if (own >= ipv4Number(dhcpd.start) && own <= ipv4Number(dhcpd.end)) {
    issues.add(
      "dhcpd.start",
      section.start ?? dhcpd.start,
      `makes the pool ${dhcpd.start}-${dhcpd.end} include the interface's own address ${ipv4.address}`,
    );
  }
  if (dhcpd.options?.subnet !== undefined) return dhcpd;
  return {
    ...dhcpd,
    options: { ...dhcpd.options, subnet: prefixToNetmask("inet", ipv4.prefix_length) },
  };
}

/**
 * Validates and canonicalizes an `ethernet` configuration. Throws one `ValidationError` listing
 * every problem (field path, value with secrets redacted, reason). Idempotent.
 */
export function normalizeEthernet(config: NetworkConfig): NormalizedEthernetConfig {
  const issues = new ConfigIssues();
  if (!isPlainObject(config)) {
    issues.add("", config, "must be an object with type ethernet");
    issues.throwIfAny();
  }
  const input = config as Record<string, unknown>;
  rejectUnknownFields(issues, input, FIELDS, "", "ethernet configs");
  if (input.type !== "ethernet") issues.add("type", input.type, 'must be "ethernet"');

  let direct: NormalizedDirectConfig | undefined;
  let ipv4: NormalizedIPv4Config | undefined;
  let dhcpd: NormalizedDhcpdConfig | undefined;
  if (input.direct !== undefined) {
    direct = directField(issues, input.direct);
    for (const field of ["ipv4", "dhcpd"]) {
      if (input[field] !== undefined) {
        issues.add(field, input[field], "cannot be combined with direct, which derives it");
      }
    }
  } else {
    ipv4 = collect(issues, () => normalizeIPv4(input.ipv4));
    if (input.dhcpd !== undefined) {
      dhcpd = collect(issues, () => normalizeDhcpd(input.dhcpd));
      if (dhcpd && ipv4) dhcpd = checkDhcpd(issues, ipv4, dhcpd, input);
    }
  }
  const ipv6 = collect(issues, () => normalizeIPv6(input.ipv6));
  const macAddress =
    input.mac_address === undefined ? undefined : macAddressField(issues, input.mac_address);
  const hostname =
    input.hostname === undefined ? undefined : hostnameField(issues, input.hostname, "hostname");
  const ieee8021x =
    input.ieee8021x === undefined
      ? undefined
      : collect(issues, () => normalizeIeee8021x(input.ieee8021x));
  issues.throwIfAny();
  return {
    type: "ethernet",
    ...(ipv4 ? { ipv4 } : {}),
    ipv6: ipv6!,
    ...(dhcpd ? { dhcpd } : {}),
    ...(direct ? { direct } : {}),
    ...(macAddress ? { mac_address: macAddress } : {}),
    ...(hostname ? { hostname } : {}),
    ...(ieee8021x ? { ieee8021x } : {}),
  };
}
