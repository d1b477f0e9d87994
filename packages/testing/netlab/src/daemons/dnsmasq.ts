import { readFile, writeFile } from "node:fs/promises";
import type { ProcessExit, RunningProcess } from "@runtime/command";
import type { Namespace } from "../namespace.js";
import { assertInterfaceName } from "../naming.js";
import { OutputLog, waitFor } from "../wait.js";

export interface DnsmasqOptions {
  interface: string;
  /** DHCPv4 pool; the interface needs an address in its subnet. */
  dhcp?: {
    start: string;
    end: string;
    netmask?: string;
    /** dnsmasq syntax: "1h", "10m", "infinite". Default "1h". */
    leaseTime?: string;
    /**
     * ICMP-ping an address before offering it (dnsmasq's default). Default false: the check
     * delays every first lease by about 3 s and a lab has no stray hosts to detect.
     */
    pingCheck?: boolean;
    /** Default: dnsmasq offers the interface's own address as router and DNS. */
    router?: string;
    dns?: readonly string[];
  };
  /**
   * IPv6 router advertisements for a /64 (`--enable-ra --dhcp-range=PREFIX,ra-only,64`), e.g.
   * `{ prefix: "fd00:5::" }`. The interface needs an address in that prefix.
   */
  routerAdvertisements?: { prefix: string };
  /** DNS: names answered locally (`{ "lab.test": "192.168.5.1" }`); `false` turns DNS off. */
  dns?: { port?: number; records?: Readonly<Record<string, string>> } | false;
  extraArgs?: readonly string[];
  timeoutMs?: number;
}

export interface DnsmasqLease {
  expires: number;
  mac: string;
  ip: string;
  hostname: string;
  clientId: string;
}

/** A running dnsmasq (dnsmasq-base) in a namespace. */
export interface Dnsmasq {
  readonly process: RunningProcess;
  readonly log: OutputLog;
  readonly leaseFile: string;
  readonly pidFile: string;
  /** DNS port, or undefined when DNS is off. */
  readonly dnsPort: number | undefined;
  leases(): Promise<DnsmasqLease[]>;
  stop(): Promise<ProcessExit>;
}

/** Pure: the argv for these options (files are the lab's). */
export function dnsmasqArgv(
  options: DnsmasqOptions,
  files: { pidFile: string; leaseFile: string },
): string[] {
  const argv = [
    "dnsmasq",
    "--keep-in-foreground",
    "--no-resolv",
    "--no-hosts",
    "--conf-file=/dev/null",
    `--pid-file=${files.pidFile}`,
    `--dhcp-leasefile=${files.leaseFile}`,
    `--interface=${options.interface}`,
    "--bind-interfaces",
    "--log-facility=-",
    "--log-dhcp",
  ];
  const dns = options.dns === false ? undefined : (options.dns ?? {});
  argv.push(`--port=${dns ? (dns.port ?? 53) : 0}`);
  // With no upstream, dnsmasq REFUSES any query it cannot answer (an AAAA for an A-only name
  // too); --local makes it authoritative for the name, so the AAAA gets an empty answer.
  for (const [name, address] of Object.entries(dns?.records ?? {})) {
    argv.push(`--host-record=${name},${address}`, `--local=/${name}/`);
  }
  if (options.dhcp) {
    const { start, end, netmask, leaseTime, router, dns: servers, pingCheck } = options.dhcp;
    argv.push(
      `--dhcp-range=${[start, end, ...(netmask ? [netmask] : []), leaseTime ?? "1h"].join(",")}`,
      "--dhcp-authoritative",
    );
    if (!pingCheck) argv.push("--no-ping");
    if (router) argv.push(`--dhcp-option=option:router,${router}`);
    if (servers) argv.push(`--dhcp-option=option:dns-server,${servers.join(",")}`);
  }
  if (options.routerAdvertisements) {
    argv.push("--enable-ra", `--dhcp-range=${options.routerAdvertisements.prefix},ra-only,64`);
  }
  argv.push(...(options.extraArgs ?? []));
  return argv;
}

/** Parses dnsmasq's lease file: `expiry mac ip hostname client-id` per line. */
export function parseDnsmasqLeases(text: string): DnsmasqLease[] {
  return text
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 4 && /^\d+$/.test(fields[0] ?? ""))
    .map(([expires, mac, ip, hostname, clientId]) => ({
      expires: Number(expires),
      mac: mac ?? "",
      ip: ip ?? "",
      hostname: hostname ?? "*",
      clientId: clientId ?? "*",
    }));
}

/**
 * Starts dnsmasq in the foreground. Ready when its pid file exists, it has logged "started" and
 * every socket it should have (udp/67 for DHCP, tcp on the DNS port) is there.
 */
export async function startDnsmasq(
  namespace: Namespace,
  options: DnsmasqOptions,
): Promise<Dnsmasq> {
  assertInterfaceName(options.interface);
  const pidFile = namespace.owner.file("dnsmasq", ".pid");
  const leaseFile = namespace.owner.file("dnsmasq", ".leases");
  await writeFile(leaseFile, "");
  const daemon = namespace.start(dnsmasqArgv(options, { pidFile, leaseFile }));
  const log = new OutputLog(daemon);
  const dnsPort = options.dns === false ? undefined : (options.dns?.port ?? 53);
  await waitFor(
    async () => {
      const pid = await readFile(pidFile, "utf8").catch(() => "");
      if (!/^\d+/.test(pid)) return false;
      if (!log.lines.some((line) => /started, version/.test(line))) return false;
      if (options.dhcp && !(await namespace.isListening("udp", 67))) return false;
      if (dnsPort !== undefined && !(await namespace.isListening("tcp", dnsPort))) return false;
      return true;
    },
    {
      timeoutMs: options.timeoutMs ?? 10_000,
      description: `dnsmasq on ${namespace.name}:${options.interface} to be ready`,
      process: daemon,
    },
  );
  return {
    process: daemon,
    log,
    leaseFile,
    pidFile,
    dnsPort,
    async leases() {
      return parseDnsmasqLeases(await readFile(leaseFile, "utf8"));
    },
    stop: () => daemon.stop(),
  };
}
