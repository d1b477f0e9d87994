import { DEFAULT_RETRY_CONFIG } from "@hublink/downloader";
import { REDACTED, ValidationError } from "@runtime/errors";
import { describe, expect, it } from "vitest";
import { normalizeConfig, resolveSharedSecret, socketEndpoint } from "../src/config.js";

const KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyFakeKeyFake=";

function issues(input: unknown): ValidationError {
  try {
    normalizeConfig(input);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error("expected a ValidationError");
}

describe("configuration", () => {
  it("fills NervesHubLink's defaults", () => {
    const config = normalizeConfig({
      host: "hub.example.com",
      sharedSecret: { productKey: "nhp_x", productSecret: "s" },
    });
    expect(config).toMatchObject({
      host: "wss://hub.example.com",
      dataPath: "/data/nerves-hub",
      heartbeatIntervalMs: 30_000,
      rejoinAfterMs: 5_000,
      compress: true,
      connect: true,
      connectWaitForNetwork: true,
      networkCheckIntervalMs: 3_000,
      backoff: { minMs: 1000, maxMs: 60_000, jitter: 0.5 },
      fwup: {
        path: "fwup",
        task: "upgrade",
        publicKeys: [],
        extraOptions: [],
        requestPublicKeys: false,
      },
      rescheduleUnit: "milliseconds",
      validationPollMs: 10_000,
    });
    expect(socketEndpoint(config)).toBe("wss://hub.example.com/device-socket");
  });

  it("reads hosts with scheme, port and path", () => {
    const cert = { certificate: {} };
    expect(normalizeConfig({ host: "hub:4001", ...cert }).host).toBe("wss://hub:4001");
    expect(normalizeConfig({ host: "ws://127.0.0.1:4000/", ...cert }).host).toBe(
      "ws://127.0.0.1:4000",
    );
    expect(normalizeConfig({ host: "https://hub", ...cert }).host).toBe("wss://hub");
    const custom = normalizeConfig({ host: "wss://hub/custom/websocket", ...cert });
    expect(custom.host).toBe("wss://hub/custom");
    expect(socketEndpoint(custom)).toBe("wss://hub/custom");
    expect(socketEndpoint(normalizeConfig({ host: "hub", ...cert }))).toBe("wss://hub/socket");
  });

  it.each([
    [{}, "host"],
    [{ host: "ftp://hub", certificate: {} }, "host"],
    [{ host: "wss://hub?x=1", certificate: {} }, "host"],
    [{ host: "hub" }, "sharedSecret"],
    [{ host: "hub", sharedSecret: {}, certificate: {} }, "certificate"],
    [
      { host: "hub", sharedSecret: { productKey: "nhd_x", productSecret: "s" } },
      "sharedSecret.productKey",
    ],
    [{ host: "hub", sharedSecret: { productKey: "nhp_x" } }, "sharedSecret.productSecret"],
    [{ host: "hub", sharedSecret: { key: "nhd_x" } }, "sharedSecret.secret"],
    [{ host: "hub", sharedSecret: { digest: "md5" } }, "sharedSecret.digest"],
    [{ host: "hub", sharedSecret: { iterations: 0 } }, "sharedSecret.iterations"],
    [{ host: "hub", sharedSecret: { secrett: "typo" } }, "sharedSecret.secrett"],
    [{ host: "hub", certificate: { cert: 5 } }, "certificate.cert"],
    [{ host: "hub", certificate: { cert: "PEM", certPath: "/x" } }, "certificate.certPath"],
    [{ host: "hub", certificate: {}, tls: { ca: [] } }, "tls.ca"],
    [{ host: "hub", certificate: {}, tls: { minVersion: "TLSv1.1" } }, "tls.minVersion"],
    [{ host: "hub", certificate: {}, heartbeatIntervalMs: -5 }, "heartbeatIntervalMs"],
    [{ host: "hub", certificate: {}, compress: "yes" }, "compress"],
    [{ host: "hub", certificate: {}, proxy: "socks5://p:1080" }, "proxy"],
    [{ host: "hub", certificate: {}, params: { a: 1 } }, "params.a"],
    [{ host: "hub", certificate: {}, backoff: { minMs: 10, maxMs: 5 } }, "backoff.maxMs"],
    [{ host: "hub", certificate: {}, backoff: { jitter: -1 } }, "backoff.jitter"],
    [{ host: "hub", certificate: {}, fwup: { publicKeys: ["short"] } }, "fwup.publicKeys[0]"],
    [{ host: "hub", certificate: {}, fwup: { extraOptions: "--unsafe" } }, "fwup.extraOptions"],
    [{ host: "hub", certificate: {}, rescheduleUnit: "hours" }, "rescheduleUnit"],
    [{ host: "hub", certificate: {}, heartbeat: 5 }, "heartbeat"],
    [{ host: "hub", certificate: {}, downloader: "fast" }, "downloader"],
    [{ host: "hub", certificate: {}, downloader: { retries: 3 } }, "downloader.retries"],
    [
      { host: "hub", certificate: {}, downloader: { retry: { idleTimeout: 0 } } },
      "downloader.retry.idleTimeout",
    ],
    [
      { host: "hub", certificate: {}, downloader: { retry: { max_disconnects: 3 } } },
      "downloader.retry.max_disconnects",
    ],
    [{ host: "hub", certificate: {}, downloader: { tls: { ca: 5 } } }, "downloader.tls.ca"],
    [{ host: "hub", certificate: {}, downloader: { proxy: "socks5://p" } }, "downloader.proxy"],
  ])("refuses %j naming %s", (input, path) => {
    const error = issues(input);
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.issues.map((issue) => issue.path)).toContain(path);
  });

  it("lists every problem at once and never shows a secret", () => {
    const error = issues({ host: "", sharedSecret: { key: "nhd_k", secret: 42 }, compress: 1 });
    expect(error.issues.map((issue) => issue.path)).toEqual(
      expect.arrayContaining(["host", "sharedSecret.secret", "compress"]),
    );
    expect(error.message + JSON.stringify(error.issues)).not.toContain("42");
  });

  it("accepts fwup settings", () => {
    const config = normalizeConfig({
      host: "hub",
      certificate: { certPath: "/data/cert.pem", keyPath: "/data/key.pem" },
      fwup: {
        publicKeys: [KEY],
        devpath: "/dev/mmcblk1",
        task: "complete",
        env: { A: "1" },
        extraOptions: ["--unsafe"],
      },
    });
    expect(config.fwup).toMatchObject({
      publicKeys: [KEY],
      devpath: "/dev/mmcblk1",
      task: "complete",
      env: { A: "1" },
    });
  });
});

