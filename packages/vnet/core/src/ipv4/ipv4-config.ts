import {
  broadcastAddress,
  inSubnet,
  isPrefixLength,
  netmaskToPrefix,
  subnetAddress,
} from "../ip/address.js";
import type { PropertyCondition } from "../property-condition.js";
import type { Command, RawConfigParts, ServiceSpec } from "../raw-config.js";
import type { TechnologyContext } from "../technology.js";
import {
  domainField,
  Issues,
  ipListField,
  ipv4Field,
  isPlainObject,
  join,
  rejectUnknownFields,
} from "./validate.js";

/** IPv4 by DHCP (busybox udhcpc). */
export interface IPv4DhcpConfig {
  readonly method: "dhcp";
  /** Extra options to request, by name (`"ntpsrv"`) or code (`"42"`): udhcpc `-O`. */
  readonly dhcp_request_options?: readonly string[];
}

/** A fixed IPv4 address. Give `prefix_length` or `netmask`. */
export interface IPv4StaticConfig {
  readonly method: "static";
  readonly address: string;
  readonly prefix_length?: number;
  readonly netmask?: string;
  /** Default gateway; without one the interface is LAN-only (`lan` at best). */
  readonly gateway?: string;
  readonly name_servers?: string | readonly string[];
  /** Search domain for resolv.conf. */
  readonly domain?: string;
}

/** No IPv4 address; the link is still brought up. */
export interface IPv4DisabledConfig {
  readonly method: "disabled";
}

/** The `ipv4` section of a config, as users write it. */
export type IPv4Config = IPv4DhcpConfig | IPv4StaticConfig | IPv4DisabledConfig;

/** A static config after `normalizeIPv4`: prefix length resolved, name servers a list. */
export interface NormalizedIPv4Static {
  readonly method: "static";
  readonly address: string;
  readonly prefix_length: number;
  readonly gateway?: string;
  readonly name_servers: readonly string[];
  readonly domain?: string;
}

/** The `ipv4` section after `normalizeIPv4`. */
export type NormalizedIPv4Config = IPv4DhcpConfig | NormalizedIPv4Static | IPv4DisabledConfig;

const DHCP_FIELDS = ["method", "dhcp_request_options"];
const STATIC_FIELDS = [
  "method",
  "address",
  "prefix_length",
  "netmask",
  "gateway",
  "name_servers",
  "domain",
];

/**
 * Validates and canonicalizes an `ipv4` section (`undefined` means DHCP). Throws one
 * `ValidationError` naming every bad field (paths under `path`, default `ipv4`).
 */
export function normalizeIPv4(input: unknown, path = "ipv4"): NormalizedIPv4Config {
  if (input === undefined) return { method: "dhcp" };
  const issues = new Issues();
  if (!isPlainObject(input)) {
    issues.add(path, input, "must be an object with a method (dhcp, static or disabled)");
    issues.throwIfAny();
  }
  const section = input as Record<string, unknown>;
  switch (section.method) {
    case "dhcp": {
      rejectUnknownFields(issues, section, DHCP_FIELDS, path, "DHCP ipv4 configs");
      let requestOptions: string[] | undefined;
      if (section.dhcp_request_options !== undefined) {
        const list = section.dhcp_request_options;
        const optionsPath = join(path, "dhcp_request_options");
        if (!Array.isArray(list)) {
          issues.add(optionsPath, list, "must be a list of DHCP option names or codes");
        } else {
          requestOptions = [];
          list.forEach((option, index) => {
            const code = typeof option === "number" ? option : Number(option);
            if (
              Number.isInteger(code) &&
              code > 0 &&
              code < 255 &&
              /^[0-9]+$/.test(String(option))
            ) {
              requestOptions!.push(String(code));
            } else if (typeof option === "string" && /^[a-z][a-z0-9_]{0,31}$/.test(option)) {
              requestOptions!.push(option);
            } else {
              issues.add(
                join(optionsPath, index),
                option,
                "must be a udhcpc option name (such as ntpsrv) or a code from 1 to 254",
              );
            }
          });
        }
      }
      issues.throwIfAny();
      return requestOptions && requestOptions.length > 0
        ? { method: "dhcp", dhcp_request_options: [...new Set(requestOptions)] }
        : { method: "dhcp" };
    }
    case "disabled":
      rejectUnknownFields(issues, section, ["method"], path, "disabled ipv4 configs");
      issues.throwIfAny();
      return { method: "disabled" };
    case "static":
      return normalizeStatic(section, path, issues);
    default:
      issues.add(join(path, "method"), section.method, "must be one of dhcp, static, disabled");
      issues.throwIfAny();
      throw new Error("unreachable");
  }
}

