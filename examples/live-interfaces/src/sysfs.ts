import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

/** What the demo publishes per interface, read from /sys/class/net/<ifname>/. */
export interface LinkState {
  operstate: string;
  carrier: boolean | null;
  mac_address: string;
  mtu: number;
}

async function attribute(root: string, ifname: string, name: string): Promise<string | null> {
  try {
    return (await readFile(join(root, ifname, name), "utf8")).trim();
  } catch {
    // carrier cannot be read while the link is administratively down (EINVAL).
    return null;
  }
}

export async function listInterfaces(root: string): Promise<string[]> {
  return (await readdir(root)).sort();
}

export async function readLink(root: string, ifname: string): Promise<LinkState | null> {
  const operstate = await attribute(root, ifname, "operstate");
  if (operstate === null) return null;
  const carrier = await attribute(root, ifname, "carrier");
  return {
    operstate,
    carrier: carrier === null ? null : carrier === "1",
    mac_address: (await attribute(root, ifname, "address")) ?? "",
    mtu: Number(await attribute(root, ifname, "mtu")),
  };
}
