// The app-slot A/B lifecycle on real files in temp directories: install into the inactive slot
// and switch atomically; restart on trial; validate, or restart without validating and get the
// previous slot back; a tampered bundle changes nothing. Also through HubLink against the test
// hub: a tampered bundle offered as an update is refused with nothing written.
import { generateKeyPairSync } from "node:crypto";
import { readdir, readFile, readlink, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Firmware, KV } from "@runtime/kv";
import { describeIntegration } from "@testing/netlab";
import { afterEach, beforeEach, expect, it } from "vitest";
import {
  AppSlots,
  appSlotUpdater,
  createBundle,
  fileKvBackend,
  rawPublicKey,
  silentLogger,
} from "../../src/index.js";
import { tempDirectory, until } from "../support/device.js";
import { useHubDevice } from "../support/hub-device.js";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const attacker = generateKeyPairSync("ed25519");

function bundleOf(version: string, key = privateKey) {
  return createBundle({
    firmware: {
      uuid: `app-${version}`,
      version,
      product: "acme",
      platform: "x86_64-linux",
      architecture: "x64",
    },
    files: [
      { path: "index.js", data: Buffer.from(`console.log("${version}")\n`) },
      { path: "bin/start", data: Buffer.from("#!/bin/sh\n"), mode: 0o755 },
    ],
    privateKey: key,
  });
}

async function snapshot(root: string): Promise<string[]> {
  const entries: string[] = [];
  const walk = async (directory: string, prefix: string) => {
    for (const entry of await readdir(directory, { withFileTypes: true }).catch(() => [])) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) await walk(path, `${prefix}${entry.name}/`);
      else if (entry.isSymbolicLink())
        entries.push(`${prefix}${entry.name} -> ${await readlink(path)}`);
      else entries.push(`${prefix}${entry.name} ${(await readFile(path)).toString("base64")}`);
    }
  };
  await walk(root, "");
  return entries.sort();
}

describeIntegration("app-slot A/B updates on real files", { tools: [] }, () => {
  let temp: Awaited<ReturnType<typeof tempDirectory>>;
  beforeEach(async () => {
    temp = await tempDirectory();
  });
  afterEach(async () => {
    await temp.remove();
  });

  async function device() {
    const kvPath = join(temp.path, "state", "kv");
    const open = () =>
      KV.open({
        backend: fileKvBackend({
          path: kvPath,
          initial: {
            nerves_fw_active: "a",
            "a.nerves_fw_uuid": "app-1",
            "a.nerves_fw_version": "1.0.0",
            "a.nerves_fw_platform": "x86_64-linux",
            "a.nerves_fw_architecture": "x64",
          },
        }),
      });
    await (await import("node:fs/promises")).mkdir(join(temp.path, "state"), { recursive: true });
    return { open, root: join(temp.path, "app") };
  }

  it("installs, restarts on trial, validates — and survives a process restart (reopened KV)", async () => {
    const { open, root } = await device();
    let kv = await open();
    const slots = () => new AppSlots({ root, kv, publicKeys: [rawPublicKey(publicKey)] });
    const bundle = join(temp.path, "v2.bundle");
    await writeFile(bundle, bundleOf("2.0.0"));
    const installed = await slots().install(bundle);
    expect(installed.slot).toBe("b");
    expect(await readlink(join(root, "current"))).toBe("slots/b");
    expect(await readFile(join(root, "current", "index.js"), "utf8")).toBe(
      'console.log("2.0.0")\n',
    );
    expect((await stat(join(root, "slots", "b", "bin", "start"))).mode & 0o777).toBe(0o755);
    expect(new Firmware({ kv }).validationStatus()).toBe("unvalidated");

    // "Restart": a new process opens the KV file again.
    kv = await open();
    expect(kv.getActive("nerves_fw_version")).toBe("2.0.0");
    const boot = await slots().checkBoot("b");
    expect(boot).toMatchObject({
      action: "trial",
      slot: "b",
      bootcount: 1,
      restartRequired: false,
    });
    await slots().validate();
    kv = await open();
    expect(new Firmware({ kv }).validationStatus()).toBe("validated");
    expect(await slots().checkBoot("b")).toMatchObject({ action: "none", slot: "b" });
  });

  it("restores the previous slot when the new one restarts without being validated", async () => {
    const { open, root } = await device();
    let kv = await open();
    const slots = () =>
      new AppSlots({ root, kv, publicKeys: [rawPublicKey(publicKey)], bootLimit: 1 });
    await (await import("node:fs/promises")).mkdir(join(root, "slots", "a"), { recursive: true });
    await writeFile(join(root, "slots", "a", "index.js"), "v1");
    await writeFile(join(temp.path, "v2.bundle"), bundleOf("2.0.0"));
    await slots().install(join(temp.path, "v2.bundle"));
    kv = await open();
    expect((await slots().checkBoot("b")).action).toBe("trial");
    // It crashed before validating; the next start gives up on it.
    kv = await open();
    const boot = await slots().checkBoot("b");
    expect(boot).toMatchObject({ action: "reverted", slot: "a", restartRequired: true });
    expect(await readlink(join(root, "current"))).toBe("slots/a");
    expect(await readFile(join(root, "current", "index.js"), "utf8")).toBe("v1");
    kv = await open();
    expect(kv.get("nerves_fw_active")).toBe("a");
    // NervesHubLink's auto-revert rule now holds, and the server hears it at the next join.
    const { autoRevertDetected } = await import("@runtime/kv");
    expect(autoRevertDetected(kv.getAll())).toBe(true);
  });

  it("re-points `current` when a power cut fell between the KV commit and the symlink", async () => {
    const { open, root } = await device();
    const kv = await open();
    const slots = new AppSlots({ root, kv, publicKeys: [publicKey] });
    await writeFile(join(temp.path, "v2.bundle"), bundleOf("2.0.0"));
    await slots.install(join(temp.path, "v2.bundle"));
    const { rm, symlink } = await import("node:fs/promises");
    await rm(join(root, "current"));
    await symlink("slots/a", join(root, "current"));
    const boot = await slots.checkBoot("a");
    expect(boot).toMatchObject({ slot: "b", restartRequired: true });
    expect(await readlink(join(root, "current"))).toBe("slots/b");
  });

  it("refuses a tampered or foreign bundle with nothing written", async () => {
    const { open, root } = await device();
    const kv = await open();
    const slots = new AppSlots({ root, kv, publicKeys: [publicKey] });
    await writeFile(join(temp.path, "v1.bundle"), bundleOf("1.5.0"));
    await slots.install(join(temp.path, "v1.bundle"));
    const before = await snapshot(root);
    const kvBefore = kv.getAll();
    const tampered = bundleOf("2.0.0");
    tampered[tampered.length - 3] = tampered[tampered.length - 3]! ^ 0x01;
    await writeFile(join(temp.path, "bad.bundle"), tampered);
    await expect(slots.install(join(temp.path, "bad.bundle"))).rejects.toMatchObject({
      code: "BUNDLE_CONTENT",
    });
    await writeFile(join(temp.path, "foreign.bundle"), bundleOf("2.0.0", attacker.privateKey));
    await expect(slots.install(join(temp.path, "foreign.bundle"))).rejects.toMatchObject({
      code: "BUNDLE_SIGNATURE",
    });
    expect(await snapshot(root)).toEqual(before);
    expect(kv.getAll()).toEqual(kvBefore);
  });
});

