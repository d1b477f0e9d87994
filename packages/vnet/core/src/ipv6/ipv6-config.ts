import { join as joinPath } from "node:path";
import { inSubnet, parseIPv6 } from "../ip/address.js";
import {
  Issues,
  integerField,
  ipListField,
  isPlainObject,
  join,
  rejectUnknownFields,
} from "../ipv4/validate.js";
import type { PropertyCondition } from "../property-condition.js";
import type { Command, RawConfigParts, ServiceSpec } from "../raw-config.js";
import { defaultRouteMetric } from "../routes/metric.js";
import type { TechnologyContext } from "../technology.js";

/** Stateless autoconfiguration: the kernel builds addresses from router advertisements. */
export interface IPv6SlaacConfig {
  readonly method: "slaac";
}

/**
 * An address from a DHCPv6 server (`dhclient -6`), plus whatever router advertisements give
 * (default route, on-link prefix, SLAAC addresses when the router allows them).
 */
export interface IPv6Dhcpv6Config {
  readonly method: "dhcpv6";
}

/** A fixed IPv6 address. */
export interface IPv6StaticConfig {
  readonly method: "static";
  /** `fd00::5`, or `fd00::5/64` (then `prefix_length` may be left out). */
  readonly address: string;
  /** Default 64. */
  readonly prefix_length?: number;
  /** Default router: on the address's prefix, or link-local (`fe80::1`). */
  readonly gateway?: string;
  readonly name_servers?: string | readonly string[];
}

/** No IPv6 at all on the interface (sysctl `disable_ipv6`): not even a link-local address. */
export interface IPv6DisabledConfig {
  readonly method: "disabled";
}

/** The `ipv6` section of a config, as users write it. */
export type IPv6Config = IPv6SlaacConfig | IPv6Dhcpv6Config | IPv6StaticConfig | IPv6DisabledConfig;

/** A static config after `normalizeIPv6`: canonical address, prefix length, a server list. */
export interface NormalizedIPv6Static {
  readonly method: "static";
  readonly address: string;
  readonly prefix_length: number;
  readonly gateway?: string;
  readonly name_servers: readonly string[];
}

/** The `ipv6` section after `normalizeIPv6`. */
export type NormalizedIPv6Config =
  | IPv6SlaacConfig
  | IPv6Dhcpv6Config
  | NormalizedIPv6Static
  | IPv6DisabledConfig;

const METHODS = "slaac, dhcpv6, static, disabled";
const STATIC_FIELDS = ["method", "address", "prefix_length", "gateway", "name_servers"];

/** The first 16 bits of an IPv6 address, or undefined. */
function firstWord(address: string): number | undefined {
  return parseIPv6(address)?.[0];
}

/** Why an address cannot be a host's own or a router's unicast address, or undefined. */
function unicastProblem(address: string): string | undefined {
  const words = parseIPv6(address)!;
  if (words.every((word) => word === 0)) return "is the unspecified address";
  if (words.slice(0, 7).every((word) => word === 0) && words[7] === 1) return "is loopback";
  if (words[0]! >= 0xff00) return "is a multicast address";
  if (words.slice(0, 5).every((word) => word === 0) && words[5] === 0xffff) {
    return "is an IPv4-mapped address; use the ipv4 section";
  }
  return undefined;
}

function isLinkLocal(address: string): boolean {
  const word = firstWord(address);
  return word !== undefined && (word & 0xffc0) === 0xfe80;
}

/** A unicast IPv6 address in canonical text, or undefined with an issue recorded. */
function ipv6UnicastField(issues: Issues, value: unknown, path: string): string | undefined {
  const words = typeof value === "string" ? parseIPv6(value.trim()) : undefined;
  if (!words) return issues.add(path, value, "must be an IPv6 address such as fd00::5");
  const canonical = ipListField(issues, value, path, "any")[0]!;
  const problem = unicastProblem(canonical);
  return problem ? issues.add(path, value, problem) : canonical;
}

/**
 * Validates and canonicalizes an `ipv6` section. `undefined` means SLAAC (what the kernel does
 * by default, now stated). Throws one `ValidationError` naming every bad field (paths under
 * `path`, default `ipv6`).
 */
export function normalizeIPv6(input: unknown, path = "ipv6"): NormalizedIPv6Config {
  if (input === undefined) return { method: "slaac" };
  const issues = new Issues();
  if (!isPlainObject(input)) {
    issues.add(path, input, `must be an object with a method (${METHODS})`);
    issues.throwIfAny();
  }
  const section = input as Record<string, unknown>;
  switch (section.method) {
    case "slaac":
    case "dhcpv6":
    case "disabled": {
      const method = section.method;
      rejectUnknownFields(issues, section, ["method"], path, `${method} ipv6 configs`);
      issues.throwIfAny();
      return { method };
    }
    case "static":
      return normalizeStatic(section, path, issues);
    default:
      issues.add(join(path, "method"), section.method, `must be one of ${METHODS}`);
      issues.throwIfAny();
      throw new Error("unreachable");
  }
}

