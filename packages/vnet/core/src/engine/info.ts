import type { AddressInfo, ConnectionStatus, NameServerInfo, NetworkConfig } from "../config.js";

/** VintageNet's duration format: ns, µs, ms, "x.y s", then `[N days, ]H:MM:SS`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  if (ms < 0.001) return `${Math.round(ms * 1_000_000)} ns`;
  if (ms < 1) return `${Math.round(ms * 1_000)} µs`;
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)} s`;
  const totalSeconds = Math.floor(ms / 1_000);
  const days = Math.floor(totalSeconds / 86_400);
  const hours = Math.floor((totalSeconds % 86_400) / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = totalSeconds % 60;
  const clock = `${hours}:${String(minutes).padStart(2, "0")}:${String(seconds).padStart(2, "0")}`;
  return days > 0 ? `${days} day${days === 1 ? "" : "s"}, ${clock}` : clock;
}

/** One interface in `infoData()`. */
export interface InterfaceInfo {
  ifname: string;
  type: string;
  present: boolean;
  state: string | undefined;
  /** Milliseconds since `state` last changed. */
  stateForMs: number | undefined;
  connection: ConnectionStatus | undefined;
  connectionForMs: number | undefined;
  addresses: AddressInfo[];
  macAddress: string | undefined;
  /** The normalized configuration (secrets redacted unless asked otherwise). */
  configuration: NetworkConfig | undefined;
  daemons: Array<{ id: string; pid: number | undefined; restarts: number }>;
  services: string[];
}

/** What `info()` prints, as data. */
export interface InfoData {
  allInterfaces: string[];
  availableInterfaces: string[];
  connection: ConnectionStatus;
  nameServers: NameServerInfo[];
  interfaces: InterfaceInfo[];
  /** Saved configurations that could not be used at start-up, and why. */
  persistenceProblems: Array<{ ifname: string; code: string; message: string }>;
}

function list(names: readonly string[]): string {
  return `[${names.map((name) => JSON.stringify(name)).join(", ")}]`;
}

function indent(text: string, spaces: number): string {
  const pad = " ".repeat(spaces);
  return text
    .split("\n")
    .map((line) => pad + line)
    .join("\n");
}

/** The `info()` text, in VintageNet's layout. */
export function formatInfo(data: InfoData): string {
  const lines = [
    "@vnet/core",
    "",
    `All interfaces:       ${list(data.allInterfaces)}`,
    `Available interfaces: ${list(data.availableInterfaces)}`,
    `Connection:           ${data.connection}`,
    `Name servers:         ${data.nameServers.map((server) => `${server.address} (${server.from.join(",")})`).join(", ") || "none"}`,
  ];
  for (const problem of data.persistenceProblems) {
    lines.push(
      `Saved configuration of ${problem.ifname} ignored: ${problem.code}: ${problem.message}`,
    );
  }
  for (const info of data.interfaces) {
    lines.push(
      "",
      `Interface ${info.ifname}`,
      `  Type: ${info.type}`,
      `  Present: ${info.present}`,
    );
    if (info.present) {
      const since = (ms: number | undefined) =>
        ms === undefined ? "" : ` (${formatDuration(ms)})`;
      lines.push(`  State: ${info.state ?? "-"}${since(info.stateForMs)}`);
      lines.push(`  Connection: ${info.connection ?? "-"}${since(info.connectionForMs)}`);
      lines.push(
        `  Addresses: ${info.addresses.map((address) => `${address.address}/${address.prefix_length}`).join(", ") || "none"}`,
      );
      if (info.macAddress) lines.push(`  MAC Address: ${JSON.stringify(info.macAddress)}`);
      for (const daemon of info.daemons) {
        lines.push(`  Daemon ${daemon.id}: pid ${daemon.pid ?? "-"}, restarts ${daemon.restarts}`);
      }
      if (info.services.length > 0) lines.push(`  Services: ${info.services.join(", ")}`);
    }
    lines.push("  Configuration:", indent(JSON.stringify(info.configuration ?? null, null, 2), 4));
  }
  return `${lines.join("\n")}\n`;
}
