// A PropertyTable fed live from the kernel: every network interface in /sys/class/net becomes
// properties under ["interface", <ifname>, ...]. `ip monitor link` wakes us on every kernel link
// event (no polling); each event re-reads that interface from sysfs and puts the values, so the
// table emits events only for what really changed.
//
// Options (environment): SYS_CLASS_NET (default /sys/class/net), DEMO_SECONDS (stop after N s),
// DEMO_EXERCISE=0 to skip creating the demo veth pair (done only when root).
import { createCommandRunner } from "@runtime/command";
import { ANY, type PropertyEvent, PropertyTable } from "@runtime/property-table";
import { listInterfaces, readLink } from "./sysfs.js";

const sysClassNet = process.env.SYS_CLASS_NET ?? "/sys/class/net";
const runner = createCommandRunner();
const table = new PropertyTable();

function show(event: PropertyEvent): void {
  const [, ifname, key] = event.property;
  const format = (value: unknown) => (value === undefined ? "—" : JSON.stringify(value));
  const change = event.deleted
    ? "removed"
    : `${format(event.previousValue)} → ${format(event.value)}`;
  console.log(`${new Date().toISOString().slice(11, 23)}  ${ifname}.${key}: ${change}`);
}

async function refresh(ifname: string): Promise<void> {
  const state = await readLink(sysClassNet, ifname);
  if (!state) {
    table.deleteMatches(["interface", ifname]);
    return;
  }
  table.putMany(
    Object.entries({ present: true, ...state }).map(([key, value]) => [
      ["interface", ifname, key],
      value,
    ]),
  );
}

async function refreshAll(): Promise<void> {
  const present = new Set(await listInterfaces(sysClassNet));
  for (const [property] of table.match(["interface", ANY, "present"])) {
    if (!present.has(property[1]!)) table.deleteMatches(["interface", property[1]!]);
  }
  for (const ifname of present) await refresh(ifname);
}

// Subscribe first, then read: no change can slip in between.
table.subscribe(["interface"], show);
await refreshAll();
console.log(
  `watching ${table.match(["interface", ANY, "present"]).length} interfaces; Ctrl-C to stop`,
);

// `ip monitor link` prints one block per kernel link event; any line is our cue to look again.
const monitor = runner.start(["ip", "monitor", "link"]);
let pending: Promise<void> = Promise.resolve();
monitor.on("line", () => {
  pending = pending.then(refreshAll).catch((error) => console.error(error));
});

const cleanups: Array<() => Promise<unknown>> = [() => monitor.stop()];
async function shutdown(code: number): Promise<never> {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  process.exit(code);
}
process.once("SIGINT", () => void shutdown(0));
process.once("SIGTERM", () => void shutdown(0));

// When root, show some live changes right away: a veth pair appears, comes up, loses its
// carrier, and is deleted again. It carries no addresses, so it cannot disturb the machine.
if (process.getuid?.() === 0 && process.env.DEMO_EXERCISE !== "0") {
  const [a, b] = [`vdemo${process.pid % 10_000}a`, `vdemo${process.pid % 10_000}b`];
  cleanups.push(() => runner.run(["ip", "link", "del", a], { allowFailure: true }));
  const steps: Array<[string, string[]]> = [
    ["create a veth pair", ["ip", "link", "add", a, "type", "veth", "peer", "name", b]],
    ["bring both ends up", ["sh", "-c", `ip link set ${a} up && ip link set ${b} up`]],
    ["pull the peer's cable (carrier loss)", ["ip", "link", "set", b, "down"]],
    ["delete the pair", ["ip", "link", "del", a]],
  ];
  for (const [what, argv] of steps) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    console.log(`\n# demo: ${what}`);
    await runner.run(argv);
  }
}

if (process.env.DEMO_SECONDS) {
  setTimeout(() => void shutdown(0), Number(process.env.DEMO_SECONDS) * 1_000);
}
