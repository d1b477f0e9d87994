// What the ethernet integration tests share: the engine with the ethernet technology running
// inside the device namespace (core's harness from @vnet/core/testing), and process checks.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Lab, Namespace } from "@testing/netlab";
import type { AddressInfo } from "@vnet/core";
import { type EngineChildOptions, EngineInNamespace } from "@vnet/core/testing";

export const ETHERNET = {
  module: new URL("../../src/index.ts", import.meta.url).href,
  export: "ethernetTechnology",
};

/** The engine in `device`, with the ethernet technology and every path in the lab's directory. */
export function startEthernetEngine(
  lab: Lab,
  device: Namespace,
  options: Partial<EngineChildOptions> = {},
): Promise<EngineInNamespace> {
  return EngineInNamespace.start(device, {
    technologies: [ETHERNET],
    tmpDir: join(lab.dir, "vnet"),
    resolvConfPath: join(lab.dir, "resolv.conf"),
    persistenceDir: null,
    // Nothing answers here unless a test starts a responder: `lan` is the most these reach.
    internetHosts: [{ host: "192.0.2.1", port: 9 }],
    hostname: "device",
    // VNET_TEST_DEBUG=1 puts the engine's and the runner's debug lines in the child's output.
    debug: process.env.VNET_TEST_DEBUG === "1",
    ...options,
  });
}

/** Every process in a namespace with its command line (read from /proc). */
export async function processesIn(
  namespace: Namespace,
): Promise<Array<{ pid: number; argv: string[] }>> {
  const processes: Array<{ pid: number; argv: string[] }> = [];
  for (const pid of await namespace.pids()) {
    try {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
      processes.push({ pid, argv: cmdline.split("\0").filter(Boolean) });
    } catch {
      // gone in between
    }
  }
  return processes;
}

/** The pids of processes in `namespace` whose command line contains `word` as an argument. */
export async function pidsRunning(namespace: Namespace, word: string): Promise<number[]> {
  return (await processesIn(namespace))
    .filter((entry) =>
      entry.argv.some((argument) => argument === word || argument.endsWith(`/${word}`)),
    )
    .map((entry) => entry.pid);
}

/** The engine's view of one family's addresses of an interface, by scope. */
export function addressesOf(
  engine: EngineInNamespace,
  ifname: string,
  family: "inet" | "inet6",
  scope: AddressInfo["scope"] = "universe",
): AddressInfo[] {
  return (engine.get<AddressInfo[]>(`interface/${ifname}/addresses`) ?? []).filter(
    (address) => address.family === family && address.scope === scope,
  );
}
