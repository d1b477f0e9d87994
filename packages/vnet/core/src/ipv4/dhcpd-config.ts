import { join as joinPath } from "node:path";
import { canonicalIPv4, parseIPv4 } from "../ip/address.js";
import type { RawConfigParts } from "../raw-config.js";
import type { TechnologyContext } from "../technology.js";
import {
  domainField,
  hostnameField,
  Issues,
  integerField,
  ipListField,
  ipv4Field,
  isPlainObject,
  join,
  rejectUnknownFields,
} from "./validate.js";

/** `dhcpd.options`: what udhcpd hands to clients. */
export interface DhcpdOptions {
  readonly dns?: string | readonly string[];
  readonly router?: string | readonly string[];
  readonly serverid?: string;
  /** The subnet mask handed out. */
  readonly subnet?: string;
  /** Alias of `subnet`. */
  readonly netmask?: string;
  readonly mtu?: number;
  readonly hostname?: string;
  readonly domain?: string;
  readonly search?: string | readonly string[];
  /** Raw options by code (`"42"`), passed to udhcpd verbatim. */
  readonly [code: `${number}`]: string;
}

/** A DHCP server (busybox udhcpd) on the interface. Every field is optional. */
export interface DhcpdConfig {
  /** First address handed out. Default 192.168.0.20. */
  readonly start?: string;
  /** Last address handed out. Default 192.168.0.254. */
  readonly end?: string;
  readonly max_leases?: number;
  readonly decline_time?: number;
  readonly conflict_time?: number;
  readonly offer_time?: number;
  readonly min_lease?: number;
  /**
   * Seconds between lease file writes (each write publishes the leases property). Default 10
   * here (udhcpd's own default is 7200), so new leases show within seconds.
   */
  readonly auto_time?: number;
  readonly static_leases?: readonly { readonly mac: string; readonly ip: string }[];
  readonly options?: DhcpdOptions;
}

/** A `dhcpd` section after `normalizeDhcpd`. */
export interface NormalizedDhcpdConfig {
  readonly start: string;
  readonly end: string;
  readonly max_leases?: number;
  readonly decline_time?: number;
  readonly conflict_time?: number;
  readonly offer_time?: number;
  readonly min_lease?: number;
  readonly auto_time: number;
  readonly static_leases?: readonly { readonly mac: string; readonly ip: string }[];
  readonly options?: {
    readonly dns?: readonly string[];
    readonly router?: readonly string[];
    readonly serverid?: string;
    readonly subnet?: string;
    readonly mtu?: number;
    readonly hostname?: string;
    readonly domain?: string;
    readonly search?: readonly string[];
    readonly [code: string]: string | number | readonly string[] | undefined;
  };
}

const DHCPD_FIELDS = [
  "start",
  "end",
  "max_leases",
  "decline_time",
  "conflict_time",
  "offer_time",
  "min_lease",
  "auto_time",
  "static_leases",
  "options",
];
const TIME_FIELDS = ["decline_time", "conflict_time", "offer_time", "min_lease"] as const;
export const DEFAULT_DHCPD_AUTO_TIME = 10;

function ipv4Number(address: string): number {
  const octets = parseIPv4(address)!;
  return ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
}

function macField(issues: Issues, value: unknown, path: string): string | undefined {
  if (typeof value !== "string" || !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(value)) {
    return issues.add(path, value, "must be a MAC address such as 11:22:33:44:55:66");
  }
  return value.toLowerCase();
}

