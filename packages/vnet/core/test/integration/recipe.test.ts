import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PropertyTable } from "@runtime/property-table";
import { describeIntegration, waitFor } from "@testing/netlab";
import { afterEach, beforeEach, expect, it } from "vitest";
import { rawConfig, silentLogger, type Technology, VintageNet } from "../../src/index.js";

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A recipe with a real daemon, a real file and real commands; needs no network. */
const shellTechnology: Technology = {
  type: "shell",
  normalize: (config) => ({ type: "shell", marker: String(config.marker ?? "m") }),
  toRawConfig: (ifname, config, context) =>
    rawConfig(ifname, config, {
      requiredIfnames: [],
      files: [
        {
          path: join(context.tmpDir, `${ifname}.conf`),
          content: `${(config as unknown as { marker: string }).marker}\n`,
        },
      ],
      upCommands: [{ run: ["sh", "-c", `test -f ${join(context.tmpDir, `${ifname}.conf`)}`] }],
      downCommands: [{ run: ["touch", join(context.tmpDir, `${ifname}.down`)] }],
      daemons: [{ id: "sleeper", argv: ["sh", "-c", "sleep 1000 & sleep 1000"] }],
    }),
};

describeIntegration("recipes with real processes", { tools: ["sh", "sleep"] }, () => {
  let dir: string;
  let vnet: VintageNet | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "vnet-recipe-"));
  });
  afterEach(async () => {
    await vnet?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes files before up commands, runs the daemon, and kills its whole tree on reconfigure", async () => {
    vnet = await VintageNet.start({
      table: new PropertyTable(),
      technologies: [shellTechnology],
      persistence: null,
      tmpDir: dir,
      resolvConfPath: null,
      monitorInterfaces: false,
      logger: silentLogger,
    });
    await vnet.configure("demo0", { type: "shell", marker: "one" });
    await vnet.waitUntilConfigured("demo0");
    expect(await readFile(join(dir, "demo0.conf"), "utf8")).toBe("one\n");
    const daemon = () => vnet!.infoData().interfaces[0]?.daemons[0];
    await waitFor(() => alive(daemon()?.pid) || undefined, {
      timeoutMs: 5_000,
      description: "the daemon",
    });
    const pid = daemon()!.pid!;
    // The daemon's own child (the backgrounded sleep) is in its process group.
    const group = (await readFile(`/proc/${pid}/stat`, "utf8")).split(" ")[4];
    await vnet.configure("demo0", { type: "shell", marker: "two" });
    await vnet.waitUntilConfigured("demo0");
    expect(alive(pid)).toBe(false);
    await waitFor(
      async () => {
        try {
          process.kill(-Number(group), 0);
          return undefined;
        } catch {
          return true;
        }
      },
      { timeoutMs: 5_000, description: "the old daemon's process group to be gone" },
    );
    expect(existsSync(join(dir, "demo0.down"))).toBe(true);
    expect(await readFile(join(dir, "demo0.conf"), "utf8")).toBe("two\n");
    const second = daemon()!.pid!;
    expect(second).not.toBe(pid);
    await vnet.stop();
    expect(alive(second)).toBe(false);
    expect(existsSync(join(dir, "demo0.conf"))).toBe(false);
  });
});
