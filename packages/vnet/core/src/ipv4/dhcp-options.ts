import { canonicalIPv4 } from "../ip/address.js";

/**
 * `["interface", ifname, "dhcp_options"]`: udhcpc's environment parsed into typed values
 * (VintageNet's rules, reference §7.3). Unknown or unparsable variables are left out.
 */
export interface DhcpOptions {
  ip?: string;
  /** Prefix length. */
  mask?: number;
  /** The subnet mask as an address. */
  subnet?: string;
  siaddr?: string;
  broadcast?: string;
  serverid?: string;
  swapsrv?: string;
  router?: string[];
  dns?: string[];
  lprsrv?: string[];
  routes?: string[];
  nissrv?: string[];
  ntpsrv?: string[];
  ipttl?: number;
  mtu?: number;
  /** Lease time in seconds. */
  lease?: number;
  vlanpriority?: number;
  /** From option 58, in seconds. */
  renewal_time?: number;
  /** From option 59, in seconds. */
  rebind_time?: number;
  /** From option 77. */
  userclass?: string;
  timezone?: string;
  hostname?: string;
  bootsize?: string;
  domain?: string;
  search?: string;
  rootpath?: string;
  nisdomain?: string;
  wins?: string;
  message?: string;
  vendor?: string;
  tftp?: string;
  bootfile?: string;
  tzstr?: string;
  tzdbstr?: string;
  sipsrv?: string;
  vlanid?: string;
  pxeconffile?: string;
  pxepathprefix?: string;
  reboottime?: string;
  ip6rd?: string;
  /** Option 121, kept as udhcpc prints it (`dest/bits gateway ...`). */
  staticroutes?: string;
  msstaticroutes?: string;
  wpad?: string;
}

const IP_KEYS = ["ip", "siaddr", "subnet", "broadcast", "serverid", "swapsrv"] as const;
const IP_LIST_KEYS = ["router", "dns", "lprsrv", "routes", "nissrv", "ntpsrv"] as const;
const INT_KEYS = ["mask", "ipttl", "mtu", "lease", "vlanpriority"] as const;
const STRING_KEYS = [
  "timezone",
  "hostname",
  "bootsize",
  "domain",
  "search",
  "rootpath",
  "nisdomain",
  "wins",
  "message",
  "vendor",
  "tftp",
  "bootfile",
  "tzstr",
  "tzdbstr",
  "sipsrv",
  "vlanid",
  "pxeconffile",
  "pxepathprefix",
  "reboottime",
  "ip6rd",
  "staticroutes",
  "msstaticroutes",
  "wpad",
] as const;

function parseInteger(text: string, radix: 10 | 16): number | undefined {
  const pattern = radix === 10 ? /^[0-9]{1,10}$/ : /^[0-9a-fA-F]{1,8}$/;
  const trimmed = text.trim();
  return pattern.test(trimmed) ? Number.parseInt(trimmed, radix) : undefined;
}

/** Parses udhcpc's script environment into `dhcp_options`. */
export function parseDhcpOptions(env: Readonly<Record<string, string>>): DhcpOptions {
  const options: Record<string, unknown> = {};
  for (const key of IP_KEYS) {
    const value = env[key] === undefined ? undefined : canonicalIPv4(env[key].trim());
    if (value) options[key] = value;
  }
  for (const key of IP_LIST_KEYS) {
    if (env[key] === undefined) continue;
    const items = env[key].trim().split(/\s+/).filter(Boolean);
    const parsed = items.map((item) => canonicalIPv4(item));
    if (parsed.length > 0 && parsed.every((item) => item !== undefined)) options[key] = parsed;
  }
  for (const key of INT_KEYS) {
    const value = env[key] === undefined ? undefined : parseInteger(env[key], 10);
    if (value !== undefined) options[key] = value;
  }
  for (const key of STRING_KEYS) {
    if (env[key] !== undefined && env[key] !== "") options[key] = env[key];
  }
  const renewal = env.opt58 === undefined ? undefined : parseInteger(env.opt58, 16);
  if (renewal !== undefined) options.renewal_time = renewal;
  const rebind = env.opt59 === undefined ? undefined : parseInteger(env.opt59, 16);
  if (rebind !== undefined) options.rebind_time = rebind;
  if (env.opt77 !== undefined && env.opt77 !== "") options.userclass = env.opt77;
  if (options.mask !== undefined && (options.mask as number) > 32) delete options.mask;
  return options as DhcpOptions;
}
