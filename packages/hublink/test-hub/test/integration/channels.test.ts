// The Phoenix channel protocol and the device topic over real websockets on loopback, driven by
// a raw-frame stand-in for a device client.

import { describeIntegration } from "@testing/netlab";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TestHub } from "../../src/index.js";
import { Driver, type Frame, joinPayload } from "../support/driver.js";
import { signHeaders } from "../support/nh1-sign.js";

describeIntegration("test-hub: Phoenix channels and the device topic", { tools: [] }, () => {
  let hub: TestHub;
  let product: { key: string; secret: string };

  beforeEach(async () => {
    hub = await TestHub.start({ signingKeys: ["PUBKEY1=", "PUBKEY2="] });
    product = hub.addProduct({ name: "acme", sharedSecrets: true }).sharedSecrets[0]!;
  });
  afterEach(() => hub.stop());

  function connect(identifier: string, options: Parameters<typeof Driver.connect>[1] = {}) {
    const headers = signHeaders({
      ...product,
      identifier,
      signedAt: Math.floor(Date.now() / 1000),
    });
    return Driver.connect(hub.url, { headers, ...options });
  }

  async function joined(identifier: string, payload = joinPayload()) {
    const driver = await connect(identifier);
    const { joinRef, reply } = await driver.join("device", payload);
    return { driver, joinRef, reply };
  }

  describe("Phoenix socket protocol", () => {
    it("answers heartbeats with [null, ref, phoenix, phx_reply, ok {}] before and after joins", async () => {
      const driver = await connect("hb-1");
      expect(await driver.heartbeat()).toEqual([
        null,
        "1",
        "phoenix",
        "phx_reply",
        { status: "ok", response: {} },
      ]);
      await driver.join("device", joinPayload());
      expect((await driver.heartbeat())[4]).toEqual({ status: "ok", response: {} });
      await driver.close();
    });

    it("replies to the device join with ok {} carrying the join's refs", async () => {
      const { driver, reply } = await joined("join-1");
      expect(reply).toEqual(["1", "1", "device", "phx_reply", { status: "ok", response: {} }]);
      const device = await hub.waitForDevice("join-1");
      expect(device.channels["device"]).toMatchObject({ joinRef: "1" });
      expect(hub.device("join-1")).toMatchObject({
        joined: true,
        deviceApiVersion: "2.3.0",
        firmwareValidation: "validated",
        firmwareMetadata: { uuid: "8a8b902c-d1a9-58aa-6111-04ab57c2f2a8", product: "acme" },
      });
      await driver.close();
    });

    it("answers a topic nobody joined with 'unmatched topic' and a null join ref", async () => {
      const driver = await connect("unmatched-1");
      const ref = driver.push("9", "device", "status_update", { status: "received" });
      const reply = await driver.waitFor((frame) => frame[1] === ref);
      expect(reply).toEqual([
        null,
        ref,
        "device",
        "phx_reply",
        { status: "error", response: { reason: "unmatched topic" } },
      ]);
      const { reply: joinReply } = await driver.join("nope", {});
      expect(joinReply[4]).toEqual({ status: "error", response: { reason: "unmatched topic" } });
      await driver.close();
    });

    it("leave: ok {} then phx_close; the topic is then unmatched", async () => {
      const { driver, joinRef } = await joined("leave-1");
      const from = driver.frames.length;
      const ref = driver.push(joinRef, "device", "phx_leave", {});
      const reply = await driver.waitFor((frame) => frame[1] === ref, { from });
      expect(reply).toEqual([joinRef, ref, "device", "phx_reply", { status: "ok", response: {} }]);
      expect(await driver.waitFor((frame) => frame[3] === "phx_close", { from })).toEqual([
        joinRef,
        joinRef,
        "device",
        "phx_close",
        {},
      ]);
      await driver.close();
    });

    it("a second join of the same topic closes the first (phx_close with the old join ref)", async () => {
      const { driver, joinRef } = await joined("dup-1");
      const from = driver.frames.length;
      const second = await driver.join("device", joinPayload());
      expect(driver.frames.slice(from)).toContainEqual([
        joinRef,
        joinRef,
        "device",
        "phx_close",
        {},
      ]);
      expect(second.reply[4]).toEqual({ status: "ok", response: {} });
      await driver.close();
    });

    it("ignores messages carrying a stale join ref", async () => {
      const { driver } = await joined("stale-1");
      await driver.join("device", joinPayload());
      driver.push("1", "device", "rebooting", {});
      await driver.heartbeat();
      const stale = hub.messages({ identifier: "stale-1", event: "rebooting" });
      expect(stale).toHaveLength(1); // recorded as received...
      expect(driver.frames.filter((frame) => frame[1] === stale[0]!.ref)).toEqual([]); // ...no answer
      await driver.close();
    });

    it("closes a socket that sends an undecodable frame (1011)", async () => {
      const driver = await connect("garbage-1");
      driver.ws.send("{not json");
      expect((await driver.closed).code).toBe(1011);
      expect(hub.messages({ identifier: "garbage-1" })[0]).toMatchObject({ payload: "{not json" });
    });

    it("negotiates permessage-deflate when the client offers it", async () => {
      const driver = await connect("deflate-1", { perMessageDeflate: true });
      await driver.join("device", joinPayload());
      expect((await hub.waitForDevice("deflate-1")).compression).toBe(true);
      const plain = await connect("deflate-2");
      expect((await hub.waitForDevice("deflate-2", { state: "connected" })).compression).toBe(
        false,
      );
      await driver.close();
      await plain.close();
    });

    it("refuses joins past max_channels_per_transport", async () => {
      await hub.stop();
      hub = await TestHub.start({ maxChannelsPerSocket: 1 });
      product = hub.addProduct({ name: "acme", sharedSecrets: true }).sharedSecrets[0]!;
      const { driver } = await joined("max-1");
      const { reply } = await driver.join("console", { console_version: "2.0.0" });
      expect(reply[4]).toEqual({
        status: "error",
        response: { reason: "too many channels joined" },
      });
      await driver.close();
    });
  });

  describe("device join rules", () => {
    it("after join pushes keys, archive, extensions:get, connecting code, then the deployment's update", async () => {
      hub.addDevice({ identifier: "order-1", product: "acme", connectingCode: "IO.puts(:hi)" });
      const firmware = hub.addFirmware({
        data: "v9",
        meta: {
          uuid: "order-uuid",
          product: "acme",
          version: "9",
          platform: "p",
          architecture: "a",
        },
      });
      const archive = {
        size: 3,
        uuid: "archive-uuid",
        version: "1.0.0",
        description: null,
        platform: "rpi4",
        architecture: "aarch64",
        uploaded_at: "2026-08-22T10:00:00",
        url: hub.firmware.serve("/archives/a.tar", "abc").url,
      };
      hub.deploy({ product: "acme", firmware, archive, connectingCode: "Deploy.code()" });
      const { driver } = await joined(
        "order-1",
        joinPayload({ fwup_public_keys: "on_connect", archive_public_keys: "on_connect" }),
      );
      await driver.waitFor((frame) => frame[3] === "update");
      const pushes = driver.frames.filter((frame) => frame[3] !== "phx_reply");
      expect(pushes.map((frame) => [frame[0], frame[1], frame[3]])).toEqual([
        [null, null, "fwup_public_keys"],
        [null, null, "archive_public_keys"],
        [null, null, "archive"],
        [null, null, "extensions:get"],
        ["1", null, "scripts/run"],
        [null, null, "update"],
      ]);
      expect(pushes[0]![4]).toEqual({ keys: ["PUBKEY1=", "PUBKEY2="] });
      expect(pushes[2]![4]).toEqual(archive);
      expect(pushes[3]![4]).toEqual({});
      expect(pushes[4]![4]).toEqual({
        text: "Deploy.code()\nIO.puts(:hi)",
        ref: "connecting_code",
      });
      expect(pushes[5]![4]).toMatchObject({ firmware_meta: { uuid: "order-uuid" } });
      await driver.close();
    });

    it("gates on device_api_version: 2.1.0 gets no extensions:get, 2.0.0 no scripts/run", async () => {
      hub.addDevice({ identifier: "old-1", product: "acme", connectingCode: "1 + 1" });
      const { driver } = await joined("old-1", joinPayload({ device_api_version: "2.0.0" }));
      await driver.heartbeat();
      expect(driver.frames.filter((frame) => frame[3] !== "phx_reply")).toEqual([]);
      await driver.close();
    });

    it("sends the later extensions:get form when asked to (quirk 16)", async () => {
      await hub.stop();
      hub = await TestHub.start({ advertiseExtensionVersions: true });
      product = hub.addProduct({ name: "acme", sharedSecrets: true, extensions: ["health", "geo"] })
        .sharedSecrets[0]!;
      const { driver } = await joined("adv-1");
      const get = await driver.waitFor((frame) => frame[3] === "extensions:get");
      expect(get[4]).toEqual({ extensions: { geo: ["0.0.1"], health: ["0.0.1"] } });
      await driver.close();
    });

    it("answers a failed join with {error: 'could not connect'} and a crashing one with 'join crashed'", async () => {
      hub.addDevice({ identifier: "fail-1", product: "acme" });
      hub.failNextJoins("fail-1");
      const driver = await connect("fail-1");
      expect((await driver.join("device", joinPayload())).reply[4]).toEqual({
        status: "error",
        response: { error: "could not connect" },
      });
      expect(
        (await driver.join("device", joinPayload({ device_api_version: 3 }))).reply[4],
      ).toEqual({
        status: "error",
        response: { reason: "join crashed" },
      });
      expect((await driver.join("device", joinPayload())).reply[4]).toEqual({
        status: "ok",
        response: {},
      });
      await driver.close();
    });

    it("records a firmware change at join and clears the in-flight update", async () => {
      const firmware = hub.addFirmware({
        data: "firmware bytes",
        meta: {
          uuid: "new-uuid",
          product: "acme",
          version: "2.0.0",
          platform: "rpi4",
          architecture: "aarch64",
        },
      });
      const first = await joined("fw-1");
      hub.pushUpdate("fw-1", firmware);
      expect(hub.device("fw-1")?.inflightUpdate).toMatchObject({
        firmwareUuid: "new-uuid",
        status: "requested",
      });
      await first.driver.close();
      const changes: string[] = [];
      hub.on("firmwareChanged", (change) =>
        changes.push(`${change.previous?.uuid}->${change.current.uuid}`),
      );
      // Only the uuid is reported: the server resolves it to the firmware on file.
      const second = await joined("fw-1", {
        nerves_fw_uuid: "new-uuid",
        device_api_version: "2.3.0",
        currently_downloading_uuid: null,
      });
      expect(changes).toEqual(["8a8b902c-d1a9-58aa-6111-04ab57c2f2a8->new-uuid"]);
      expect(hub.device("fw-1")).toMatchObject({
        firmwareMetadata: { uuid: "new-uuid", version: "2.0.0" },
        inflightUpdate: null,
        firmwareValidation: "unknown",
      });
      expect(hub.device("fw-1")?.firmwareHistory.map((entry) => entry.uuid)).toEqual([
        "8a8b902c-d1a9-58aa-6111-04ab57c2f2a8",
        "new-uuid",
      ]);
      await second.driver.close();
    });

    it("keeps the in-flight update when the device says it is still downloading", async () => {
      const firmware = hub.addFirmware({
        data: "x",
        meta: { uuid: "dl-uuid", product: "acme", version: "2", platform: "p", architecture: "a" },
      });
      const first = await joined("dl-1");
      hub.pushUpdate("dl-1", firmware);
      await first.driver.close();
      const second = await joined("dl-1", joinPayload({ currently_downloading_uuid: "dl-uuid" }));
      expect(hub.device("dl-1")?.inflightUpdate).toMatchObject({ firmwareUuid: "dl-uuid" });
      await second.driver.close();
    });
  });

  describe("device → server events (§4.2): recorded, never answered", () => {
    it("accepts every event without a reply and updates the device record", async () => {
      const { driver, joinRef } = await joined(
        "events-1",
        joinPayload({ meta: { firmware_validated: false } }),
      );
      const events: Array<[string, unknown]> = [
        ["report_network_interface", { interface: "wlan0" }],
        ["status_update", { status: "received" }],
        ["status_update", { status: "started", downloader_network_interface: "eth0" }],
        ["fwup_progress", { stage: "downloading", value: 10 }],
        ["update_progress", { stage: "updating", value: 55 }],
        ["fwup_progress", { stage: "updating", value: 100 }],
        ["status_update", { status: "completed" }],
        ["firmware_validated", {}],
        ["rebooting", {}],
        ["scripts/run", { ref: "connecting_code", result: "completed", output: "", return: ":ok" }],
        ["connection_types", { values: ["ethernet", "wifi"] }],
        ["status_update", { status: "rescheduled", delay_for: 5 }],
        ["status_update", { status: "ignored", reason: "" }],
        ["status_update", { status: "failed", reason: "Download failed : :nope" }],
        ["something_unknown", { any: "thing" }],
      ];
      const refs = events.map(([event, payload]) => driver.push(joinRef, "device", event, payload));
      await driver.heartbeat();
      expect(driver.frames.filter((frame: Frame) => refs.includes(frame[1] as string))).toEqual([]);
      expect(hub.messages({ identifier: "events-1", topic: "device" }).map((m) => m.event)).toEqual(
        ["phx_join", ...events.map(([event]) => event)],
      );
      const device = hub.device("events-1")!;
      expect(device).toMatchObject({
        networkInterface: "wlan0",
        firmwareValidation: "validated",
        connectionTypes: ["ethernet", "wifi"],
        inflightUpdate: null,
      });
      expect(device.updateStatuses.map((record) => record.status)).toEqual([
        "received",
        "started",
        "downloading",
        "updating",
        "updating",
        "completed",
        "rescheduled",
        "ignored",
        "failed",
      ]);
      expect(device.updateStatuses.find((r) => r.status === "rescheduled")?.payload).toEqual({
        status: "rescheduled",
        delay_for: 5,
      });
      await driver.close();
    });

    it("crashes the channel (phx_error) on a status_update without a status string, like the server", async () => {
      const { driver, joinRef } = await joined("crash-1");
      const from = driver.frames.length;
      driver.push(joinRef, "device", "status_update", { state: "received" });
      expect(await driver.waitFor((frame) => frame[3] === "phx_error", { from })).toEqual([
        joinRef,
        joinRef,
        "device",
        "phx_error",
        { reason: "channel_crash" },
      ]);
      expect(hub.device("crash-1")?.joined).toBe(false);
      await driver.close();
    });
  });

  describe("control API pushes", () => {
    it("sends update, reboot and identify as fastlane broadcasts", async () => {
      const firmware = hub.addFirmware({
        data: new Uint8Array(1_500_000).fill(7),
        meta: {
          uuid: "push-uuid",
          product: "acme",
          version: "3.0.0",
          platform: "rpi4",
          architecture: "aarch64",
        },
      });
      const { driver } = await joined("push-1");
      const from = driver.frames.length;
      const payload = hub.pushUpdate("push-1", firmware);
      hub.reboot("push-1");
      hub.identify("push-1");
      await driver.waitFor((frame) => frame[3] === "identify", { from });
      const pushed = driver.frames.slice(from);
      expect(pushed.map((frame) => [frame[0], frame[1], frame[2], frame[3]])).toEqual([
        [null, null, "device", "update"],
        [null, null, "device", "reboot"],
        [null, null, "device", "identify"],
      ]);
      expect(pushed[0]![4]).toEqual(payload);
      expect(payload).toMatchObject({
        update_available: true,
        firmware_url: firmware.file.url,
        size: 1_500_000,
        deployment_id: null,
      });
      expect(payload.partials_checksums).toHaveLength(2);
      expect(hub.device("push-1")?.updatesEnabled).toBe(false); // a manual push disables updates
      const response = await fetch(payload.firmware_url!);
      expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.alloc(1_500_000, 7))).toBe(
        true,
      );
      await driver.close();
    });

    it("runs a script and resolves with the output the server would show", async () => {
      const { driver, joinRef } = await joined("script-1");
      const result = hub.runScript("script-1", "1 + 1");
      const request = await driver.waitFor((frame) => frame[3] === "scripts/run");
      expect(request[0]).toBe(joinRef);
      const { ref } = request[4] as { ref: string };
      expect(ref).not.toBe("connecting_code");
      driver.push(joinRef, "device", "scripts/run", {
        ref,
        result: "completed",
        output: "hi\n",
        return: "2",
      });
      expect(await result).toBe("hi\n\n2");
      await driver.close();
    });

    it("throws NOT_JOINED for a device that has not joined", async () => {
      const driver = await connect("unjoined-1");
      await hub.waitForDevice("unjoined-1", { state: "connected" });
      expect(() => hub.reboot("unjoined-1")).toThrow(
        expect.objectContaining({ code: "NOT_JOINED" }),
      );
      await driver.close();
    });

    it("closes (phx_close) and crashes (phx_error) channels on request", async () => {
      const { driver, joinRef } = await joined("chan-1");
      const from = driver.frames.length;
      hub.closeChannel("chan-1", "device");
      expect(await driver.waitFor((frame) => frame[3] === "phx_close", { from })).toEqual([
        joinRef,
        joinRef,
        "device",
        "phx_close",
        {},
      ]);
      const again = await driver.join("device", joinPayload());
      hub.crashChannel("chan-1", "device");
      expect(await driver.waitFor((frame) => frame[3] === "phx_error", { from })).toEqual([
        again.joinRef,
        again.joinRef,
        "device",
        "phx_error",
        { reason: "channel_crash" },
      ]);
      await driver.close();
    });

    it("waits for messages: history, and only newer ones with nextMessage", async () => {
      const { driver, joinRef } = await joined("wait-1");
      driver.push(joinRef, "device", "status_update", { status: "received" });
      expect(
        await hub.waitForMessage({ identifier: "wait-1", event: "status_update" }),
      ).toMatchObject({
        payload: { status: "received" },
        direction: "in",
      });
      const next = hub.nextMessage({ identifier: "wait-1", event: "status_update" });
      driver.push(joinRef, "device", "status_update", { status: "started" });
      expect((await next).payload).toEqual({ status: "started" });
      await expect(
        hub.waitForMessage({ identifier: "wait-1", event: "never" }, { timeoutMs: 50 }),
      ).rejects.toMatchObject({ code: "TIMEOUT" });
      await driver.close();
    });
  });

  describe("connections: kicks, drops, idle timeout, restart", () => {
    it("a second connection of the same device kicks the first with 1001", async () => {
      const first = await joined("kick-1");
      const kicked = new Promise((resolve) => hub.once("kicked", resolve));
      const second = await joined("kick-1");
      expect((await first.driver.closed).code).toBe(1001);
      expect(await kicked).toMatchObject({ identifier: "kick-1", closeReason: "kicked" });
      expect(hub.connection("kick-1")?.id).toBe((await hub.waitForDevice("kick-1")).id);
      expect(hub.connections().filter((c) => c.identifier === "kick-1")).toHaveLength(1);
      await second.driver.close();
    });

    it("drops one device with a close code, or abruptly without a close frame", async () => {
      const a = await joined("drop-1");
      await hub.disconnect("drop-1", { code: 4000 });
      expect((await a.driver.closed).code).toBe(4000);
      const b = await joined("drop-1");
      await hub.disconnect("drop-1", { abrupt: true });
      expect((await b.driver.closed).code).toBe(1006);
      expect(hub.device("drop-1")?.connected).toBe(false);
    });

    it("closes a silent socket after the idle timeout with 1002", async () => {
      await hub.stop();
      hub = await TestHub.start({ idleTimeoutMs: 200 });
      product = hub.addProduct({ name: "acme", sharedSecrets: true }).sharedSecrets[0]!;
      const { driver } = await joined("idle-1");
      expect((await driver.closed).code).toBe(1002);
      expect(await hub.waitForDisconnect("idle-1")).toMatchObject({
        closeCode: 1002,
        closeReason: "idle_timeout",
      });
    });

    it("restart drains every socket with 1012 and listens again on the same port", async () => {
      const a = await joined("restart-1");
      const b = await joined("restart-2");
      const port = hub.port;
      await hub.restart({ downtimeMs: 20 });
      expect((await a.driver.closed).code).toBe(1012);
      expect((await b.driver.closed).code).toBe(1012);
      expect(hub.port).toBe(port);
      const again = await joined("restart-1");
      expect(hub.device("restart-1")?.joined).toBe(true);
      expect(hub.messages({ identifier: "restart-1", event: "phx_join" })).toHaveLength(2);
      await again.driver.close();
    });

    it("disconnectAll closes everyone", async () => {
      const a = await joined("all-1");
      const b = await joined("all-2");
      await hub.disconnectAll();
      expect((await a.driver.closed).code).toBe(1001);
      expect((await b.driver.closed).code).toBe(1001);
      expect(hub.connections()).toEqual([]);
    });
  });

  describe("deployments", () => {
    it("offers the deployment after join, re-offers after a reschedule, stops once updated", async () => {
      await hub.stop();
      hub = await TestHub.start({ orchestratorIntervalMs: 50 });
      product = hub.addProduct({ name: "acme", sharedSecrets: true }).sharedSecrets[0]!;
      const firmware = hub.addFirmware({
        data: "v2",
        meta: {
          uuid: "deploy-uuid",
          product: "acme",
          version: "2.0.0",
          platform: "rpi4",
          architecture: "aarch64",
        },
      });
      const deployment = hub.deploy({ product: "acme", firmware });
      const { driver, joinRef } = await joined("dep-1");
      const offer = await driver.waitFor((frame) => frame[3] === "update");
      expect(offer[4]).toMatchObject({
        deployment_id: deployment.id,
        firmware_meta: { uuid: "deploy-uuid" },
      });
      expect(hub.device("dep-1")?.inflightUpdate).toMatchObject({ deploymentId: deployment.id });
      // Link reschedules in minutes (5); the server blocks for 5 ms and the orchestrator resends.
      const from = driver.frames.length;
      driver.push(joinRef, "device", "status_update", { status: "received" });
      driver.push(joinRef, "device", "status_update", { status: "rescheduled", delay_for: 5 });
      await driver.waitFor((frame) => frame[3] === "update", { from, timeoutMs: 5_000 });
      // Ignoring puts the device in the penalty box: no more offers.
      driver.push(joinRef, "device", "status_update", { status: "ignored", reason: "not now" });
      await hub.waitForUpdateStatus("dep-1", "ignored");
      expect(hub.device("dep-1")?.updatesBlockedUntilMs).toBeGreaterThan(Date.now() + 59 * 60_000);
      await driver.close();
      // Joining with the deployed firmware: no offer.
      const updated = await joined("dep-2", joinPayload({ nerves_fw_uuid: "deploy-uuid" }));
      // An orchestrator pass sends synchronously, so an offer would precede the heartbeat reply.
      hub.orchestrate();
      await updated.driver.heartbeat();
      expect(updated.driver.frames.filter((frame) => frame[3] === "update")).toEqual([]);
      await updated.driver.close();
    });
  });
});
