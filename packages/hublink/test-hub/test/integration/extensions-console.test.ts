// The `extensions` and `console` channels (checklist items 6 and 7).

import { describeIntegration } from "@testing/netlab";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TestHub } from "../../src/index.js";
import { Driver, joinPayload } from "../support/driver.js";
import { signHeaders } from "../support/nh1-sign.js";

describeIntegration("test-hub: extensions and console channels", { tools: [] }, () => {
  let hub: TestHub;
  let product: { key: string; secret: string };

  beforeEach(async () => {
    hub = await TestHub.start({ firmwareServer: false });
    product = hub.addProduct({
      name: "acme",
      sharedSecrets: true,
      extensions: ["health", "geo", "local_shell"],
    }).sharedSecrets[0]!;
  });
  afterEach(() => hub.stop());

  async function device(identifier: string) {
    const headers = signHeaders({
      ...product,
      identifier,
      signedAt: Math.floor(Date.now() / 1000),
    });
    const driver = await Driver.connect(hub.url, { headers });
    await driver.join("device", joinPayload());
    return driver;
  }

  describe("extensions", () => {
    it("replies to the join with the allowed names, sorted, and asks for data on attach", async () => {
      hub.addDevice({ identifier: "ext-1", product: "acme", extensions: { local_shell: false } });
      const driver = await device("ext-1");
      await driver.waitFor((frame) => frame[3] === "extensions:get");
      const { joinRef, reply } = await driver.join("extensions", {
        health: "0.0.1",
        geo: "0.0.1",
        local_shell: "0.0.1",
        network_identity: "0.0.1",
      });
      expect(reply[4]).toEqual({ status: "ok", response: ["geo", "health"] });
      const from = driver.frames.length;
      driver.push(joinRef, "extensions", "health:attached", {});
      driver.push(joinRef, "extensions", "geo:attached", {});
      await driver.waitFor((frame) => frame[3] === "geo:location:request", { from });
      expect(
        driver.frames.slice(from).map((frame) => [frame[0], frame[1], frame[2], frame[3]]),
      ).toEqual([
        [joinRef, null, "extensions", "health:check"],
        [joinRef, null, "extensions", "geo:location:request"],
      ]);
      driver.push(joinRef, "extensions", "health:report", { value: { metrics: { cpu_temp: 41 } } });
      driver.push(joinRef, "extensions", "geo:location:update", {
        source: "geoip",
        latitude: 1,
        longitude: 2,
      });
      await driver.heartbeat();
      expect(hub.device("ext-1")).toMatchObject({
        lastHealthReport: { metrics: { cpu_temp: 41 } },
        location: { source: "geoip", latitude: 1, longitude: 2 },
        extensions: {
          health: { status: "attached", attach: true },
          local_shell: { status: "detached", attach: false },
        },
      });
      await driver.close();
    });

    it("answers pushes for an extension that is not allowed with error 'detach'", async () => {
      const driver = await device("ext-2");
      const { joinRef } = await driver.join("extensions", { network_identity: "0.0.1" });
      const ref = driver.push(joinRef, "extensions", "network_identity:attached", {});
      expect(await driver.waitFor((frame) => frame[1] === ref)).toEqual([
        joinRef,
        ref,
        "extensions",
        "phx_reply",
        { status: "error", response: "detach" },
      ]);
      await driver.close();
    });

    it("lets the hub send attach/detach and any extension event", async () => {
      const driver = await device("ext-3");
      const { joinRef } = await driver.join("extensions", { health: "0.0.1" });
      hub.push("ext-3", "detach", { extensions: ["health"] }, { topic: "extensions" });
      expect(await driver.waitFor((frame) => frame[3] === "detach")).toEqual([
        joinRef,
        null,
        "extensions",
        "detach",
        { extensions: ["health"] },
      ]);
      await driver.close();
    });
  });

  describe("console", () => {
    it("joins with {}, relays hub → device events and records up/file-data from the device", async () => {
      const driver = await device("con-1");
      const { joinRef, reply } = await driver.join("console", {
        console_version: "2.0.0",
        device_api_version: "2.3.0",
      });
      expect(reply[4]).toEqual({ status: "ok", response: {} });
      hub.push("con-1", "dn", { data: "1 + 1\n" }, { topic: "console" });
      expect(await driver.waitFor((frame) => frame[3] === "dn")).toEqual([
        joinRef,
        null,
        "console",
        "dn",
        { data: "1 + 1\n" },
      ]);
      driver.push(joinRef, "console", "up", { data: "2\n" });
      driver.push(joinRef, "console", "file-data/start", { filename: "a.txt" });
      await driver.heartbeat();
      expect(hub.messages({ identifier: "con-1", topic: "console" }).map((m) => m.event)).toEqual([
        "phx_join",
        "up",
        "file-data/start",
      ]);
      expect(hub.device("con-1")?.consoleVersion).toBe("2.0.0");
      await driver.close();
    });

    it("crashes the console channel on an event it has no clause for", async () => {
      const driver = await device("con-2");
      const { joinRef } = await driver.join("console", { console_version: "2.0.0" });
      driver.push(joinRef, "console", "window_size", { height: 1, width: 2 });
      expect(await driver.waitFor((frame) => frame[3] === "phx_error")).toEqual([
        joinRef,
        joinRef,
        "console",
        "phx_error",
        { reason: "channel_crash" },
      ]);
      await driver.close();
    });

    it("types the connecting code into the console for devices below API 2.1.0", async () => {
      hub.addDevice({ identifier: "con-3", product: "acme", connectingCode: "Hello.world()" });
      const headers = signHeaders({
        ...product,
        identifier: "con-3",
        signedAt: Math.floor(Date.now() / 1000),
      });
      const driver = await Driver.connect(hub.url, { headers });
      const { joinRef } = await driver.join("console", { console_version: "1.0.0" });
      await driver.join("device", joinPayload({ device_api_version: "2.0.0" }));
      expect(await driver.waitFor((frame) => frame[3] === "dn")).toEqual([
        joinRef,
        null,
        "console",
        "dn",
        { data: "Hello.world()\n\r" },
      ]);
      await driver.close();
    });
  });
});