/** Validates and canonicalizes a `dhcpd` section (VintageNet's DhcpdConfig, reference §7.4). */
export function normalizeDhcpd(input: unknown, path = "dhcpd"): NormalizedDhcpdConfig {
  const issues = new Issues();
  if (!isPlainObject(input)) {
    issues.add(path, input, "must be an object");
    issues.throwIfAny();
  }
  const section = input as Record<string, unknown>;
  rejectUnknownFields(issues, section, DHCPD_FIELDS, path, "dhcpd configs");
  const start = ipv4Field(issues, section.start ?? "192.168.0.20", join(path, "start"));
  const end = ipv4Field(issues, section.end ?? "192.168.0.254", join(path, "end"));
  if (start && end && ipv4Number(start) > ipv4Number(end)) {
    issues.add(join(path, "end"), section.end ?? end, `comes before start ${start}`);
  }
  const result: Record<string, unknown> = { start, end };
  if (section.max_leases !== undefined) {
    result.max_leases = integerField(
      issues,
      section.max_leases,
      join(path, "max_leases"),
      1,
      65_535,
    );
  }
  for (const field of TIME_FIELDS) {
    if (section[field] !== undefined) {
      result[field] = integerField(issues, section[field], join(path, field), 0, 4_294_967_295);
    }
  }
  result.auto_time =
    section.auto_time === undefined
      ? DEFAULT_DHCPD_AUTO_TIME
      : integerField(issues, section.auto_time, join(path, "auto_time"), 1, 86_400);

  if (section.static_leases !== undefined) {
    const leasesPath = join(path, "static_leases");
    if (!Array.isArray(section.static_leases)) {
      issues.add(leasesPath, section.static_leases, "must be a list of { mac, ip }");
    } else {
      result.static_leases = section.static_leases.map((lease: unknown, index) => {
        const leasePath = join(leasesPath, index);
        if (!isPlainObject(lease)) return issues.add(leasePath, lease, "must be { mac, ip }");
        rejectUnknownFields(issues, lease, ["mac", "ip"], leasePath, "static leases");
        return {
          mac: macField(issues, lease.mac, join(leasePath, "mac")),
          ip: ipv4Field(issues, lease.ip, join(leasePath, "ip")),
        };
      });
    }
  }
  if (section.options !== undefined) {
    result.options = normalizeOptions(issues, section.options, join(path, "options"));
  }
  issues.throwIfAny();
  return result as unknown as NormalizedDhcpdConfig;
}

function normalizeOptions(issues: Issues, input: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(input)) {
    issues.add(path, input, "must be an object");
    return {};
  }
  const options: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(input)) {
    const optionPath = join(path, name);
    switch (name) {
      case "dns":
      case "router":
        options[name] = ipListField(issues, value, optionPath, "ipv4");
        break;
      case "serverid":
        options.serverid = ipv4Field(issues, value, optionPath);
        break;
      case "subnet":
      case "netmask":
        if (typeof value !== "string" || !canonicalIPv4(value)) {
          issues.add(optionPath, value, "must be a netmask such as 255.255.255.0");
        } else {
          options.subnet = canonicalIPv4(value);
        }
        break;
      case "mtu":
        options.mtu = integerField(issues, value, optionPath, 68, 65_535);
        break;
      case "hostname":
        options.hostname = hostnameField(issues, value, optionPath);
        break;
      case "domain":
        options.domain = domainField(issues, value, optionPath);
        break;
      case "search": {
        const list = Array.isArray(value) ? value : [value];
        options.search = list.map((item, index) =>
          domainField(issues, item, Array.isArray(value) ? join(optionPath, index) : optionPath),
        );
        break;
      }
      default:
        if (/^[1-9][0-9]{0,2}$/.test(name) && Number(name) < 255) {
          if (typeof value !== "string" || /[\n\r]/.test(value) || value === "") {
            issues.add(
              optionPath,
              value,
              "must be the option's value as udhcpd expects it (one line)",
            );
          } else {
            options[name] = value;
          }
        } else {
          issues.add(
            optionPath,
            value,
            "is not a known dhcpd option (dns, router, serverid, subnet, netmask, mtu, hostname, domain, search, or a code 1-254)",
          );
        }
    }
  }
  return options;
}

/** Where the DHCP server keeps its files for `ifname`. */
export function dhcpdPaths(ifname: string, context: TechnologyContext) {
  return {
    configPath: joinPath(context.tmpDir, `udhcpd.conf.${ifname}`),
    leaseFile: joinPath(context.tmpDir, `udhcpd.${ifname}.leases`),
    pidFile: joinPath(context.tmpDir, `udhcpd.${ifname}.pid`),
  };
}