function normalizeStatic(
  section: Record<string, unknown>,
  path: string,
  issues: Issues,
): NormalizedIPv4Static {
  rejectUnknownFields(issues, section, STATIC_FIELDS, path, "static ipv4 configs");
  const address =
    section.address === undefined
      ? issues.add(join(path, "address"), undefined, "is required for static addressing")
      : ipv4Field(issues, section.address, join(path, "address"));

  let prefixLength: number | undefined;
  if (section.prefix_length !== undefined) {
    if (!isPrefixLength("inet", section.prefix_length)) {
      issues.add(
        join(path, "prefix_length"),
        section.prefix_length,
        "must be an integer from 0 to 32",
      );
    } else {
      prefixLength = section.prefix_length;
    }
  }
  if (section.netmask !== undefined) {
    const fromMask =
      typeof section.netmask === "string" ? netmaskToPrefix(section.netmask.trim()) : undefined;
    if (fromMask === undefined) {
      issues.add(
        join(path, "netmask"),
        section.netmask,
        "must be a contiguous IPv4 netmask such as 255.255.255.0",
      );
    } else if (prefixLength !== undefined && prefixLength !== fromMask) {
      issues.add(
        join(path, "netmask"),
        section.netmask,
        `disagrees with prefix_length ${prefixLength}; give one of them`,
      );
    } else {
      prefixLength = fromMask;
    }
  }
  if (section.prefix_length === undefined && section.netmask === undefined) {
    issues.add(join(path, "prefix_length"), undefined, "is required (or give netmask)");
  }
  if (address && prefixLength !== undefined && prefixLength <= 30) {
    if (address === subnetAddress("inet", address, prefixLength)) {
      issues.add(join(path, "address"), address, `is the network address of its /${prefixLength}`);
    } else if (address === broadcastAddress(address, prefixLength)) {
      issues.add(
        join(path, "address"),
        address,
        `is the broadcast address of its /${prefixLength}`,
      );
    }
  }

  let gateway: string | undefined;
  if (section.gateway !== undefined && section.gateway !== null && section.gateway !== "") {
    gateway = ipv4Field(issues, section.gateway, join(path, "gateway"));
    if (
      gateway &&
      address &&
      prefixLength !== undefined &&
      prefixLength <= 30 &&
      !inSubnet(gateway, address, prefixLength)
    ) {
      issues.add(
        join(path, "gateway"),
        section.gateway,
        `is not in ${subnetAddress("inet", address, prefixLength)}/${prefixLength}`,
      );
      gateway = undefined;
    }
  }
  const nameServers =
    section.name_servers === undefined
      ? []
      : ipListField(issues, section.name_servers, join(path, "name_servers"), "any");
  let domain: string | undefined;
  if (section.domain !== undefined && section.domain !== "") {
    domain = domainField(issues, section.domain, join(path, "domain"));
  }
  issues.throwIfAny();
  return {
    method: "static",
    address: address!,
    prefix_length: prefixLength!,
    ...(gateway ? { gateway } : {}),
    name_servers: nameServers,
    ...(domain ? { domain } : {}),
  };
}

/** Options of {@link ipv4RawConfig}. */
export interface IPv4RawConfigOptions {
  /** DHCP client hostname (option 12). Default the context's (the system hostname). */
  readonly hostname?: string;
  /**
   * DHCP only: run the client only while this property condition holds as well as carrier, e.g.
   * `{ path: ["interface", ifname, "eap_status"], matches: { authorized: true } }` on an 802.1X
   * port, where DHCP before authorization is dropped by the switch.
   */
  readonly runWhile?: PropertyCondition;
}

function flushCommand(ifname: string): Command {
  return { runIgnoringErrors: ["ip", "-4", "addr", "flush", "dev", ifname, "label", ifname] };
}

/** Down commands shared by every method: forget routes and DNS, drop addresses, link down. */
function ipv4DownCommands(ifname: string): Command[] {
  return [
    { step: "routes.clear", ifname },
    { step: "dns.clear", ifname },
    flushCommand(ifname),
    { runIgnoringErrors: ["ip", "link", "set", ifname, "down"] },
  ];
}

/**
 * The recipe parts for an `ipv4` section (VintageNet's IPv4Config recipe, reference §7.1):
 * - `disabled`: link up; no address; connection stays `disconnected`.
 * - `dhcp`: link up; the `dhcp-client` service runs udhcpc while the link has carrier, and the
 *   `internet-checker` service reports `lan`/`internet`.
 * - `static`: flush, add the address with its broadcast, link up, record the route and name
 *   servers; `internet-checker` with a gateway, `lan-checker` without.
 * Down commands always forget routes and DNS, flush IPv4 addresses and take the link down.
 */
export function ipv4RawConfig(
  ifname: string,
  ipv4: NormalizedIPv4Config,
  context: TechnologyContext,
  options: IPv4RawConfigOptions = {},
): RawConfigParts {
  const linkUp: Command = { run: ["ip", "link", "set", ifname, "up"] };
  switch (ipv4.method) {
    case "disabled":
      return { upCommands: [linkUp], downCommands: ipv4DownCommands(ifname) };
    case "dhcp": {
      const dhcpClient: ServiceSpec = {
        service: "dhcp-client",
        options: {
          hostname: options.hostname ?? context.hostname,
          request_options: [...(ipv4.dhcp_request_options ?? [])],
          ...(options.runWhile
            ? {
                run_while: {
                  path: [...options.runWhile.path],
                  matches: options.runWhile.matches,
                },
              }
            : {}),
        },
      };
      return {
        upCommands: [linkUp],
        downCommands: ipv4DownCommands(ifname),
        services: [dhcpClient, { service: "internet-checker" }],
      };
    }
    case "static": {
      const cidr = `${ipv4.address}/${ipv4.prefix_length}`;
      const addressCommand: Command = {
        run: [
          "ip",
          "addr",
          "add",
          cidr,
          "dev",
          ifname,
          "broadcast",
          broadcastAddress(ipv4.address, ipv4.prefix_length),
          "label",
          ifname,
        ],
      };
      const subnets = [{ address: ipv4.address, prefix_length: ipv4.prefix_length }];
      return {
        upCommands: [
          flushCommand(ifname),
          addressCommand,
          linkUp,
          { step: "routes.set", ifname, subnets, gateway: ipv4.gateway ?? null },
          ipv4.name_servers.length > 0 || ipv4.domain
            ? {
                step: "dns.set",
                ifname,
                domain: ipv4.domain ?? null,
                name_servers: [...ipv4.name_servers],
              }
            : { step: "dns.clear", ifname },
        ],
        downCommands: ipv4DownCommands(ifname),
        services: [{ service: ipv4.gateway ? "internet-checker" : "lan-checker" }],
      };
    }
  }
}
