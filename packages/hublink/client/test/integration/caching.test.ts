// The caching updater against @hublink/test-hub: the firmware goes to <dataPath>/firmware through
// @hublink/downloader's toFile. A client stopped mid-download (a reboot) leaves the partial file
// and its checkpointed state; the next client, offered the same firmware, asks the hub for exactly
// the rest with Range and If-Range, and fwup (the STAND-IN from @runtime/kv's fixtures, which
// writes what it receives to the device file) gets the exact image. A 404 for a partial download
// clears the cache.
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { HubFirmware } from "@hublink/test-hub";
import { describeIntegration } from "@testing/netlab";
import { beforeEach, expect, it } from "vitest";
import { cachingUpdater, type HubLink } from "../../src/index.js";
import { until } from "../support/device.js";
import { useHubDevice } from "../support/hub-device.js";

const UUID = "33333333-3333-3333-3333-333333333333";
const CUT = 200_000;

describeIntegration("hublink client: the caching updater", { tools: [] }, () => {
  const device = useHubDevice();
  let credentials: { key: string; secret: string };
  let data: Buffer;
  let firmware: HubFirmware;
  let firmwarePath: string;

  beforeEach(() => {
    credentials = device.hub.addProduct({ name: "acme", sharedSecrets: true }).sharedSecrets[0]!;
    data = randomBytes(700_000);
    firmware = device.hub.addFirmware({
      data,
      meta: { uuid: UUID, product: "acme", version: "3.0.0", platform: "rpi4", architecture: "x" },
    });
    firmwarePath = new URL(firmware.file.url).pathname;
  });

  const cacheDir = () => join(device.temp.path, "firmware");
  const partial = () => join(cacheDir(), `${UUID}.fw.partial`);

  async function startClient(): Promise<HubLink> {
    const client = await device.start({
      ...(await device.fwupDevice(credentials, "dev-cache", data.length)),
      updater: cachingUpdater(),
      client: { reboot: () => {} },
    });
    await device.hub.waitForDevice("dev-cache");
    return client;
  }

  /** The first client gets CUT bytes on disk, then stops ("the power goes"). */
  async function interruptedDownload(): Promise<void> {
    device.hub.firmware.inject(firmwarePath, { type: "stall", atOffset: CUT });
    const first = await startClient();
    device.hub.pushUpdate("dev-cache", firmware);
    await until(
      () => statSync(partial(), { throwIfNoEntry: false })?.size === CUT,
      "the partial file to hold the bytes sent before the stall",
    );
    await first.stop();
    expect((await readdir(cacheDir())).sort()).toEqual([
      `${UUID}.fw.partial`,
      `${UUID}.fw.partial.state`,
    ]);
  }

  it("resumes a download cut by a restart from the cached partial file", async () => {
    const { hub } = device;
    await interruptedDownload();
    await startClient();
    hub.pushUpdate("dev-cache", firmware);
    await hub.waitForUpdateStatus("dev-cache", "completed");

    expect(Buffer.compare(await readFile(device.devpath), data)).toBe(0);
    const requests = hub.firmware.requests(firmwarePath);
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ range: undefined, bytesSent: CUT, outcome: "aborted" });
    expect(requests[1]).toMatchObject({
      range: `bytes=${CUT}-`,
      ifRange: firmware.file.etag,
      status: 206,
      bytesSent: data.length - CUT,
    });
    // Installed: the cache is empty again.
    expect(await readdir(cacheDir())).toEqual([]);
    // The resumed download reported progress from the resume point on, ending at 100.
    const progress = hub
      .device("dev-cache")!
      .updateStatuses.filter((record) => record.event === "fwup_progress")
      .map((record) => record.payload as { value: number });
    expect(progress.at(-1)).toEqual({ stage: "updating", value: 100 });
    expect(progress).toContainEqual({ stage: "downloading", value: 100 });
  });

  it("clears the cache when the hub answers 404 for a partial download", async () => {
    const { hub } = device;
    await interruptedDownload();
    hub.firmware.inject(firmwarePath, { type: "status", status: 404 });
    await startClient();
    hub.pushUpdate("dev-cache", firmware);
    const failed = await hub.waitForUpdateStatus("dev-cache", "failed");
    expect((failed.payload as { reason: string }).reason).toMatch(
      /^Download failed : \{:http_error, 404\}/,
    );
    expect(hub.firmware.ranges(firmwarePath)).toEqual(["-", `bytes=${CUT}-`]);
    expect(existsSync(cacheDir())).toBe(false);
    expect(await readFile(device.devpath).catch(() => "no device file")).toBe("no device file");
  });
});
