import { buildUpdatePayload } from "@hublink/test-hub";
import { ValidationError } from "@runtime/errors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseUpdateInfo, redactUrl } from "../src/update-info.js";

const HEX = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";

const valid = {
  update_available: true,
  firmware_url: "https://bucket.example/fw/1.fw?X-Amz-Signature=abc",
  firmware_meta: {
    architecture: "aarch64",
    author: "Acme",
    description: "prod build",
    misc: null,
    platform: "rpi4",
    product: "acme_gateway",
    uuid: "5e1e8d6a-1c2f-5d7e-9a0b-4c3d2e1f0a9b",
    vcs_identifier: "a1b2c3d",
    version: "1.4.0",
  },
  size: 2097152,
  checksum: HEX,
  partials_checksums: [HEX, HEX.toLowerCase()],
  deployment_id: 42,
};

describe("parseUpdateInfo (reference §5.1)", () => {
  it("reads the reference's example payload", () => {
    const result = parseUpdateInfo(valid);
    expect(result).toEqual({
      ok: true,
      value: {
        firmwareUrl: valid.firmware_url,
        firmwareMeta: {
          uuid: valid.firmware_meta.uuid,
          version: "1.4.0",
          product: "acme_gateway",
          platform: "rpi4",
          architecture: "aarch64",
          author: "Acme",
          description: "prod build",
          misc: null,
          vcsIdentifier: "a1b2c3d",
          fwupVersion: null,
        },
        size: 2097152,
        checksum: HEX,
        partialsChecksums: [HEX, HEX],
        deploymentId: 42,
      },
    });
  });

  it("reads what the test hub (the server's UpdatePayload) builds", () => {
    const payload = buildUpdatePayload({
      url: "http://127.0.0.1:1/fw",
      meta: { uuid: "u-1", product: "p", version: "1", platform: "x", architecture: "y" },
      data: new Uint8Array(3),
    });
    const result = parseUpdateInfo(payload);
    expect(result.ok).toBe(true);
  });

  it("accepts an older server's payload (only url and meta)", () => {
    const result = parseUpdateInfo({
      update_available: true,
      firmware_url: "http://h/fw",
      firmware_meta: { uuid: "u" },
    });
    expect(result).toMatchObject({
      ok: true,
      value: { size: null, checksum: null, partialsChecksums: [], deploymentId: null },
    });
  });

  it.each([
    ["not an object", "update", ""],
    [
      "update_available false",
      { ...valid, update_available: false, firmware_url: null, firmware_meta: null },
      "update_available",
    ],
    ["missing url", { ...valid, firmware_url: undefined }, "firmware_url"],
    ["ftp url", { ...valid, firmware_url: "ftp://h/fw" }, "firmware_url"],
    ["relative url", { ...valid, firmware_url: "/fw" }, "firmware_url"],
    ["meta not an object", { ...valid, firmware_meta: [] }, "firmware_meta"],
    [
      "empty uuid",
      { ...valid, firmware_meta: { ...valid.firmware_meta, uuid: " " } },
      "firmware_meta.uuid",
    ],
    [
      "numeric version",
      { ...valid, firmware_meta: { ...valid.firmware_meta, version: 1 } },
      "firmware_meta.version",
    ],
    ["negative size", { ...valid, size: -1 }, "size"],
    ["fractional size", { ...valid, size: 1.5 }, "size"],
    ["short checksum", { ...valid, checksum: "ABC" }, "checksum"],
    ["partials not a list", { ...valid, partials_checksums: "x" }, "partials_checksums"],
    ["bad partial", { ...valid, partials_checksums: [HEX, 7] }, "partials_checksums[1]"],
    ["deployment id string", { ...valid, deployment_id: "42" }, "deployment_id"],
  ])("refuses %s, naming the field", (_name, payload, path) => {
    const result = parseUpdateInfo(payload);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toBeInstanceOf(ValidationError);
      expect(result.error.code).toBe("INVALID_UPDATE");
      expect(result.error.issues.map((issue) => issue.path)).toContain(path);
    }
  });

  it("never shows the presigned query of a URL", () => {
    expect(redactUrl("https://h/fw?X-Amz-Signature=secret")).toBe("https://h/fw?****");
    expect(redactUrl("https://user:pw@h/fw")).toBe("https://****@h/fw");
    expect(redactUrl("::")).toBe("****");
    const result = parseUpdateInfo({ ...valid, firmware_url: "ftp://h/fw?token=secret" });
    expect(JSON.stringify(!result.ok && result.error.issues)).not.toContain("secret");
  });

  it("never throws, and accepts exactly the payloads whose checked fields are well-formed", () => {
    const hex = fc.stringMatching(/^[0-9A-F]{64}$/);
    const field = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.string(),
      fc.integer(),
      fc.boolean(),
    );
    fc.assert(
      fc.property(
        fc.record(
          {
            update_available: fc.oneof(
              fc.constant(true),
              fc.constant(false),
              fc.constant(undefined),
            ),
            firmware_url: fc.oneof(fc.webUrl(), fc.string(), fc.constant(null)),
            firmware_meta: fc.oneof(
              fc.record(
                { uuid: fc.oneof(fc.uuid(), fc.string(), fc.integer()), version: field },
                { requiredKeys: [] },
              ),
              fc.constant(null),
              fc.array(fc.string()),
            ),
            size: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constant(null)),
            checksum: fc.oneof(hex, fc.string(), fc.constant(null)),
            partials_checksums: fc.oneof(
              fc.array(hex, { maxLength: 3 }),
              fc.array(fc.string(), { maxLength: 2 }),
            ),
            deployment_id: fc.oneof(fc.integer(), fc.constant(null), fc.string()),
          },
          { requiredKeys: [] },
        ),
        (payload) => {
          const result = parseUpdateInfo(payload);
          const meta = payload.firmware_meta as Record<string, unknown> | null | undefined;
          let urlOk = false;
          try {
            const url = new URL(payload.firmware_url as string);
            urlOk =
              typeof payload.firmware_url === "string" &&
              (url.protocol === "http:" || url.protocol === "https:");
          } catch {}
          const expectedOk =
            payload.update_available !== false &&
            urlOk &&
            typeof meta === "object" &&
            meta !== null &&
            !Array.isArray(meta) &&
            typeof meta.uuid === "string" &&
            meta.uuid.trim() !== "" &&
            (meta.version === undefined ||
              meta.version === null ||
              typeof meta.version === "string") &&
            (payload.size === undefined ||
              payload.size === null ||
              (Number.isSafeInteger(payload.size) && payload.size >= 0)) &&
            (payload.checksum === undefined ||
              payload.checksum === null ||
              /^[0-9a-fA-F]{64}$/.test(payload.checksum)) &&
            (payload.partials_checksums === undefined ||
              payload.partials_checksums.every((item) => /^[0-9a-fA-F]{64}$/.test(item))) &&
            (payload.deployment_id === undefined ||
              payload.deployment_id === null ||
              Number.isSafeInteger(payload.deployment_id));
          expect(result.ok).toBe(expectedOk);
          if (result.ok) {
            expect(result.value.firmwareMeta.uuid).toBe(meta?.uuid);
            expect(result.value.firmwareUrl).toBe(payload.firmware_url);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
