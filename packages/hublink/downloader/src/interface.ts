// Which network interface carried a download: the local address of its socket, looked up in the
// PropertyTable's ["interface", ifname, "addresses"] entries (published by @vnet/core).
import { isIPv4, isIPv6 } from "node:net";
import { ANY, type Pattern, type PropertyPath } from "@runtime/property-table";

/** The part of a PropertyTable the downloader reads. */
export interface InterfaceAddressSource {
  match(pattern: Pattern): Array<[PropertyPath, unknown]>;
}

/**
 * Canonical text of an IP address: IPv4-mapped IPv6 (`::ffff:10.0.0.2`) becomes IPv4, IPv6 loses
 * its zone (`%eth0`) and is written in RFC 5952 form; anything else is undefined.
 */
export function canonicalAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const withoutZone = address.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(withoutZone);
  if (mapped?.[1] && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(withoutZone)) return withoutZone;
  if (!isIPv6(withoutZone)) return undefined;
  // The WHATWG URL parser serializes IPv6 hosts in the RFC 5952 canonical form.
  return new URL(`http://[${withoutZone}]/`).hostname.slice(1, -1);
}

/**
 * The interface whose published addresses include `localAddress`, or undefined. Entries that do
 * not have the documented shape are ignored, so a bad publisher cannot break a download.
 */
export function interfaceForAddress(
  source: InterfaceAddressSource,
  localAddress: string | undefined,
): string | undefined {
  const wanted = canonicalAddress(localAddress);
  if (wanted === undefined) return undefined;
  const found: string[] = [];
  for (const [path, value] of source.match(["interface", ANY, "addresses"])) {
    const ifname = path[1];
    if (path.length !== 3 || ifname === undefined || !Array.isArray(value)) continue;
    for (const entry of value as unknown[]) {
      if (entry === null || typeof entry !== "object") continue;
      const address = (entry as { address?: unknown }).address;
      if (typeof address === "string" && canonicalAddress(address) === wanted) {
        found.push(ifname);
        break;
      }
    }
  }
  // The same address on two interfaces is a misconfiguration; pick deterministically.
  return found.sort()[0];
}
