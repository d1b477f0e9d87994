import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildUpdatePayload,
  firmwareChecksums,
  noUpdatePayload,
  PARTIAL_CHECKSUM_SIZE,
} from "../src/update-payload.js";

const meta = {
  uuid: "u-1",
  product: "acme",
  version: "1.4.0",
  platform: "rpi4",
  architecture: "aarch64",
};

describe("firmwareChecksums", () => {
  it("gives the upper-case SHA-256 of the file and of each 1 MiB slice", () => {
    const data = new Uint8Array(PARTIAL_CHECKSUM_SIZE * 2 + 10).map((_, index) => index % 251);
    const sums = firmwareChecksums(data);
    const sha = (bytes: Uint8Array) =>
      createHash("sha256").update(bytes).digest("hex").toUpperCase();
    expect(sums.size).toBe(data.length);
    expect(sums.checksum).toBe(sha(data));
    expect(sums.checksum).toMatch(/^[0-9A-F]{64}$/);
    expect(sums.partialsChecksums).toEqual([
      sha(data.subarray(0, PARTIAL_CHECKSUM_SIZE)),
      sha(data.subarray(PARTIAL_CHECKSUM_SIZE, 2 * PARTIAL_CHECKSUM_SIZE)),
      sha(data.subarray(2 * PARTIAL_CHECKSUM_SIZE)),
    ]);
  });

  it("knows the SHA-256 of 'test' and has no partials for an empty file", () => {
    expect(firmwareChecksums(new Uint8Array(Buffer.from("test"))).checksum).toBe(
      "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
    );
    expect(firmwareChecksums(new Uint8Array()).partialsChecksums).toEqual([]);
  });

  it("property: one partial per started MiB", () => {
    fc.assert(
      fc.property(fc.nat({ max: 3 * PARTIAL_CHECKSUM_SIZE }), (size) => {
        expect(firmwareChecksums(new Uint8Array(size)).partialsChecksums).toHaveLength(
          Math.ceil(size / PARTIAL_CHECKSUM_SIZE),
        );
      }),
      { numRuns: 20 },
    );
  });
});

describe("buildUpdatePayload", () => {
  it("has the seven fields in the server's order and null deployment for manual pushes", () => {
    const payload = buildUpdatePayload({
      url: "http://h/f.fw",
      meta,
      data: new Uint8Array(Buffer.from("test")),
    });
    expect(Object.keys(payload)).toEqual([
      "update_available",
      "firmware_url",
      "firmware_meta",
      "size",
      "checksum",
      "partials_checksums",
      "deployment_id",
    ]);
    expect(Object.keys(payload.firmware_meta!)).toEqual([
      "architecture",
      "author",
      "description",
      "misc",
      "platform",
      "product",
      "uuid",
      "vcs_identifier",
      "version",
    ]);
    expect(payload).toMatchObject({ update_available: true, size: 4, deployment_id: null });
    expect(payload.firmware_meta).not.toHaveProperty("fwup_version");
  });

  it("wraps the URL for an organisation firmware proxy", () => {
    const payload = buildUpdatePayload({
      url: "http://h/f.fw",
      meta,
      data: new Uint8Array(1),
      deploymentId: 42,
      firmwareProxyUrl: "https://proxy/fw",
    });
    expect(payload.firmware_url).toBe(
      `https://proxy/fw?firmware=${Buffer.from("http://h/f.fw").toString("base64url")}`,
    );
    expect(payload.deployment_id).toBe(42);
  });

  it("noUpdatePayload has update_available false and nulls", () => {
    expect(noUpdatePayload()).toMatchObject({
      update_available: false,
      firmware_url: null,
      firmware_meta: null,
    });
  });
});