/**
 * The udhcpd.conf text: header (interface and files), a blank line, then settings sorted by
 * keyword, options sorted by name (the layout VintageNet generates).
 */
export function udhcpdConf(
  ifname: string,
  dhcpd: NormalizedDhcpdConfig,
  context: TechnologyContext,
): string {
  const paths = dhcpdPaths(ifname, context);
  const header = [
    `interface ${ifname}`,
    `pidfile ${paths.pidFile}`,
    `lease_file ${paths.leaseFile}`,
    `notify_file ${context.notifyScriptPath}`,
  ];
  const body: string[] = [];
  for (const key of Object.keys(dhcpd).sort()) {
    const value = (dhcpd as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    if (key === "options") {
      const options = value as Record<string, unknown>;
      for (const name of Object.keys(options).sort()) {
        const option = options[name];
        if (option === undefined) continue;
        const text = Array.isArray(option) ? option.join(" ") : String(option);
        body.push(`opt ${name} ${text}`);
      }
    } else if (key === "static_leases") {
      for (const lease of value as Array<{ mac: string; ip: string }>) {
        body.push(`static_lease ${lease.mac} ${lease.ip}`);
      }
    } else {
      body.push(`${key} ${String(value)}`);
    }
  }
  return `${header.join("\n")}\n\n${body.join("\n")}\n`;
}

/**
 * The recipe parts for a DHCP server: the udhcpd.conf file and the `dhcp-server` service,
 * which runs `udhcpd -f` and publishes `["interface", ifname, "dhcpd", "leases"]`.
 */
export function dhcpdRawConfig(
  ifname: string,
  dhcpd: NormalizedDhcpdConfig,
  context: TechnologyContext,
): RawConfigParts {
  const paths = dhcpdPaths(ifname, context);
  return {
    files: [{ path: paths.configPath, content: udhcpdConf(ifname, dhcpd, context) }],
    cleanupFiles: [paths.pidFile],
    services: [
      {
        service: "dhcp-server",
        options: { config_path: paths.configPath, lease_file: paths.leaseFile },
      },
    ],
  };
}

/** One element of `["interface", ifname, "dhcpd", "leases"]`. */
export interface DhcpdLease {
  /** Seconds left when udhcpd wrote the lease file. */
  leasetime: number;
  lease_nip: string;
  lease_mac: string;
  hostname: string;
}

const LEASE_HEADER_BYTES = 8;
const LEASE_RECORD_BYTES = 36;

/**
 * Parses busybox udhcpd's binary lease file: a 64-bit big-endian write time, then 36-byte
 * records (u32 BE seconds left, IPv4, 6-byte MAC, 20-byte NUL-padded hostname, 2 pad bytes).
 * Expired leases (0 s left) and empty slots are left out. Throws a RangeError on a file that
 * is not a whole number of records.
 */
export function parseUdhcpdLeases(bytes: Uint8Array): DhcpdLease[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < LEASE_HEADER_BYTES) {
    throw new RangeError(`lease file of ${buffer.length} bytes has no header`);
  }
  if ((buffer.length - LEASE_HEADER_BYTES) % LEASE_RECORD_BYTES !== 0) {
    throw new RangeError(`lease file of ${buffer.length} bytes is not whole records`);
  }
  const leases: DhcpdLease[] = [];
  for (let offset = LEASE_HEADER_BYTES; offset < buffer.length; offset += LEASE_RECORD_BYTES) {
    const leasetime = buffer.readUInt32BE(offset);
    const ip = [...buffer.subarray(offset + 4, offset + 8)];
    if (leasetime === 0 || ip.every((octet) => octet === 0)) continue;
    const mac = [...buffer.subarray(offset + 8, offset + 14)]
      .map((byte) => byte.toString(16).padStart(2, "0"))
      .join(":");
    const nameBytes = buffer.subarray(offset + 14, offset + 34);
    const end = nameBytes.indexOf(0);
    const hostname = nameBytes.subarray(0, end === -1 ? nameBytes.length : end).toString("utf8");
    leases.push({ leasetime, lease_nip: ip.join("."), lease_mac: mac, hostname });
  }
  return leases;
}
