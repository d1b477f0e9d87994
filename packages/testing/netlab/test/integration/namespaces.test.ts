// Namespaces, veth pairs and bridges against the real kernel.
import { writeFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { describeIntegration, listNamespaces, useLab, waitFor } from "../../src/index.js";

describeIntegration("namespaces and links", { tools: ["busybox", "sysctl"] }, () => {
  const lab = useLab("namespaces");

  it("creates a namespace with lo up and nothing else", async () => {
    const ns = await lab().namespace("solo");
    expect(await listNamespaces(lab().runner)).toContain(ns.name);
    expect(ns.name).toMatch(new RegExp(`^nl${process.pid}x\\d+-solo$`));
    const links = await ns.links();
    expect(links.map((link) => link.ifname)).toEqual(["lo"]);
    expect(links[0]?.up).toBe(true);
    const { stdout } = await ns.exec(["busybox", "ping", "-c", "1", "-W", "2", "127.0.0.1"]);
    expect(stdout).toContain("1 packets received");
  });

  it("joins two namespaces with a veth pair; carrier follows the peer; delete and re-create", async () => {
    const server = await lab().namespace("vserver");
    const client = await lab().namespace("vclient");
    let pair = await lab().veth(server, "eth0", client, "eth0");

    expect(await client.linkInfo("eth0")).toMatchObject({ up: true, lowerUp: true });
    await server.addAddress("eth0", "10.77.0.1/24");
    await client.addAddress("eth0", "10.77.0.2/24");
    expect((await client.addresses("eth0")).map((a) => a.cidr)).toContain("10.77.0.2/24");
    await client.exec(["busybox", "ping", "-c", "1", "-W", "2", "10.77.0.1"]);

    // Cable pulled on the server side: the client's end keeps UP but loses LOWER_UP.
    await pair.a.down();
    await waitFor(async () => !(await pair.b.info()).lowerUp, { description: "carrier loss" });
    expect(await pair.b.info()).toMatchObject({ up: true, lowerUp: false });
    await pair.a.up();
    await waitFor(async () => (await pair.b.info()).lowerUp, { description: "carrier back" });

    // Hot-unplug: both ends vanish; the same pair can be created again.
    await pair.delete();
    expect(await server.hasLink("eth0")).toBe(false);
    expect(await client.hasLink("eth0")).toBe(false);
    await pair.delete(); // already gone: not an error
    pair = await lab().veth(server, "eth0", client, "eth0");
    expect(await pair.b.info()).toMatchObject({ up: true, lowerUp: true });
  });

  it("never puts a veth end into the root namespace", async () => {
    const a = await lab().namespace("roota");
    const b = await lab().namespace("rootb");
    await lab().veth(a, "uniq0", b, "uniq1");
    expect(await a.hasLink("uniq0")).toBe(true);
    expect(await b.hasLink("uniq1")).toBe(true);
    // Only these names: other runs on the machine may add and remove root links meanwhile.
    const { stdout } = await lab().runner.run(["ip", "-json", "link", "show"]);
    const rootLinks = (JSON.parse(stdout) as { ifname: string }[]).map((link) => link.ifname);
    expect(rootLinks).not.toContain("uniq0");
    expect(rootLinks).not.toContain("uniq1");
  });

  it("bridges two veth ends and routes, sysctls and bridge membership are visible", async () => {
    const hub = await lab().namespace("hub");
    const left = await lab().namespace("left");
    const right = await lab().namespace("right");
    await lab().veth(left, "eth0", hub, "port1");
    await lab().veth(right, "eth0", hub, "port2");
    const bridge = await hub.createBridge("br0");
    await bridge.attach("port1");
    await bridge.attach("port2");
    expect((await bridge.members()).sort()).toEqual(["port1", "port2"]);
    expect((await hub.linkInfo("port1")).master).toBe("br0");

    await left.addAddress("eth0", "10.88.0.1/24");
    await right.addAddress("eth0", "10.88.0.2/24");
    await left.exec(["busybox", "ping", "-c", "1", "-W", "2", "10.88.0.2"]);

    await right.addRoute("10.99.0.0/16", { via: "10.88.0.1", metric: 7 });
    const routes = await right.routes({ family: 4 });
    expect(routes).toContainEqual(
      expect.objectContaining({ destination: "10.99.0.0/16", gateway: "10.88.0.1", metric: 7 }),
    );

    await hub.sysctl("net.ipv4.ip_forward", 1);
    expect(await hub.readSysctl("net.ipv4.ip_forward")).toBe("1");
    // Per namespace: the neighbour did not change.
    expect(await left.readSysctl("net.ipv4.ip_forward")).toBe("0");

    await bridge.detach("port2");
    expect(await bridge.members()).toEqual(["port1"]);
  });

  it("runs a Node child inside the namespace and talks to it over IPC", async () => {
    const ns = await lab().namespace("node");
    const child = ns.spawnNode(new URL("./fixtures/echo-child.ts", import.meta.url), {
      args: ["hello"],
      env: { GREETING: "hi" },
      ipc: true,
    });
    const ready = await child.nextMessage<{
      type: string;
      argv: string[];
      env: string;
      links: string[];
      workspacePackage: boolean;
    }>();
    expect(ready).toEqual({
      type: "ready",
      argv: ["hello"],
      env: "hi",
      links: ["lo"],
      workspacePackage: true,
    });
    child.send({ type: "echo", value: 42 });
    expect(await child.nextMessage()).toEqual({ type: "echo", value: 42 });
    expect(child.output).toContain("ordinary output is not a message");
    await child.stop();
  });

  it("runs a TypeScript child that lives far from any node_modules (tsx resolved by the lab)", async () => {
    const ns = await lab().namespace("anywhere");
    // As a test in another package would: the module is not under this package at all.
    const module = lab().file("far-away", ".ts");
    await writeFile(
      module,
      'const greeting: string = "typed"; process.send?.({ greeting, cwd: process.cwd() });\n',
    );
    const child = ns.spawnNode(module, { ipc: true });
    expect(await child.nextMessage()).toEqual({ greeting: "typed", cwd: lab().dir });
    // Like a forked child without "message" listeners, it ends when its work is done.
    expect((await child.exited).exitCode).toBe(0);
  });
});
