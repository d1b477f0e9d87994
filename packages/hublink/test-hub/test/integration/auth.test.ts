// Connecting to the hub over real websockets on loopback, with the shared-secret headers right
// and wrong. Each refusal is checked against what NervesHub answers (status, body, headers).

import { describeIntegration } from "@testing/netlab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestHub } from "../../src/index.js";
import { attemptUpgrade, Driver } from "../support/driver.js";
import { signHeaders } from "../support/nh1-sign.js";

describeIntegration("test-hub: shared-secret authentication over websockets", { tools: [] }, () => {
  const NOW = 1_800_000_000_000;
  let hub: TestHub;
  let product: { key: string; secret: string };
  let deviceKey: { key: string; secret: string };

  beforeAll(async () => {
    hub = await TestHub.start({ clock: () => NOW, firmwareServer: false });
    product = hub.addProduct({ name: "acme", sharedSecrets: true }).sharedSecrets[0]!;
    hub.addProduct({
      name: "other",
      sharedSecrets: [{ key: "nhp_other", secret: "other-secret" }],
    });
    deviceKey = hub.addDevice({ identifier: "keyed-1", product: "acme", sharedSecrets: true })
      .sharedSecrets[0]!;
  });
  afterAll(() => hub.stop());

  const signed = (identifier: string, overrides: Partial<Parameters<typeof signHeaders>[0]> = {}) =>
    signHeaders({ ...product, identifier, signedAt: NOW / 1000, ...overrides });

  describe("shared-secret connections", () => {
    it("admits a product key and registers the device it signs for", async () => {
      const driver = await Driver.connect(hub.url, { headers: signed("new-device-1") });
      const connection = await hub.waitForDevice("new-device-1", { state: "connected" });
      expect(connection).toMatchObject({
        identifier: "new-device-1",
        product: "acme",
        auth: "shared_secret",
        path: "/device-socket/websocket",
        vsn: "2.0.0",
      });
      expect(connection.requestHeaders["x-nh-signature"]).toMatch(/^SFMyNTY\.[^.]+\.\*\*\*\*$/);
      expect(hub.device("new-device-1")).toMatchObject({
        product: "acme",
        connected: true,
        joined: false,
      });
      await driver.close();
    });

    it("admits a device key for its own identifier, on /socket too", async () => {
      const headers = signHeaders({ ...deviceKey, identifier: "keyed-1", signedAt: NOW / 1000 });
      const driver = await Driver.connect(hub.url, { headers, path: "/socket" });
      expect(await hub.waitForDevice("keyed-1", { state: "connected" })).toMatchObject({
        path: "/socket/websocket",
      });
      await driver.close();
    });

    it("admits the reference's non-default algorithm (PBKDF2-SHA512, 2000 rounds, 64 bytes)", async () => {
      const headers = signed("sha512-device", {
        digest: "sha512",
        iterations: 2000,
        keyLength: 64,
      });
      const driver = await Driver.connect(hub.url, { headers });
      await hub.waitForDevice("sha512-device", { state: "connected" });
      await driver.close();
    });
  });

  describe("refusals answer like NervesHub", () => {
    const expectEmpty401 = async (headers: Record<string, string>, reason: string) => {
      const answer = await attemptUpgrade(hub.url, { headers });
      expect(answer).toMatchObject({ status: 401, body: "" });
      if (!("status" in answer)) throw new Error("expected an HTTP answer");
      expect(answer.headers["nh-connection-error-reason"]).toBeUndefined();
      expect(answer.headers["date"]).toBe(new Date(NOW).toUTCString());
      expect(hub.rejections().at(-1)).toMatchObject({ status: 401, reason });
    };

    it("wrong secret → 401, empty body, date header", async () => {
      await expectEmpty401(signed("d", { secret: "wrong" }), "invalid_signature");
    });
    it("stale signature (91 s) → 401", async () => {
      await expectEmpty401(signed("d", { signedAt: NOW / 1000 - 91 }), "expired");
    });
    it("device clock one second ahead → 401 (no future tolerance)", async () => {
      await expectEmpty401(signed("d", { signedAt: NOW / 1000 + 1 }), "signed_in_future");
    });
    it("unknown key → 401", async () => {
      await expectEmpty401(signed("d", { key: "nhp_unknown" }), "unknown_key");
    });
    it("missing signature → 401", async () => {
      const { "x-nh-signature": _removed, ...headers } = signed("d");
      await expectEmpty401(headers, "missing_signature");
    });
    it("a stray x- header only (a proxy's x-forwarded-for) → 401 empty, not no_auth (quirk 17)", async () => {
      await expectEmpty401({ "x-forwarded-for": "10.0.0.1" }, "headers_decode_failed");
    });
    it("a device key signing someone else's identifier → 401", async () => {
      await expectEmpty401(
        signHeaders({ ...deviceKey, identifier: "not-keyed-1", signedAt: NOW / 1000 }),
        "bad_identifier",
      );
    });
    it("an identifier taken in another product → 401 (duplicate identifier)", async () => {
      await expectEmpty401(
        signHeaders({
          key: "nhp_other",
          secret: "other-secret",
          identifier: "keyed-1",
          signedAt: NOW / 1000,
        }),
        "duplicate_identifier",
      );
    });

    it("no certificate and no x- header → 401 with the reason in body and header", async () => {
      const answer = await attemptUpgrade(hub.url, {});
      const message = "no certificate pair or shared secrets connection settings were provided";
      expect(answer).toMatchObject({ status: 401, body: message });
      if (!("headers" in answer)) throw new Error("expected an HTTP answer");
      expect(answer.headers["nh-connection-error-reason"]).toBe(message);
    });

    it("missing x-nh-time → 503 (the server raises and reports the platform unavailable)", async () => {
      const { "x-nh-time": _removed, ...headers } = signed("d");
      const answer = await attemptUpgrade(hub.url, { headers });
      expect(answer).toMatchObject({
        status: 503,
        body: "the platform could not be reached to authenticate this device",
      });
    });

    it("platform down → 503 with nh-connection-error-reason", async () => {
      hub.setPlatformAvailable(false);
      try {
        const answer = await attemptUpgrade(hub.url, { headers: signed("d") });
        expect(answer).toMatchObject({ status: 503 });
        if (!("headers" in answer)) throw new Error("expected an HTTP answer");
        expect(answer.headers["nh-connection-error-reason"]).toBe(
          "the platform could not be reached to authenticate this device",
        );
      } finally {
        hub.setPlatformAvailable(true);
      }
    });

    it("missing or unsupported vsn → 403 before any authentication", async () => {
      for (const vsn of [null, "1.0.0", "2.1.0", "3.0.0"]) {
        const before = hub.rejections().length;
        expect(await attemptUpgrade(hub.url, { headers: signed("d"), vsn })).toMatchObject({
          status: 403,
          body: "",
        });
        expect(hub.rejections().slice(before)).toEqual([
          expect.objectContaining({ reason: "vsn" }),
        ]);
      }
    });

    it("socket redirects (a load balancer's) are answered with location, then stop", async () => {
      hub.redirectSockets({ location: "ws://127.0.0.1:1/elsewhere", status: 307, times: 1 });
      const answer = await attemptUpgrade(hub.url, { headers: signed("d") });
      expect(answer).toMatchObject({ status: 307 });
      if (!("headers" in answer)) throw new Error("expected an HTTP answer");
      expect(answer.headers["location"]).toBe("ws://127.0.0.1:1/elsewhere");
      expect(await attemptUpgrade(hub.url, { headers: signed("redirect-done") })).toEqual({
        opened: true,
      });
    });
  });

  describe("plain HTTP on the device endpoint", () => {
    const base = () => hub.url.replace("ws://", "http://");

    it("answers the health paths with 200 Hello, Friend!", async () => {
      for (const path of [
        "/status/alive",
        "/status/_health",
        "/status/health",
        "/status/healthy",
      ]) {
        const response = await fetch(base() + path);
        expect(response.status).toBe(200);
        expect(await response.text()).toBe("Hello, Friend!");
      }
    });

    it("redirects every other path to the docs with 301", async () => {
      const response = await fetch(`${base()}/anything`, { redirect: "manual" });
      expect(response.status).toBe(301);
      expect(response.headers.get("location")).toBe("https://docs.nerves-hub.org/");
    });

    it("refuses a non-GET socket request with 400 and a GET without upgrade after auth with 400", async () => {
      expect((await fetch(`${base()}/socket/websocket?vsn=2.0.0`, { method: "POST" })).status).toBe(
        400,
      );
      const response = await fetch(`${base()}/socket/websocket?vsn=2.0.0`, {
        headers: signed("plain-get"),
      });
      expect(response.status).toBe(400);
      const unauthenticated = await fetch(`${base()}/socket/websocket?vsn=2.0.0`);
      expect(unauthenticated.status).toBe(401);
    });
  });

  describe("shared secrets disabled", () => {
    it("refuses a correct signature with 401", async () => {
      const closed = await TestHub.start({
        clock: () => NOW,
        firmwareServer: false,
        sharedSecrets: { enabled: false },
        products: [{ name: "p", sharedSecrets: [{ key: "nhp_p", secret: "s" }] }],
      });
      try {
        const answer = await attemptUpgrade(closed.url, {
          headers: signHeaders({
            key: "nhp_p",
            secret: "s",
            identifier: "x",
            signedAt: NOW / 1000,
          }),
        });
        expect(answer).toMatchObject({ status: 401, body: "" });
        expect(closed.rejections()[0]).toMatchObject({ reason: "shared_secrets_not_enabled" });
      } finally {
        await closed.stop();
      }
    });
  });
});
