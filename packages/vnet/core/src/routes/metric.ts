import type { ConnectionStatus } from "../config.js";

export type InterfaceKind = "ethernet" | "wifi" | "mobile" | "local" | "unknown";

/** VintageNet's guess of an interface's kind from its name. */
export function interfaceKind(ifname: string): InterfaceKind {
  if (/^(eth|en)/.test(ifname)) return "ethernet";
  if (/^(wlan|wl|ra)/.test(ifname)) return "wifi";
  if (/^(ppp|wwan)/.test(ifname)) return "mobile";
  if (/^(lo|tap)/.test(ifname)) return "local";
  return "unknown";
}

/** All decimal digits of the name as one number, modulo 10: `eth1` → 1, `enp6s0` → 0. */
export function interfaceWeight(ifname: string): number {
  const digits = ifname.replace(/[^0-9]/g, "");
  if (digits === "") return 0;
  // Modulo on the digit string avoids precision loss for long names.
  return Number(digits.at(-1));
}

/**
 * VintageNet's default route metric: an Internet-connected interface always beats a LAN-only
 * one; within a status, wired beats WiFi beats cellular beats the rest; ties by interface number.
 * `undefined` when the interface must not carry routes (`disconnected`).
 */
export function defaultRouteMetric(
  ifname: string,
  connection: ConnectionStatus,
): number | undefined {
  if (connection === "disconnected") return undefined;
  const order: InterfaceKind[] = ["ethernet", "wifi", "mobile"];
  const kind = interfaceKind(ifname);
  const kindIndex = order.includes(kind) ? order.indexOf(kind) : 3;
  const index = (connection === "internet" ? 0 : 4) + kindIndex;
  return (index + 1) * 10 + interfaceWeight(ifname);
}
