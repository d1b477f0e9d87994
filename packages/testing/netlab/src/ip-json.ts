// Typed views of `ip -json` output. Only the fields tests look at; the raw object stays available.

export interface LinkInfo {
  ifname: string;
  ifindex: number;
  flags: string[];
  /** Administratively up (the UP flag). */
  up: boolean;
  /** Carrier present (LOWER_UP): false when the veth peer is down or gone. */
  lowerUp: boolean;
  operstate: string;
  mtu: number;
  address: string | undefined;
  /** The bridge this link is attached to, if any. */
  master: string | undefined;
  raw: Record<string, unknown>;
}

export interface AddressInfo {
  family: "inet" | "inet6";
  address: string;
  prefixLength: number;
  /** `address/prefixLength`. */
  cidr: string;
  scope: string;
  /** Learned from DHCP or SLAAC rather than set statically. */
  dynamic: boolean;
  /** IPv6 duplicate address detection still running. */
  tentative: boolean;
  raw: Record<string, unknown>;
}

export interface RouteInfo {
  /** `default` or a prefix such as `10.0.0.0/24`. */
  destination: string;
  gateway: string | undefined;
  dev: string | undefined;
  protocol: string | undefined;
  metric: number | undefined;
  raw: Record<string, unknown>;
}

type JsonObject = Record<string, unknown>;

function parseArray(json: string, what: string): JsonObject[] {
  const trimmed = json.trim();
  if (trimmed === "") return [];
  const value: unknown = JSON.parse(trimmed);
  if (!Array.isArray(value)) throw new Error(`ip -json ${what}: expected an array`);
  return value.filter((item): item is JsonObject => typeof item === "object" && item !== null);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Parses `ip -json link show`. */
export function parseLinks(json: string): LinkInfo[] {
  return parseArray(json, "link").map((raw) => {
    const flags = Array.isArray(raw["flags"]) ? raw["flags"].map(String) : [];
    return {
      ifname: String(raw["ifname"]),
      ifindex: Number(raw["ifindex"]),
      flags,
      up: flags.includes("UP"),
      lowerUp: flags.includes("LOWER_UP"),
      operstate: String(raw["operstate"] ?? "UNKNOWN"),
      mtu: Number(raw["mtu"]),
      address: optionalString(raw["address"]),
      master: optionalString(raw["master"]),
      raw,
    };
  });
}

/** Parses `ip -json addr show`: the addresses of every link, flattened. */
export function parseAddresses(json: string): AddressInfo[] {
  return parseArray(json, "addr").flatMap((link) => {
    const infos = Array.isArray(link["addr_info"]) ? (link["addr_info"] as JsonObject[]) : [];
    return infos
      .filter((info) => info["family"] === "inet" || info["family"] === "inet6")
      .map((raw) => {
        const address = String(raw["local"]);
        const prefixLength = Number(raw["prefixlen"]);
        return {
          family: raw["family"] as "inet" | "inet6",
          address,
          prefixLength,
          cidr: `${address}/${prefixLength}`,
          scope: String(raw["scope"] ?? ""),
          dynamic: raw["dynamic"] === true,
          tentative: raw["tentative"] === true,
          raw,
        };
      });
  });
}

/** Parses `ip -json route show`. */
export function parseRoutes(json: string): RouteInfo[] {
  return parseArray(json, "route").map((raw) => ({
    destination: String(raw["dst"]),
    gateway: optionalString(raw["gateway"]),
    dev: optionalString(raw["dev"]),
    protocol: optionalString(raw["protocol"]),
    metric: typeof raw["metric"] === "number" ? raw["metric"] : undefined,
    raw,
  }));
}

/** Parses `key=value` lines (wpa_cli/hostapd_cli `status`); other lines are ignored. */
export function parseKeyValueLines(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const equals = line.indexOf("=");
    if (equals <= 0) continue;
    result[line.slice(0, equals)] = line.slice(equals + 1).replace(/\r$/, "");
  }
  return result;
}