function normalizeStatic(
  section: Record<string, unknown>,
  path: string,
  issues: Issues,
): NormalizedIPv6Static {
  rejectUnknownFields(issues, section, STATIC_FIELDS, path, "static ipv6 configs");
  let address: string | undefined;
  let prefixFromAddress: number | undefined;
  if (section.address === undefined) {
    issues.add(join(path, "address"), undefined, "is required for static addressing");
  } else {
    let text: unknown = section.address;
    if (typeof text === "string" && text.includes("/")) {
      const [host, length] = text.split("/", 2) as [string, string];
      if (/^[0-9]{1,3}$/.test(length.trim()) && Number(length) >= 1 && Number(length) <= 128) {
        prefixFromAddress = Number(length);
        text = host;
      } else {
        text = undefined; // reported below as not an address
      }
    }
    address =
      text === undefined
        ? issues.add(
            join(path, "address"),
            section.address,
            "must be an IPv6 address, optionally with a prefix length from 1 to 128 (fd00::5/64)",
          )
        : ipv6UnicastField(issues, text, join(path, "address"));
  }
  let prefixLength = prefixFromAddress ?? 64;
  if (section.prefix_length !== undefined) {
    const given = integerField(issues, section.prefix_length, join(path, "prefix_length"), 1, 128);
    if (given !== undefined) {
      if (prefixFromAddress !== undefined && given !== prefixFromAddress) {
        issues.add(
          join(path, "prefix_length"),
          section.prefix_length,
          `disagrees with the /${prefixFromAddress} in address; give one of them`,
        );
      }
      prefixLength = given;
    }
  }
  let gateway: string | undefined;
  if (section.gateway !== undefined && section.gateway !== null && section.gateway !== "") {
    gateway = ipv6UnicastField(issues, section.gateway, join(path, "gateway"));
    if (gateway && address && !isLinkLocal(gateway) && !inSubnet(gateway, address, prefixLength)) {
      issues.add(
        join(path, "gateway"),
        section.gateway,
        `is neither link-local nor on ${address}/${prefixLength}`,
      );
      gateway = undefined;
    }
    if (gateway && address === gateway) {
      issues.add(join(path, "gateway"), section.gateway, "is the interface's own address");
    }
  }
  const nameServers =
    section.name_servers === undefined
      ? []
      : ipListField(issues, section.name_servers, join(path, "name_servers"), "any");
  issues.throwIfAny();
  return {
    method: "static",
    address: address!,
    prefix_length: prefixLength,
    ...(gateway ? { gateway } : {}),
    name_servers: nameServers,
  };
}

/** Options of {@link ipv6RawConfig}. */
export interface IPv6RawConfigOptions {
  /** DHCPv6 client FQDN (option 39). Default the context's hostname. */
  readonly hostname?: string;
  /** DHCPv6 only: run the client only while this condition holds too (see `ipv4RawConfig`). */
  readonly runWhile?: PropertyCondition;
  /**
   * Add a connectivity checker for IPv6 (`internet-checker`, or `lan-checker` for a static
   * address without gateway). Set it when the IPv4 part has none (IPv4 disabled); two checkers
   * on one interface would report against each other.
   */
  readonly connectivityChecker?: boolean;
}

/** The two halves of the IPv6 recipe, placed around the IPv4 part (which brings the link up). */
export interface IPv6RawConfigParts {
  /**
   * Merge before the IPv4 part. Up: the sysctls, set before the link comes up so the first
   * router solicitation already follows them. Down: what must run while the link is still up
   * (name servers, routes and addresses removed).
   */
  readonly beforeLinkUp: RawConfigParts;
  /** Merge after the IPv4 part. Up: static address, route, name servers. Services: DHCPv6. */
  readonly afterLinkUp: RawConfigParts;
}

/** Where the DHCPv6 client keeps its files for `ifname`. */
export function dhcpv6Paths(ifname: string, context: TechnologyContext) {
  return {
    configPath: joinPath(context.tmpDir, `dhclient6.conf.${ifname}`),
    leaseFile: joinPath(context.tmpDir, `dhclient6.${ifname}.leases`),
    pidFile: joinPath(context.tmpDir, `dhclient6.${ifname}.pid`),
  };
}

/**
 * dhclient's configuration: ask for name servers and search domains, and send the hostname as
 * the client FQDN when it is a plain DNS name (anything else could break the file's quoting).
 */
export function dhclient6Conf(ifname: string, hostname: string): string {
  const lines = [
    `# Generated by @vnet/core for ${ifname}. Do not edit.`,
    "request dhcp6.name-servers, dhcp6.domain-search;",
  ];
  if (/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(hostname)) {
    lines.push(`send fqdn.fqdn "${hostname}";`);
  }
  return `${lines.join("\n")}\n`;
}

