// Conformance: every `device`-topic event of the reference (§4.1 server → device, §4.2 device →
// server) is listed here with what the client does, and each is exercised against the test hub.
// Events of the `console` and `extensions` topics are out of this scope (issue 2): the
// client never joins those topics, and a message on a topic it does not know is logged, never
// crashes it (shown with an unknown event below).
import { join } from "node:path";
import { TestHub } from "@hublink/test-hub";
import { describeIntegration } from "@testing/netlab";
import { afterEach, beforeEach, expect, it } from "vitest";
import {
  DEVICE_PUSHES,
  DEVICE_PUSHES_NOT_SENT,
  HubLink,
  type HubLinkOptions,
  SERVER_DEVICE_EVENTS,
  silentLogger,
} from "../../src/index.js";
import { deviceKv, tempDirectory, until } from "../support/device.js";

/** §4.1 and §4.2 of the reference, verbatim event names. */
const REFERENCE_SERVER_EVENTS = [
  "update",
  "archive",
  "reboot",
  "identify",
  "scripts/run",
  "fwup_public_keys",
  "archive_public_keys",
  "extensions:get",
];
const REFERENCE_DEVICE_EVENTS = [
  "fwup_progress",
  "update_progress",
  "status_update",
  "rebooting",
  "firmware_validated",
  "report_network_interface",
  "scripts/run",
  "connection_types",
];

describeIntegration(
  "hublink client: conformance with the reference's device events",
  { tools: [] },
  () => {
    let hub: TestHub;
    let client: HubLink;
    let temp: Awaited<ReturnType<typeof tempDirectory>>;
    const seen: Record<string, unknown[]> = {};
    const note = (name: string, value: unknown) => {
      seen[name] = [...(seen[name] ?? []), value];
    };

    async function start(
      extra: Partial<HubLinkOptions> = {},
      kvExtra: Record<string, string> = {},
    ) {
      const { key, secret } = hub.addProduct({ name: "acme", sharedSecrets: true })
        .sharedSecrets[0]!;
      client = await HubLink.start({
        host: hub.url,
        sharedSecret: { productKey: key, productSecret: secret },
        identifier: "conf",
        kv: extra.kv ?? (await deviceKv(join(temp.path, "dev"), kvExtra)),
        logger: silentLogger,
        connectWaitForNetwork: false,
        validationPollMs: 50,
        client: {
          identify: () => {
            note("identify", true);
          },
          reboot: () => {
            note("reboot", true);
          },
        },
        ...extra,
      } as HubLinkOptions);
      client.on("unknownMessage", (topic, event) => note("unknown", `${topic}:${event}`));
      await until(() => client.connected(), "join");
    }

    beforeEach(async () => {
      hub = await TestHub.start();
      temp = await tempDirectory();
      for (const name of Object.keys(seen)) delete seen[name];
    });
    afterEach(async () => {
      await client?.stop();
      await hub.stop();
      await temp.remove();
    });

    it("has a decision for every event of the reference", () => {
      expect(Object.keys(SERVER_DEVICE_EVENTS).sort()).toEqual([...REFERENCE_SERVER_EVENTS].sort());
      expect(
        [...Object.keys(DEVICE_PUSHES), ...Object.keys(DEVICE_PUSHES_NOT_SENT)].sort(),
      ).toEqual([...REFERENCE_DEVICE_EVENTS].sort());
    });

    it("server → device: reboot, identify, scripts/run, keys, archive, extensions:get, unknown", async () => {
      await start();
      const cursor = hub.cursor();
      hub.reboot("conf");
      await hub.waitForMessage({ identifier: "conf", event: "rebooting", after: cursor });
      await until(() => seen.reboot?.length === 1, "reboot callback");

      hub.identify("conf");
      await until(() => seen.identify?.length === 1, "identify callback");

      const script = await hub.runScript("conf", "IO.puts(:hi)", { timeoutMs: 5_000 });
      expect(script).toMatch(/does not evaluate Elixir/);

      hub.push("conf", "fwup_public_keys", { keys: [] });
      hub.push("conf", "fwup_public_keys", { keys: "nonsense" });
      hub.push("conf", "archive_public_keys", { keys: ["AAAA"] });
      hub.push("conf", "archive", {
        size: 1,
        uuid: "a",
        version: "1",
        description: null,
        platform: null,
        architecture: null,
        uploaded_at: "2026-01-01T00:00:00",
        url: "http://127.0.0.1:1/a",
      });
      hub.push("conf", "extensions:get", {});
      hub.push("conf", "no_such_event", { x: 1 });
      await until(() => seen.unknown?.includes("device:no_such_event"), "unknown event");
      // None of those produced an update status, and the channel is still up.
      expect(hub.device("conf")!.updateStatuses).toEqual([]);
      expect(hub.messages({ identifier: "conf", topic: "extensions" })).toEqual([]);
      expect(client.connected()).toBe(true);
    });

    it("server → device: an invalid update is reported, not applied; keys pushed on_connect are used", async () => {
      const errors: string[] = [];
      await start({ client: { error: (error) => errors.push(error.code) } });
      // No fwup keys configured: the join asked for them (Link: on_connect).
      expect(hub.device("conf")!.joinParams).toMatchObject({ fwup_public_keys: "on_connect" });
      hub.push("conf", "update", { update_available: true, firmware_url: 42, firmware_meta: {} });
      await until(() => errors.includes("INVALID_UPDATE"), "the invalid update to be reported");
      expect(hub.device("conf")!.updateStatuses).toEqual([]);
      // A valid offer without any key is refused as unverifiable (NervesHubLink 2.12).
      hub.push("conf", "update", {
        update_available: true,
        firmware_url: "http://127.0.0.1:1/fw",
        firmware_meta: { uuid: "33333333-3333-3333-3333-333333333333" },
      });
      const failed = await hub.waitForUpdateStatus("conf", "failed");
      expect(failed.payload).toEqual({
        status: "failed",
        reason: "Refusing unverified firmware : no public keys available",
      });
    });

    it("device → server: firmware_validated once the firmware becomes valid, report_network_interface", async () => {
      // Joined unvalidated (U-Boot bootcount scheme: on trial).
      const kv = await deviceKv(join(temp.path, "dev"), { upgrade_available: "1" });
      await start({ kv });
      expect(hub.device("conf")!.joinParams).toMatchObject({
        meta: { firmware_validated: false, firmware_auto_revert_detected: false },
      });
      await hub.waitForMessage({ identifier: "conf", event: "report_network_interface" });
      expect(hub.device("conf")!.networkInterface).toBe("lo");
      expect(hub.messages({ identifier: "conf", event: "firmware_validated" })).toEqual([]);
      // The application validates; the poll notices and pushes once.
      await kv.put({ upgrade_available: "0" });
      await hub.waitForMessage({ identifier: "conf", event: "firmware_validated" });
      expect(hub.device("conf")!.firmwareValidation).toBe("validated");
      await until(() => client.status().connected, "still connected");
      expect(hub.messages({ identifier: "conf", event: "firmware_validated" })).toHaveLength(1);
    });

    it("device → server: status_update and fwup_progress via sendUpdateStatus and an update", async () => {
      await start();
      expect(client.sendUpdateStatus("rescheduled", { delay_for: 60_000 })).toBe(true);
      const record = await hub.waitForUpdateStatus("conf", "rescheduled");
      expect(record.payload).toEqual({ status: "rescheduled", delay_for: 60_000 });
    });
  },
);
