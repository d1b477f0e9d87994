import { createHash } from "node:crypto";
import { ValidationError } from "@runtime/errors";
import { PropertyTable } from "@runtime/property-table";
import { describe, expect, it } from "vitest";
import { createDispatcher, type DownloadOptions, download } from "../src/index.js";

function issuesOf(url: unknown, options: unknown) {
  try {
    download(url as string, options as DownloadOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues.map((issue) => `${issue.path}: ${issue.reason}`);
  }
  throw new Error("no ValidationError");
}

describe("download() options", () => {
  it("accepts a full, valid set without touching the network", async () => {
    const dispatcher = createDispatcher();
    try {
      const job = download(new URL("https://cdn.example/fw.fw"), {
        retry: { maxDisconnects: 3 },
        maxRedirects: 2,
        sha256: "A".repeat(64),
        size: 10,
        resumeFrom: {
          bytes: 5,
          etag: '"x"',
          lastModified: "Tue, 01 Jan 2026 00:00:00 GMT",
          total: 10,
        },
        resumeHash: createHash("sha256"),
        allowRestart: true,
        headers: { "User-Agent": "device/1.0" },
        signal: new AbortController().signal,
        dispatcher,
        table: new PropertyTable(),
        progressInterval: 0,
        highWaterMark: 1024,
        computeSha256: true,
      });
      expect(job.url).toBe("https://cdn.example/fw.fw");
      expect(job.bytes).toBe(5);
      expect(job.total).toBe(10);
      expect(job.resumeState()).toEqual({
        key: "https://cdn.example/fw.fw",
        bytes: 5,
        etag: '"x"',
        lastModified: "Tue, 01 Jan 2026 00:00:00 GMT",
        total: 10,
      });
    } finally {
      await dispatcher.close();
    }
  });

  it("names every bad field", () => {
    expect(
      issuesOf("ftp://x/y", {
        retry: { idleTimeout: -1 },
        maxRedirects: -1,
        sha256: "abc",
        size: 1.5,
        resumeFrom: -1,
        allowRestart: "yes",
        headers: { range: "bytes=0-", "x-n": 5 },
        signal: {},
        table: {},
        progressInterval: -1,
        highWaterMark: 0,
        computeSha256: 1,
        colour: "red",
      }),
    ).toEqual([
      "url: must use http: or https:",
      "colour: is not a download option",
      "retry.idleTimeout: must be an integer number of milliseconds >= 1",
      "maxRedirects: must be an integer >= 0",
      "sha256: must be 64 hexadecimal digits",
      "size: must be an integer number of bytes >= 0",
      "resumeFrom: must be an integer number of bytes >= 0",
      "allowRestart: must be a boolean",
      "headers.range: is set by the downloader itself",
      "headers.x-n: must be a string",
      "signal: must be an AbortSignal",
      "table: must be a PropertyTable",
      "progressInterval: must be an integer number of ms >= 0",
      "highWaterMark: must be an integer number of bytes >= 1",
      "computeSha256: must be a boolean",
    ]);
  });

  it("checks resume points", () => {
    expect(
      issuesOf("http://x/y", { size: 10, resumeFrom: { bytes: 20, total: 5, etag: "", extra: 1 } }),
    ).toEqual([
      "resumeFrom.extra: is not a resume field",
      "resumeFrom.bytes: is beyond the expected size (10)",
      "resumeFrom.etag: must be a non-empty string",
      "resumeFrom.total: is smaller than resumeFrom.bytes (20)",
    ]);
    expect(issuesOf("http://x/y", { size: 10, resumeFrom: 11 })).toEqual([
      "resumeFrom: is beyond the expected size (10)",
    ]);
    expect(issuesOf("http://x/y", { sha256: "a".repeat(64), resumeFrom: 10 })).toEqual([
      "resumeHash: is needed to verify sha256 when resuming from byte 10: a SHA-256 Hash fed with the bytes already held",
    ]);
  });

  it("checks TLS and proxy settings, and never shows a key", () => {
    const secretKey = "-----BEGIN PRIVATE KEY----- secret";
    expect(
      issuesOf("https://x/y", {
        tls: { ca: 5, cert: [], key: 7, servername: "", rejectUnauthorized: "no", pin: "x" },
        proxy: { uri: "socks://p", token: 5, headers: { a: 1 }, tls: { ca: 1 }, user: "u" },
      }),
    ).toEqual([
      "tls.ca: must be PEM text, a Buffer or a list",
      "tls.cert: must be PEM text, a Buffer or a list",
      "tls.key: must be PEM text, a Buffer or a list",
      "tls.servername: must be a non-empty string",
      "tls.rejectUnauthorized: must be a boolean",
      "tls.pin: is not a TLS setting",
      "proxy.uri: must use http: or https:",
      "proxy.user: is not a proxy setting",
      "proxy.token: must be a string",
      "proxy.headers.a: must be a string",
      "proxy.tls.ca: must be PEM text, a Buffer or a list",
    ]);
    try {
      download("https://x/y", { tls: { key: 7 as never, ca: secretKey } });
    } catch (error) {
      const issue = (error as ValidationError).issues.find((found) => found.path === "tls.key");
      expect(issue?.value).toBe("****");
      expect(String(error)).not.toContain("7");
    }
    expect(issuesOf("http://x/y", { proxy: "not a url" })).toEqual([
      "proxy: must be an absolute http(s) URL",
    ]);
  });

  it("refuses TLS or proxy settings next to a shared dispatcher", async () => {
    const dispatcher = createDispatcher();
    try {
      expect(
        issuesOf("https://x/y", { dispatcher, proxy: "http://p:3128", tls: { ca: "x" } }),
      ).toEqual([
        "tls: cannot be combined with dispatcher: pass it to createDispatcher() instead",
        "proxy: cannot be combined with dispatcher: pass it to createDispatcher() instead",
      ]);
    } finally {
      await dispatcher.close();
    }
  });

  it("rejects options that are not an object and URLs that do not parse", () => {
    expect(issuesOf("http://x/y", 5)).toEqual(["options: must be an object"]);
    expect(issuesOf("/relative", {})).toEqual(["url: must be an absolute http(s) URL"]);
    expect(issuesOf(5, {})).toEqual(["url: must be an http(s) URL string"]);
  });
});