function sysctl(ifname: string, settings: Record<string, number>): string[] {
  return [
    "sysctl",
    "-w",
    // Slashes, not dots, separate the key: interface names may contain dots (eth0.100).
    ...Object.entries(settings).map(([key, value]) => `net/ipv6/conf/${ifname}/${key}=${value}`),
  ];
}

/**
 * The recipe parts for an `ipv6` section:
 * - `slaac`: `accept_ra=2` (router advertisements accepted even when the device forwards),
 *   `autoconf=1`, `disable_ipv6=0`; the kernel does the rest, addresses show in `addresses`.
 *   Errors are ignored so a kernel without IPv6 still brings the interface up (SLAAC is the
 *   default).
 * - `dhcpv6`: the same sysctls (routes and on-link prefixes come from advertisements), and the
 *   `dhcpv6-client` service (dhclient -6 while carrier).
 * - `static`: `accept_ra=0`, `autoconf=0`, `disable_ipv6=0`; after link up the address, a
 *   default route via the gateway (metric as the IPv4 default route's would be while
 *   `internet`), name servers (source `ipv6`).
 * - `disabled`: `disable_ipv6=1` (errors ignored: a kernel without IPv6 has none anyway).
 * Sysctls stay as set after tear-down; every method sets all it depends on.
 */
export function ipv6RawConfig(
  ifname: string,
  ipv6: NormalizedIPv6Config,
  context: TechnologyContext,
  options: IPv6RawConfigOptions = {},
): IPv6RawConfigParts {
  const downWhileUp: Command[] = [
    { step: "dns.clear", ifname, source: "ipv6" },
    { runIgnoringErrors: ["ip", "-6", "addr", "flush", "dev", ifname, "scope", "global"] },
  ];
  const checker = (service: "internet-checker" | "lan-checker"): ServiceSpec[] =>
    options.connectivityChecker ? [{ service }] : [];
  switch (ipv6.method) {
    case "disabled":
      return {
        beforeLinkUp: {
          upCommands: [{ runIgnoringErrors: sysctl(ifname, { disable_ipv6: 1 }) }],
        },
        afterLinkUp: {},
      };
    case "slaac":
      return {
        beforeLinkUp: {
          upCommands: [
            {
              runIgnoringErrors: sysctl(ifname, { accept_ra: 2, autoconf: 1, disable_ipv6: 0 }),
            },
          ],
          downCommands: downWhileUp,
        },
        afterLinkUp: { services: checker("internet-checker") },
      };
    case "dhcpv6": {
      const paths = dhcpv6Paths(ifname, context);
      const client: ServiceSpec = {
        service: "dhcpv6-client",
        options: {
          config_path: paths.configPath,
          lease_file: paths.leaseFile,
          pid_file: paths.pidFile,
          ...(options.runWhile
            ? { run_while: { path: [...options.runWhile.path], matches: options.runWhile.matches } }
            : {}),
        },
      };
      return {
        beforeLinkUp: {
          upCommands: [{ run: sysctl(ifname, { accept_ra: 2, autoconf: 1, disable_ipv6: 0 }) }],
          downCommands: downWhileUp,
        },
        afterLinkUp: {
          files: [
            {
              path: paths.configPath,
              content: dhclient6Conf(ifname, options.hostname ?? context.hostname),
            },
          ],
          // The DUID is derived from the MAC (-D LL), so the lease file need not survive.
          cleanupFiles: [paths.leaseFile, paths.pidFile],
          services: [client, ...checker("internet-checker")],
        },
      };
    }
    case "static": {
      const routeArgs = ipv6.gateway
        ? [
            "default",
            "via",
            ipv6.gateway,
            "dev",
            ifname,
            "metric",
            String(defaultRouteMetric(ifname, "internet")),
          ]
        : [];
      return {
        beforeLinkUp: {
          upCommands: [{ run: sysctl(ifname, { accept_ra: 0, autoconf: 0, disable_ipv6: 0 }) }],
          downCommands: [
            ...(ipv6.gateway
              ? [{ runIgnoringErrors: ["ip", "-6", "route", "del", ...routeArgs] }]
              : []),
            ...downWhileUp,
          ],
        },
        afterLinkUp: {
          upCommands: [
            { runIgnoringErrors: ["ip", "-6", "addr", "flush", "dev", ifname, "scope", "global"] },
            {
              run: [
                "ip",
                "-6",
                "addr",
                "add",
                `${ipv6.address}/${ipv6.prefix_length}`,
                "dev",
                ifname,
              ],
            },
            ...(ipv6.gateway ? [{ run: ["ip", "-6", "route", "replace", ...routeArgs] }] : []),
            ...(ipv6.name_servers.length > 0
              ? [
                  {
                    step: "dns.set",
                    ifname,
                    domain: null,
                    name_servers: [...ipv6.name_servers],
                    source: "ipv6",
                  } as Command,
                ]
              : []),
          ],
          services: checker(ipv6.gateway ? "internet-checker" : "lan-checker"),
        },
      };
    }
  }
}