describeIntegration("app-slot updates through HubLink and the test hub", { tools: [] }, () => {
  const device = useHubDevice({ orchestratorIntervalMs: 100 });

  async function startClient(onReboot: () => void) {
    const { hub, temp } = device;
    const { key, secret } = hub.addProduct({ name: "acme", sharedSecrets: true }).sharedSecrets[0]!;
    const kv = await KV.inMemory({
      nerves_fw_active: "a",
      "a.nerves_fw_uuid": "app-1",
      "a.nerves_fw_platform": "x86_64-linux",
      "a.nerves_fw_architecture": "x64",
    });
    const updater = appSlotUpdater({
      root: join(temp.path, "app"),
      kv,
      publicKeys: [rawPublicKey(publicKey)],
    });
    const client = await device.start({
      host: hub.url,
      sharedSecret: { productKey: key, productSecret: secret },
      identifier: "app-device",
      kv,
      updater,
      logger: silentLogger,
      connectWaitForNetwork: false,
      dataPath: join(temp.path, "data"),
      client: { reboot: onReboot },
    });
    await until(() => client.connected(), "join");
    return { kv, updater };
  }

  /** Serves `data` as firmware app-2.0.0 and pushes it to the device. */
  function pushBundle(data: Buffer) {
    const firmware = device.hub.addFirmware({
      data,
      meta: {
        uuid: "app-2.0.0",
        product: "acme",
        version: "2.0.0",
        platform: "x86_64-linux",
        architecture: "x64",
      },
    });
    device.hub.pushUpdate("app-device", firmware);
  }

  it("installs a signed bundle offered as an update and restarts", async () => {
    const { hub, temp } = device;
    let restarted = 0;
    const { kv, updater } = await startClient(() => {
      restarted++;
    });
    pushBundle(bundleOf("2.0.0"));
    await hub.waitForUpdateStatus("app-device", "completed");
    await until(() => restarted === 1, "restart");
    expect(updater.slots.activeSlot()).toBe("b");
    expect(kv.get("upgrade_available")).toBe("1");
    expect(await readFile(join(temp.path, "app", "current", "index.js"), "utf8")).toBe(
      'console.log("2.0.0")\n',
    );
  });

  it("refuses a tampered bundle: failed status, nothing written, no restart", async () => {
    const { hub, temp } = device;
    let restarted = 0;
    const { kv } = await startClient(() => {
      restarted++;
    });
    const kvBefore = kv.getAll();
    const data = bundleOf("2.0.0");
    data[data.length - 1] = data[data.length - 1]! ^ 0xff;
    pushBundle(data);
    const failed = await hub.waitForUpdateStatus("app-device", "failed");
    expect((failed.payload as { reason: string }).reason).toMatch(
      /^Update failed : BUNDLE_CONTENT|^Update failed : BUNDLE_SIGNATURE/,
    );
    expect(await snapshot(join(temp.path, "app"))).toEqual([]);
    expect(kv.getAll()).toEqual(kvBefore);
    // The refused download is not kept for another try.
    expect(await readdir(join(temp.path, "data", "app-bundles"))).toEqual([]);
    expect(restarted).toBe(0);
  });
});
