import { readFile, stat, writeFile } from "node:fs/promises";
import type { ProcessExit, RunningProcess } from "@runtime/command";
import type { Namespace } from "../namespace.js";
import { assertInterfaceName } from "../naming.js";
import { OutputLog, waitFor } from "../wait.js";

export interface UdhcpdOptions {
  /** The interface to serve; it needs an IPv4 address in the pool's subnet already. */
  interface: string;
  /** First and last address of the pool. */
  start: string;
  end: string;
  /** Dotted netmask handed out. Default 255.255.255.0. */
  subnet?: string;
  router?: string;
  dns?: readonly string[];
  /** Lease time in seconds. Default 600. */
  leaseSeconds?: number;
  /**
   * How long udhcpd ARP-pings an address before offering it (`-a`). Default 250 ms instead of
   * busybox's 2 000 ms: on a veth an answer is immediate, and every lease would wait 2 s.
   */
  arpPingMs?: number;
  /** Extra config lines, e.g. `["opt domain lab.test", "static_lease 02:…:01 10.0.0.9"]`. */
  extraConfig?: readonly string[];
  timeoutMs?: number;
}

export interface DhcpLease {
  mac: string;
  ip: string;
  hostname: string;
  /** Seconds left when udhcpd wrote the file. */
  expiresInSeconds: number;
}

/** A running busybox `udhcpd` (from the udhcpd package) in a namespace. */
export interface Udhcpd {
  readonly process: RunningProcess;
  readonly log: OutputLog;
  readonly configPath: string;
  readonly leaseFile: string;
  /** Makes udhcpd write its lease file now (SIGUSR1) and returns the leases in it. */
  leases(): Promise<DhcpLease[]>;
  stop(): Promise<ProcessExit>;
}

export function udhcpdConfig(
  options: UdhcpdOptions,
  files: { leaseFile: string; pidFile: string },
): string {
  const lines = [
    `interface ${options.interface}`,
    `start ${options.start}`,
    `end ${options.end}`,
    `max_leases ${poolSize(options.start, options.end)}`,
    `lease_file ${files.leaseFile}`,
    `pidfile ${files.pidFile}`,
    `opt subnet ${options.subnet ?? "255.255.255.0"}`,
    ...(options.router ? [`opt router ${options.router}`] : []),
    ...(options.dns && options.dns.length > 0 ? [`opt dns ${options.dns.join(" ")}`] : []),
    `opt lease ${options.leaseSeconds ?? 600}`,
    ...(options.extraConfig ?? []),
  ];
  return `${lines.join("\n")}\n`;
}

function ipv4ToNumber(address: string): number {
  const parts = address.split(".").map(Number);
  if (
    parts.length !== 4 ||
    parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)
  ) {
    throw new TypeError(`not an IPv4 address: ${address}`);
  }
  return parts.reduce((sum, part) => sum * 256 + part, 0);
}

/** udhcpd warns (and clamps) when max_leases exceeds the pool, so set it to the pool size. */
function poolSize(start: string, end: string): number {
  const size = ipv4ToNumber(end) - ipv4ToNumber(start) + 1;
  if (size < 1) throw new RangeError(`udhcpd pool ${start}-${end} is empty`);
  return size;
}

const LEASE_HEADER_BYTES = 8;
const LEASE_RECORD_BYTES = 36;

/**
 * Parses busybox udhcpd's binary lease file: an 8-byte big-endian write time, then records of
 * { u32 seconds left, u32 IPv4, u8[6] MAC, char[20] hostname, u8[2] padding }.
 */
export function parseUdhcpdLeases(data: Uint8Array): DhcpLease[] {
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const leases: DhcpLease[] = [];
  for (
    let offset = LEASE_HEADER_BYTES;
    offset + LEASE_RECORD_BYTES <= buffer.length;
    offset += LEASE_RECORD_BYTES
  ) {
    const ip = [...buffer.subarray(offset + 4, offset + 8)].join(".");
    const mac = [...buffer.subarray(offset + 8, offset + 14)]
      .map((byte) => byte.toString(16).padStart(2, "0"))
      .join(":");
    const hostnameBytes = buffer.subarray(offset + 14, offset + 34);
    const end = hostnameBytes.indexOf(0);
    leases.push({
      mac,
      ip,
      hostname: hostnameBytes.subarray(0, end === -1 ? undefined : end).toString("utf8"),
      expiresInSeconds: buffer.readUInt32BE(offset),
    });
  }
  return leases;
}

/** Starts udhcpd in the foreground and resolves once it has bound udp/67. */
export async function startUdhcpd(namespace: Namespace, options: UdhcpdOptions): Promise<Udhcpd> {
  assertInterfaceName(options.interface);
  const lab = namespace.owner;
  const configPath = lab.file("udhcpd", ".conf");
  const leaseFile = lab.file("udhcpd", ".leases");
  const pidFile = lab.file("udhcpd", ".pid");
  await writeFile(configPath, udhcpdConfig(options, { leaseFile, pidFile }));
  // udhcpd refuses to start when the lease file does not exist.
  await writeFile(leaseFile, "");
  const daemon = namespace.start([
    "udhcpd",
    "-f",
    "-a",
    String(options.arpPingMs ?? 250),
    configPath,
  ]);
  const log = new OutputLog(daemon);
  await waitFor(() => namespace.isListening("udp", 67), {
    timeoutMs: options.timeoutMs ?? 10_000,
    description: `udhcpd on ${namespace.name}:${options.interface} to bind udp/67`,
    process: daemon,
  });

  return {
    process: daemon,
    log,
    configPath,
    leaseFile,
    async leases() {
      const before = await stat(leaseFile, { bigint: true });
      if (daemon.pid !== undefined) process.kill(daemon.pid, "SIGUSR1");
      // udhcpd truncates and then writes record by record: wait for a new, settled file.
      let previous = before;
      await waitFor(
        async () => {
          const now = await stat(leaseFile, { bigint: true });
          const settled = now.mtimeNs === previous.mtimeNs && now.size === previous.size;
          previous = now;
          return now.mtimeNs !== before.mtimeNs && settled;
        },
        { timeoutMs: 3_000, description: "udhcpd to write its lease file", process: daemon },
      );
      return parseUdhcpdLeases(await readFile(leaseFile));
    },
    stop: () => daemon.stop(),
  };
}
