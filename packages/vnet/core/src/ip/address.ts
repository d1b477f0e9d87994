/**
 * IP address utilities (pure). Addresses travel through configs and properties as canonical text:
 * dotted decimal for IPv4, RFC 5952 for IPv6 (lower case, longest zero run compressed).
 */

export type AddressFamily = "inet" | "inet6";

/** The four octets of a dotted-decimal IPv4 address, or undefined when `text` is not one. */
export function parseIPv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    // Leading zeros are refused: "010" means 8 to some parsers and 10 to others.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    octets.push(value);
  }
  return octets;
}

/** The eight 16-bit words of an IPv6 address, or undefined when `text` is not one. */
export function parseIPv6(text: string): number[] | undefined {
  if (text.length === 0 || text.length > 45 || text.includes("%")) return undefined;
  let source = text;
  // An embedded IPv4 address may end the text (::ffff:192.0.2.1): rewrite it as two hex groups.
  const lastColon = source.lastIndexOf(":");
  if (lastColon !== -1 && source.slice(lastColon + 1).includes(".")) {
    const octets = parseIPv4(source.slice(lastColon + 1));
    if (!octets) return undefined;
    const high = ((octets[0]! << 8) | octets[1]!).toString(16);
    const low = ((octets[2]! << 8) | octets[3]!).toString(16);
    source = `${source.slice(0, lastColon + 1)}${high}:${low}`;
  }
  const halves = source.split("::");
  if (halves.length > 2) return undefined;
  const parseGroups = (half: string): number[] | undefined => {
    if (half === "") return [];
    const groups: number[] = [];
    for (const group of half.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
      groups.push(Number.parseInt(group, 16));
    }
    return groups;
  };
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - rest.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...rest];
}

export function formatIPv4(octets: readonly number[]): string {
  return octets.join(".");
}

/** RFC 5952 text: lower case hex, no leading zeros, the longest run (>= 2) of zero words as "::". */
export function formatIPv6(words: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let start = 0; start < 8; ) {
    if (words[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && words[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = words.map((word) => word.toString(16));
  if (bestLength < 2) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}

/** The family and canonical text of an address, or undefined when `text` is not an IP address. */
export function parseAddress(text: string): { family: AddressFamily; address: string } | undefined {
  if (typeof text !== "string") return undefined;
  const v4 = parseIPv4(text);
  if (v4) return { family: "inet", address: formatIPv4(v4) };
  const v6 = parseIPv6(text);
  if (v6) return { family: "inet6", address: formatIPv6(v6) };
  return undefined;
}

/** Canonical text of an IPv4 address, or undefined. */
export function canonicalIPv4(text: string): string | undefined {
  const octets = typeof text === "string" ? parseIPv4(text) : undefined;
  return octets ? formatIPv4(octets) : undefined;
}

function addressBits(family: AddressFamily): number {
  return family === "inet" ? 32 : 128;
}

function toBytes(family: AddressFamily, address: string): number[] | undefined {
  if (family === "inet") return parseIPv4(address);
  const words = parseIPv6(address);
  return words?.flatMap((word) => [word >> 8, word & 0xff]);
}

function fromBytes(family: AddressFamily, bytes: readonly number[]): string {
  if (family === "inet") return formatIPv4(bytes);
  const words: number[] = [];
  for (let index = 0; index < 16; index += 2) words.push((bytes[index]! << 8) | bytes[index + 1]!);
  return formatIPv6(words);
}

function maskBytes(family: AddressFamily, prefixLength: number): number[] {
  const count = addressBits(family) / 8;
  const bytes: number[] = [];
  for (let index = 0; index < count; index++) {
    const bits = Math.max(0, Math.min(8, prefixLength - index * 8));
    bytes.push(bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff);
  }
  return bytes;
}

/** Whether `prefixLength` is a valid prefix length for the family. */
export function isPrefixLength(
  family: AddressFamily,
  prefixLength: unknown,
): prefixLength is number {
  return (
    typeof prefixLength === "number" &&
    Number.isInteger(prefixLength) &&
    prefixLength >= 0 &&
    prefixLength <= addressBits(family)
  );
}

/** The netmask for a prefix length: `24` → `255.255.255.0`; IPv6 in RFC 5952 text. */
export function prefixToNetmask(family: AddressFamily, prefixLength: number): string {
  if (!isPrefixLength(family, prefixLength)) {
    throw new RangeError(`prefix length ${prefixLength} is out of range for ${family}`);
  }
  return fromBytes(family, maskBytes(family, prefixLength));
}

/** The prefix length of a contiguous IPv4 netmask (`255.255.255.0` → 24), or undefined. */
export function netmaskToPrefix(netmask: string): number | undefined {
  const octets = typeof netmask === "string" ? parseIPv4(netmask) : undefined;
  if (!octets) return undefined;
  const value = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  // Contiguous: the inverted mask plus one is a power of two.
  const inverted = ~value >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  let prefix = 0;
  for (let bit = 31; bit >= 0 && (value >>> bit) & 1; bit--) prefix++;
  return prefix;
}

function combine(
  family: AddressFamily,
  address: string,
  prefixLength: number,
  hostBits: "zero" | "one",
): string {
  const bytes = toBytes(family, address);
  if (!bytes) throw new TypeError(`not an ${family} address: ${address}`);
  const mask = maskBytes(family, prefixLength);
  return fromBytes(
    family,
    bytes.map((byte, index) =>
      hostBits === "zero" ? byte & mask[index]! : (byte | ~mask[index]!) & 0xff,
    ),
  );
}

/** The network address: `192.168.1.50/24` → `192.168.1.0`. */
export function subnetAddress(
  family: AddressFamily,
  address: string,
  prefixLength: number,
): string {
  return combine(family, address, prefixLength, "zero");
}

/** The IPv4 broadcast address (host bits all ones): `192.168.1.50/24` → `192.168.1.255`. */
export function broadcastAddress(address: string, prefixLength: number): string {
  return combine("inet", address, prefixLength, "one");
}

/** Whether `address` lies in `subnet/prefixLength` (same family only). */
export function inSubnet(address: string, subnet: string, prefixLength: number): boolean {
  const candidate = parseAddress(address);
  const network = parseAddress(subnet);
  if (!candidate || !network || candidate.family !== network.family) return false;
  if (!isPrefixLength(candidate.family, prefixLength)) return false;
  return (
    subnetAddress(candidate.family, candidate.address, prefixLength) ===
    subnetAddress(network.family, network.address, prefixLength)
  );
}
