// The README's example, run as written, with the `phoenix` client playing a device that takes
// the update (a stand-in for @hublink/client: it downloads the file and reports statuses).

import { describeIntegration } from "@testing/netlab";
import { Socket } from "phoenix";
import { expect, it } from "vitest";
import WebSocket from "ws";
import { TestHub } from "../../src/index.js";
import { joinPayload } from "../support/driver.js";
import { signHeaders } from "../support/nh1-sign.js";

describeIntegration("test-hub: README example", { tools: [] }, () => {
  it("offers the update to a device that downloads it and reports completion", async () => {
    const hub = await TestHub.start();
    let socket: Socket | undefined;
    try {
      // --- README ---
      const { key, secret } = hub.addProduct({ name: "acme", sharedSecrets: true })
        .sharedSecrets[0]!;
      const firmware = hub.addFirmware({
        data: new Uint8Array(3 * 1024 * 1024),
        meta: {
          uuid: "5e1e8d6a-1c2f-5d7e-9a0b-4c3d2e1f0a9b",
          product: "acme",
          version: "1.4.0",
          platform: "rpi4",
          architecture: "aarch64",
        },
      });

      // --- the device (stand-in) ---
      socket = new Socket(`${hub.url}/device-socket`, {
        transport: class extends WebSocket {
          constructor(url: string, protocols?: string | string[]) {
            const signedAt = Math.floor(Date.now() / 1000);
            const headers = signHeaders({ key, secret, identifier: "my-device-serial", signedAt });
            super(url, protocols, { headers });
          }
        },
      });
      socket.connect();
      const channel = socket.channel("device", () => joinPayload());
      channel.on("update", async (payload) => {
        const update = payload as { firmware_url: string; size: number };
        channel.push("status_update", { status: "received" });
        channel.push("status_update", { status: "started", downloader_network_interface: "lo" });
        const response = await fetch(update.firmware_url, { headers: { "x-retry-number": "0" } });
        const bytes = new Uint8Array(await response.arrayBuffer());
        channel.push("fwup_progress", {
          stage: "updating",
          value: bytes.length === update.size ? 100 : 0,
        });
        channel.push("status_update", { status: "completed" });
      });
      channel.join();

      // --- README ---
      const connection = await hub.waitForDevice("my-device-serial", { timeoutMs: 120_000 });
      expect(connection.channels["device"]?.payload).toMatchObject({ device_api_version: "2.3.0" });
      const payload = hub.pushUpdate("my-device-serial", firmware);
      expect(payload.partials_checksums).toHaveLength(3);
      await hub.waitForUpdateStatus("my-device-serial", "completed", { timeoutMs: 600_000 });
      expect(
        hub.firmware.requests().map((r) => `${r.status} ${r.range ?? "(whole file)"}`),
      ).toEqual(["200 (whole file)"]);
      expect(hub.device("my-device-serial")?.updateStatuses.map((s) => s.status)).toEqual([
        "received",
        "started",
        "updating",
        "completed",
      ]);
    } finally {
      socket?.disconnect();
      await hub.stop();
    }
  });
});
