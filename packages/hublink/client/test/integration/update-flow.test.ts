// End to end against @hublink/test-hub over real websockets on loopback: connect with a shared
// secret → update offered by a deployment → the application reschedules, then applies → the
// firmware download (@hublink/downloader, the default streaming updater) is cut mid-body by the
// hub's firmware server and resumed with Range → fwup (the STAND-IN from @runtime/kv's fixtures,
// which writes what it receives to the device file) reports progress → completed → reboot.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { describeIntegration } from "@testing/netlab";
import { expect, it } from "vitest";
import type { UpdateInfo } from "../../src/index.js";
import { until } from "../support/device.js";
import { useHubDevice } from "../support/hub-device.js";

const FIRMWARE_META = {
  uuid: "22222222-2222-2222-2222-222222222222",
  product: "acme",
  version: "2.0.0",
  platform: "rpi4",
  architecture: "aarch64",
};

describeIntegration("hublink client: the update flow end to end", { tools: [] }, () => {
  const device = useHubDevice({ orchestratorIntervalMs: 100 });

  /** Product "acme" with a shared secret, and `size` bytes of firmware cut after `cutAfter`. */
  function firmwareWithACut(size: number, cutAfter: number) {
    const { hub } = device;
    const credentials = hub.addProduct({ name: "acme", sharedSecrets: true }).sharedSecrets[0]!;
    const data = randomBytes(size);
    const firmware = hub.addFirmware({ data, meta: FIRMWARE_META });
    const firmwarePath = new URL(firmware.file.url).pathname;
    hub.firmware.inject(firmwarePath, { type: "disconnect", afterBytes: cutAfter });
    return { hub, credentials, data, firmware, firmwarePath };
  }

  it("reschedules, applies, resumes a cut download, streams into fwup and reboots", async () => {
    const { hub, credentials, data, firmware, firmwarePath } = firmwareWithACut(600_000, 250_000);
    const offers: UpdateInfo[] = [];
    const fwupProgress: number[] = [];
    let rebooted = 0;
    const client = await device.start({
      ...(await device.fwupDevice(credentials, "dev-e2e", data.length)),
      // No updater given: the default, streaming through @hublink/downloader. Its retry pause is
      // shortened through the client's configuration.
      downloader: { retry: { timeBetweenRetries: 50 } },
      client: {
        updateAvailable: (info) => {
          offers.push(info);
          return offers.length === 1 ? { reschedule: 300 } : "apply";
        },
        fwupMessage: (message) => {
          if (message.type === "progress") fwupProgress.push(message.percent);
        },
        reboot: () => {
          rebooted++;
        },
      },
    });

    const joined = await hub.waitForDevice("dev-e2e");
    expect(joined.channels.device?.payload).toMatchObject({
      nerves_fw_uuid: "11111111-1111-1111-1111-111111111111",
      fwup_version: "1.13.2",
      device_api_version: "2.3.0",
      currently_downloading_uuid: null,
    });
    await until(() => client.connected(), "the client to see its join");
    expect(client.status().updater).toBe("streaming");

    hub.deploy({ product: "acme", firmware });
    await hub.waitForUpdateStatus("dev-e2e", "completed", { timeoutMs: 30_000 });
    await until(() => rebooted === 1, "the reboot callback");

    // What fwup received is exactly the firmware, across the cut connection.
    expect(Buffer.compare(await readFile(device.devpath), data)).toBe(0);
    // The hub cut the first response after 250 000 bytes (a FIN: all of them arrived); the
    // downloader asked for exactly the rest, proving with If-Range that it is the same file.
    const requests = hub.firmware.requests(firmwarePath);
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      range: undefined,
      retryNumber: "0",
      status: 200,
      bytesSent: 250_000,
      outcome: "disconnected",
    });
    expect(requests[1]).toMatchObject({
      range: "bytes=250000-",
      ifRange: firmware.file.etag,
      retryNumber: "1",
      status: 206,
      bytesSent: data.length - 250_000,
      outcome: "complete",
    });

    const statuses = hub
      .device("dev-e2e")!
      .updateStatuses.map((record) =>
        record.event === "status_update"
          ? (record.payload as { status: string }).status
          : `progress:${(record.payload as { value: number }).value}`,
      );
    // received → rescheduled, offered again → received → started (twice: the cut) → progress → completed.
    expect(statuses.slice(0, 3)).toEqual(["received", "rescheduled", "received"]);
    // Each response reports the interface that carried it (loopback: the kernel's list names it).
    const started = hub
      .device("dev-e2e")!
      .updateStatuses.filter(
        (record) => (record.payload as { status?: string }).status === "started",
      )
      .map((record) => record.payload);
    expect(started).toEqual([
      { status: "started", downloader_network_interface: "lo" },
      { status: "started", downloader_network_interface: "lo" },
    ]);
    expect(statuses.slice(-2)).toEqual(["progress:100", "completed"]);
    const rescheduled = hub.device("dev-e2e")!.updateStatuses[1]!.payload;
    expect(rescheduled).toEqual({ status: "rescheduled", delay_for: 300 });
    expect(offers).toHaveLength(2);
    expect(fwupProgress.at(-1)).toBe(100);
    expect(fwupProgress.length).toBeGreaterThan(2);
    // The alarm came and went; the status view shows the result.
    expect(client.status().update.phase).toBe("idle");
  });

  it("gives up as the configured retry budget says (downloader.retry.maxDisconnects 0)", async () => {
    const { hub, credentials, data, firmware, firmwarePath } = firmwareWithACut(300_000, 100_000);
    await device.start({
      ...(await device.fwupDevice(credentials, "dev-budget", data.length)),
      downloader: { retry: { maxDisconnects: 0 } },
      client: { reboot: () => {} },
    });
    await hub.waitForDevice("dev-budget");
    hub.pushUpdate("dev-budget", firmware);
    const failed = await hub.waitForUpdateStatus("dev-budget", "failed");
    expect((failed.payload as { reason: string }).reason).toMatch(
      /^Download failed : CONTENT_LENGTH_MISMATCH: /,
    );
    // With NervesHubLink's default (10) the cut would have been resumed; here nothing followed it.
    expect(hub.firmware.ranges(firmwarePath)).toEqual(["-"]);
  });
});
