// Nothing a lab creates may outlive it: not on destroy, not when its owner is signalled or
// exits, and a crashed owner's leftovers are removed by the next lab, never a live run's.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCommandRunner, type RunningProcess } from "@runtime/command";
import { afterEach, expect, it } from "vitest";
import {
  describeIntegration,
  Lab,
  listNamespaces,
  processRunning,
  startUdhcpd,
  sweepLeakedLabs,
  tempDirsOwnedBy,
  waitFor,
} from "../../src/index.js";
import { nodeArgv } from "../../src/node-child.js";
import { OutputLog } from "../../src/wait.js";

const runner = createCommandRunner();

interface Footprint {
  namespaces: string[];
  dir: string;
  pids: number[];
}

async function expectGone(footprint: Footprint): Promise<void> {
  const namespaces = await listNamespaces(runner);
  for (const name of footprint.namespaces) expect(namespaces).not.toContain(name);
  await waitFor(() => footprint.pids.every((pid) => !processRunning(pid)), {
    timeoutMs: 5_000,
    description: `processes ${footprint.pids.join(", ")} to be gone`,
  });
  expect(existsSync(footprint.dir)).toBe(false);
}

describeIntegration("lab cleanup", { tools: ["udhcpd", "sleep", "setsid"] }, () => {
  // Things a test makes by hand (outside any lab) are removed here even when it fails.
  const handMade: { namespaces: string[]; processes: RunningProcess[]; dirs: string[] } = {
    namespaces: [],
    processes: [],
    dirs: [],
  };
  afterEach(async () => {
    await Promise.all(handMade.processes.map((process) => process.stop({ graceMs: 500 })));
    for (const name of handMade.namespaces) {
      await runner.run(["ip", "netns", "del", name], { allowFailure: true });
    }
    for (const dir of handMade.dirs) await rm(dir, { recursive: true, force: true });
    handMade.namespaces = [];
    handMade.processes = [];
    handMade.dirs = [];
  });

  it("destroy() removes every namespace, process and file, and is idempotent", async () => {
    const lab = await Lab.create("destroy");
    try {
      const server = await lab.namespace("server");
      const client = await lab.namespace("client");
      await lab.veth(server, "eth0", client, "eth0");
      await server.addAddress("eth0", "192.168.9.1/24");
      const udhcpd = await startUdhcpd(server, {
        interface: "eth0",
        start: "192.168.9.10",
        end: "192.168.9.20",
      });
      const child = client.spawnNode(new URL("./fixtures/echo-child.ts", import.meta.url), {
        ipc: true,
      });
      await child.nextMessage();
      await client.exec(["sh", "-c", "setsid sleep 600 </dev/null >/dev/null 2>&1 &"]);
      const footprint: Footprint = {
        namespaces: [server.name, client.name],
        dir: lab.dir,
        pids: [...(await server.pids()), ...(await client.pids())],
      };
      expect(footprint.pids).toContain(udhcpd.process.pid);
      expect(footprint.pids).toContain(child.pid);
      expect(footprint.pids.length).toBeGreaterThanOrEqual(3);
      expect(tempDirsOwnedBy(process.pid)).toContain(lab.dir.split("/").at(-1));

      await lab.destroy();

      await expectGone(footprint);
      expect(tempDirsOwnedBy(process.pid)).not.toContain(lab.dir.split("/").at(-1));
      await lab.destroy(); // idempotent
      await expect(lab.namespace("late")).rejects.toThrow(/destroyed/);
    } finally {
      await lab.destroy();
    }
  });

  it("removes a crashed run's namespace at the next Lab.create, never a live run's", async () => {
    // The "crashed" owner is alive while its namespace is set up and dies afterwards, so a
    // concurrent run's sweep cannot take the namespace away halfway through the setup.
    const crashedOwner = runner.start(["sleep", "600"]);
    handMade.processes.push(crashedOwner);
    const leaked = `nl${crashedOwner.pid}x1-leak`;
    handMade.namespaces.push(leaked);
    await runner.run(["ip", "netns", "add", leaked]);
    const leakedSleeper = runner.start(["ip", "netns", "exec", leaked, "sleep", "600"]);
    handMade.processes.push(leakedSleeper);
    await waitFor(async () => (await runner.run(["ip", "netns", "pids", leaked])).stdout.trim(), {
      description: "sleep inside the leaked namespace",
    });
    const leakedDir = await mkdtemp(join(tmpdir(), `netlab-${crashedOwner.pid}-crashed-`));
    handMade.dirs.push(leakedDir);
    await crashedOwner.stop({ signal: "SIGKILL" });
    expect(processRunning(crashedOwner.pid!)).toBe(false);

    // A concurrent run's namespace: its owner (here a sleep in the root namespace) is alive.
    const liveOwner = runner.start(["sleep", "600"]);
    handMade.processes.push(liveOwner);
    const live = `nl${liveOwner.pid}x1-alive`;
    handMade.namespaces.push(live);
    await runner.run(["ip", "netns", "add", live]);
    const liveDir = await mkdtemp(join(tmpdir(), `netlab-${liveOwner.pid}-running-`));
    handMade.dirs.push(liveDir);

    const lab = await Lab.create("sweeper");
    await lab.destroy();

    const namespaces = await listNamespaces(runner);
    expect(namespaces).not.toContain(leaked);
    const exit = await leakedSleeper.exited;
    expect(exit.signal).toBe("SIGKILL");
    expect(existsSync(leakedDir)).toBe(false);

    expect(namespaces).toContain(live);
    expect(existsSync(liveDir)).toBe(true);
    expect(processRunning(liveOwner.pid!)).toBe(true);
  });

  async function startOwner(mode: "wait" | "exit") {
    const owner = runner.start(
      nodeArgv(new URL("./fixtures/lab-owner.ts", import.meta.url), { args: [mode] }),
      { env: { NETLAB_IPC: "0" }, stdin: mode === "exit" },
    );
    handMade.processes.push(owner);
    const log = new OutputLog(owner);
    const ready = await log.waitForLine(/^READY /, { timeoutMs: 20_000 });
    const footprint = JSON.parse(ready.slice("READY ".length)) as Footprint;
    expect(footprint.pids.length).toBe(2);
    expect(await listNamespaces(runner)).toEqual(expect.arrayContaining(footprint.namespaces));
    return { owner, footprint };
  }

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`cleans up when the owner gets ${signal}, then dies of it`, async () => {
      const { owner, footprint } = await startOwner("wait");
      process.kill(owner.pid!, signal);
      const exit = await owner.exited;
      expect(exit.signal).toBe(signal);
      await expectGone(footprint);
    });
  }

  it("cleans up when the owner calls process.exit() without destroying", async () => {
    const { owner, footprint } = await startOwner("exit");
    owner.stdin?.end();
    expect((await owner.exited).exitCode).toBe(0);
    await expectGone(footprint);
  });

  it("leaves a SIGKILLed owner's namespaces to the next sweep, which removes them", async () => {
    const { owner, footprint } = await startOwner("wait");
    process.kill(owner.pid!, "SIGKILL");
    await owner.exited;
    // Nobody could clean up: the namespaces are still there (unless a concurrent run's
    // Lab.create swept them already, which is the same mechanism doing its job).
    const leftovers = (await listNamespaces(runner)).filter((name) =>
      footprint.namespaces.includes(name),
    );
    const swept = await sweepLeakedLabs(runner);
    console.log(
      `SIGKILLed owner left ${leftovers.length} namespaces; this sweep removed ${swept.namespaces.length}`,
    );
    await expectGone(footprint);
  });
});
