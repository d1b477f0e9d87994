// wss with client certificates: keys and certificates made with the real openssl here, the
// device side a raw `ws` client presenting them.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeIntegration } from "@testing/netlab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestPki, FirmwareServer, TestHub, type TestPki } from "../../src/index.js";
import { attemptUpgrade, Driver, joinPayload } from "../support/driver.js";
import { signHeaders } from "../support/nh1-sign.js";

describeIntegration("test-hub: client-certificate TLS", { tools: ["openssl"] }, () => {
  let directory: string;
  let pki: TestPki;
  let hub: TestHub;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "test-hub-tls-"));
    pki = await createTestPki({
      directory,
      devices: ["cert-known", "cert-new", "cert-jitp", "cert-orphan"],
    });
    hub = await TestHub.start({
      tls: { key: pki.server.key, cert: pki.server.cert },
      products: [{ name: "acme" }, { name: "jitp-product" }],
      firmwareServer: false,
    });
    hub.addDevice({
      identifier: "cert-known",
      product: "acme",
      certificates: [pki.devices["cert-known"]!.cert],
    });
    hub.addDevice({ identifier: "cert-new", product: "acme" });
  });
  afterAll(async () => {
    await hub?.stop();
    await rm(directory, { recursive: true, force: true });
  });

  const tlsOptions = (identifier: string) => ({
    ca: pki.serverCa.cert,
    cert: pki.devices[identifier]!.cert,
    key: pki.devices[identifier]!.key,
  });

  describe("certificate authentication", () => {
    it("admits a device whose certificate is on file and joins the device channel", async () => {
      const driver = await Driver.connect(hub.url, {
        path: "/socket",
        ...tlsOptions("cert-known"),
      });
      const { reply } = await driver.join("device", joinPayload());
      expect(reply[4]).toEqual({ status: "ok", response: {} });
      expect(await hub.waitForDevice("cert-known")).toMatchObject({
        auth: "certificate",
        path: "/socket/websocket",
      });
      await driver.close();
    });

    it("admits a registered device with a new certificate from a registered signer, and records it", async () => {
      hub.addSigner({ certificate: pki.signer.cert });
      const driver = await Driver.connect(hub.url, { path: "/socket", ...tlsOptions("cert-new") });
      expect(await hub.waitForDevice("cert-new", { state: "connected" })).toMatchObject({
        auth: "certificate",
      });
      await driver.close();
    });

    it("creates the device on first contact when the signer has JITP", async () => {
      await hub.stop();
      hub = await TestHub.start({
        port: 0,
        tls: { key: pki.server.key, cert: pki.server.cert },
        products: [{ name: "jitp-product" }],
        signers: [{ certificate: pki.signer.cert, jitpProduct: "jitp-product" }],
        firmwareServer: false,
      });
      const driver = await Driver.connect(hub.url, tlsOptions("cert-jitp"));
      await hub.waitForDevice("cert-jitp", { state: "connected" });
      expect(hub.device("cert-jitp")).toMatchObject({ product: "jitp-product", connected: true });
      await driver.close();
    });

    it("ignores shared-secret headers when a certificate is presented", async () => {
      const driver = await Driver.connect(hub.url, {
        ...tlsOptions("cert-jitp"),
        headers: { "x-nh-key": "nhp_garbage" },
      });
      expect(await hub.waitForDevice("cert-jitp", { state: "connected" })).toMatchObject({
        auth: "certificate",
      });
      await driver.close();
    });

    it("drops the TLS connection for an unknown signer (the server fails the handshake)", async () => {
      const stranger = await pki.issueDevice("stranger", { selfSigned: true, name: "stranger" });
      const answer = await attemptUpgrade(hub.url, {
        ca: pki.serverCa.cert,
        cert: stranger.cert,
        key: stranger.key,
      });
      expect(answer).toHaveProperty("error");
      expect(await hub.waitForRejection({ status: "tls" })).toMatchObject({ reason: "unknown_ca" });
    });

    it("drops a signer-issued certificate for a device that is not registered (no JITP)", async () => {
      await hub.stop();
      hub = await TestHub.start({
        tls: { key: pki.server.key, cert: pki.server.cert },
        products: [{ name: "acme" }],
        signers: [{ certificate: pki.signer.cert }],
        firmwareServer: false,
      });
      expect(await attemptUpgrade(hub.url, tlsOptions("cert-orphan"))).toHaveProperty("error");
      expect(await hub.waitForRejection({ status: "tls" })).toMatchObject({
        reason: "device_not_registered",
      });
    });

    it("drops an expired certificate for a new device (the hub's clock two years on)", async () => {
      await hub.stop();
      hub = await TestHub.start({
        tls: { key: pki.server.key, cert: pki.server.cert },
        products: [{ name: "acme" }],
        devices: [{ identifier: "cert-orphan", product: "acme" }],
        signers: [{ certificate: pki.signer.cert }],
        clock: () => Date.now() + 2 * 365 * 86_400_000,
        firmwareServer: false,
      });
      expect(await attemptUpgrade(hub.url, tlsOptions("cert-orphan"))).toHaveProperty("error");
      expect(await hub.waitForRejection({ status: "tls" })).toMatchObject({
        reason: "cert_expired",
      });
    });
  });

  describe("TLS without a certificate", () => {
    it("falls through to shared-secret headers, and to 401 no_auth without them", async () => {
      await hub.stop();
      hub = await TestHub.start({
        tls: { key: pki.server.key, cert: pki.server.cert },
        products: [{ name: "acme", sharedSecrets: [{ key: "nhp_tls", secret: "tls-secret" }] }],
        firmwareServer: false,
      });
      const headers = signHeaders({
        key: "nhp_tls",
        secret: "tls-secret",
        identifier: "tls-shared",
        signedAt: Math.floor(Date.now() / 1000),
      });
      const driver = await Driver.connect(hub.url, { ca: pki.serverCa.cert, headers });
      expect(await hub.waitForDevice("tls-shared", { state: "connected" })).toMatchObject({
        auth: "shared_secret",
      });
      await driver.close();
      expect(await attemptUpgrade(hub.url, { ca: pki.serverCa.cert })).toMatchObject({
        status: 401,
      });
    });

    it("pins TLS 1.2 unless TLS 1.3 is allowed", async () => {
      const { connect } = await import("node:tls");
      const negotiated = (port: number) =>
        new Promise<string | null>((resolve, reject) => {
          const socket = connect(
            { port, host: "127.0.0.1", ca: pki.serverCa.cert, servername: "localhost" },
            () => {
              resolve(socket.getProtocol());
              socket.end();
            },
          );
          socket.on("error", reject);
        });
      expect(await negotiated(hub.port)).toBe("TLSv1.2");
      const modern = await TestHub.start({
        tls: { key: pki.server.key, cert: pki.server.cert, allowTls13: true },
        firmwareServer: false,
      });
      try {
        expect(await negotiated(modern.port)).toBe("TLSv1.3");
      } finally {
        await modern.stop();
      }
    });
  });

  describe("firmware over HTTPS", () => {
    it("serves with the server certificate and records a client certificate's CN", async () => {
      const { request } = await import("node:https");
      const server = await FirmwareServer.start({
        tls: { key: pki.server.key, cert: pki.server.cert, ca: pki.signer.cert, requestCert: true },
      });
      try {
        const file = server.serve("/fw/secure.fw", "secure bytes");
        const body = await new Promise<string>((resolve, reject) => {
          request(file.url, tlsOptions("cert-known"), (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => resolve(Buffer.concat(chunks).toString()));
          })
            .on("error", reject)
            .end();
        });
        expect(body).toBe("secure bytes");
        expect(file.url).toMatch(/^https:/);
        expect(server.requests()[0]).toMatchObject({
          clientCertificate: "cert-known",
          status: 200,
        });
      } finally {
        await server.stop();
      }
    });
  });
});