describe("downloader settings", () => {
  const base = { host: "hub", certificate: {} };

  it("defaults to @hublink/downloader's retry configuration (NervesHubLink's)", () => {
    expect(normalizeConfig(base).downloader).toEqual({
      retry: DEFAULT_RETRY_CONFIG,
      tls: undefined,
      proxy: undefined,
    });
    expect(DEFAULT_RETRY_CONFIG).toMatchObject({
      maxDisconnects: 10,
      idleTimeout: 60_000,
      maxTimeout: 86_400_000,
      timeBetweenRetries: 15_000,
      worstCaseDownloadSpeed: 30_000,
    });
  });

  it("completes a partial retry configuration and keeps TLS and proxy settings", () => {
    const tls = { ca: "-----BEGIN CERTIFICATE-----", servername: "firmware.example" };
    const config = normalizeConfig({
      ...base,
      downloader: {
        retry: { maxDisconnects: 3, timeBetweenRetries: 50 },
        tls,
        proxy: { uri: "http://proxy:3128", token: "Bearer t" },
      },
    });
    expect(config.downloader).toEqual({
      retry: { ...DEFAULT_RETRY_CONFIG, maxDisconnects: 3, timeBetweenRetries: 50 },
      tls,
      proxy: { uri: "http://proxy:3128", token: "Bearer t" },
    });
    // The configurator hook gets this back and it is validated again.
    expect(normalizeConfig(config).downloader).toEqual(config.downloader);
    expect(normalizeConfig({ ...base, downloader: { proxy: false } }).downloader.proxy).toBe(false);
  });

  it("names the field with the downloader's own reason and hides secrets", () => {
    const error = issues({
      ...base,
      downloader: { retry: { max_disconnects: 3 }, tls: { key: 42 } },
    });
    expect(error.issues).toEqual([
      {
        path: "downloader.retry.max_disconnects",
        value: 3,
        reason: "is not a retry setting; did you mean maxDisconnects?",
      },
      expect.objectContaining({ path: "downloader.tls.key", value: REDACTED }),
    ]);
  });
});

describe("shared-secret lookup (Link's order, KV first)", () => {
  const settings = { productKey: "nhp_cfg", productSecret: "ps", key: "nhd_cfg", secret: "ds" };
  it("prefers a device key, KV over config", () => {
    expect(resolveSharedSecret(settings, () => undefined)).toEqual({
      key: "nhd_cfg",
      secret: "ds",
    });
    const kv: Record<string, string> = { nh_shared_key: "nhd_kv", nh_shared_secret: "kvs" };
    expect(resolveSharedSecret(settings, (key) => kv[key])).toEqual({
      key: "nhd_kv",
      secret: "kvs",
    });
  });
  it("falls back to the product key", () => {
    expect(
      resolveSharedSecret({ productKey: "nhp_cfg", productSecret: "ps" }, () => undefined),
    ).toEqual({ key: "nhp_cfg", secret: "ps" });
    const kv: Record<string, string> = {
      nh_shared_product_key: "nhp_kv",
      nh_shared_product_secret: "kps",
    };
    expect(resolveSharedSecret({}, (key) => kv[key])).toEqual({ key: "nhp_kv", secret: "kps" });
  });
  it("names what is missing", () => {
    expect(() => resolveSharedSecret({}, () => undefined)).toThrow(/sharedSecret.productKey/);
    expect(() => resolveSharedSecret({ key: "nhd_x" }, () => undefined)).toThrow(
      /sharedSecret.secret/,
    );
  });
});
