import { chmod, readFile, writeFile } from "node:fs/promises";
import type { Namespace } from "../namespace.js";
import { assertInterfaceName } from "../naming.js";

export interface UdhcpcOptions {
  /** DHCPDISCOVER attempts before giving up (one per second). Default 10. */
  attempts?: number;
  /** Hostname option (12) to send. */
  hostname?: string;
  /** Assign the leased address and default route to the interface. Default true. */
  apply?: boolean;
}

/** What the DHCP server handed out, as busybox udhcpc passed it to its script. */
export interface UdhcpcLease {
  ip: string;
  /** Prefix length of the subnet (udhcpc's `mask`). */
  prefixLength: number;
  subnet: string | undefined;
  routers: string[];
  dns: string[];
  leaseSeconds: number | undefined;
  serverId: string | undefined;
  /** Every variable udhcpc gave its script (ip, subnet, router, dns, domain, opt53, …). */
  options: Record<string, string>;
  /** From the start of udhcpc to the lease. */
  durationMs: number;
}

/**
 * The script busybox udhcpc runs on each event. It records the environment of `bound`/`renew`
 * (that is where the server's options are) and applies the lease with `ip`, because Debian ships
 * no default script.
 */
const SCRIPT = `#!/bin/sh
case "$1" in
  deconfig)
    [ "$NETLAB_APPLY" = 1 ] && ip -4 addr flush dev "$interface"
    ;;
  bound|renew)
    env > "$NETLAB_RESULT.tmp" && mv "$NETLAB_RESULT.tmp" "$NETLAB_RESULT"
    if [ "$NETLAB_APPLY" = 1 ]; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/$mask" dev "$interface"
      for gateway in $router; do
        ip route replace default via "$gateway" dev "$interface"
        break
      done
    fi
    ;;
esac
exit 0
`;

/** Keys of the recorded environment that come from udhcpc itself, not from our runner. */
const RUNNER_KEYS = new Set([
  "PATH",
  "LC_ALL",
  "PWD",
  "SHLVL",
  "_",
  "NETLAB_RESULT",
  "NETLAB_APPLY",
]);

export function parseUdhcpcEnvironment(text: string, durationMs: number): UdhcpcLease {
  const options: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const equals = line.indexOf("=");
    if (equals <= 0) continue;
    const key = line.slice(0, equals);
    if (!RUNNER_KEYS.has(key)) options[key] = line.slice(equals + 1);
  }
  const words = (value: string | undefined) => (value ?? "").split(/\s+/).filter(Boolean);
  const ip = options["ip"];
  if (!ip) throw new Error("udhcpc reported a lease without an address");
  return {
    ip,
    prefixLength: Number(options["mask"] ?? 32),
    subnet: options["subnet"],
    routers: words(options["router"]),
    dns: words(options["dns"]),
    leaseSeconds: options["lease"] === undefined ? undefined : Number(options["lease"]),
    serverId: options["serverid"],
    options,
    durationMs,
  };
}

/**
 * Runs `busybox udhcpc` once in the foreground (`-f -q -n`): it obtains a lease, applies it to
 * the interface and exits; it fails (rejects with udhcpc's output) when no lease comes.
 */
export async function runUdhcpc(
  namespace: Namespace,
  ifname: string,
  options: UdhcpcOptions = {},
): Promise<UdhcpcLease> {
  assertInterfaceName(ifname);
  const script = namespace.owner.file("udhcpc", ".sh");
  const result = namespace.owner.file("udhcpc", ".env");
  await writeFile(script, SCRIPT);
  await chmod(script, 0o700);
  const attempts = options.attempts ?? 10;
  const started = performance.now();
  await namespace.exec(
    [
      "busybox",
      "udhcpc",
      "-f",
      "-q",
      "-n",
      "-i",
      ifname,
      "-t",
      String(attempts),
      "-T",
      "1",
      "-s",
      script,
      ...(options.hostname ? ["-x", `hostname:${options.hostname}`] : []),
    ],
    {
      env: { NETLAB_RESULT: result, NETLAB_APPLY: options.apply === false ? "0" : "1" },
      timeoutMs: (attempts + 5) * 1_000,
    },
  );
  const durationMs = performance.now() - started;
  return parseUdhcpcEnvironment(await readFile(result, "utf8"), durationMs);
}
