import { describe, expect, it } from "vitest";
import { decideDeviceJoin, metadataFromDevice, sameFirmware } from "../src/device/join.js";
import { decideExtensionsJoin } from "../src/hub/channels.js";
import { joinPayload } from "./support/driver.js";

const noFirmware = () => undefined;

describe("decideDeviceJoin", () => {
  it("reads a NervesHubLink 2.12 join: API version, metadata, validation, downloads", () => {
    const decision = decideDeviceJoin(joinPayload() as never, noFirmware);
    expect(decision).toMatchObject({
      ok: true,
      deviceApiVersion: "2.3.0",
      validation: "validated",
      autoRevertDetected: false,
      keepInflightUpdate: false,
      firmwareMetadata: {
        uuid: "8a8b902c-d1a9-58aa-6111-04ab57c2f2a8",
        product: "acme",
        version: "0.1.0",
        platform: "rpi4",
        architecture: "aarch64",
        fwup_version: "1.13.2",
      },
      warnings: [],
    });
  });

  it("sanitises a missing or invalid device_api_version to 1.0.0", () => {
    const missing = joinPayload();
    delete missing["device_api_version"];
    expect(decideDeviceJoin(missing as never, noFirmware)).toMatchObject({
      deviceApiVersion: "1.0.0",
    });
    expect(
      decideDeviceJoin(joinPayload({ device_api_version: "2.3" }) as never, noFirmware),
    ).toMatchObject({ deviceApiVersion: "1.0.0" });
  });

  it("crashes the join where the server's code raises", () => {
    expect(decideDeviceJoin([] as never, noFirmware)).toMatchObject({
      ok: false,
      reply: "join crashed",
    });
    expect(
      decideDeviceJoin(joinPayload({ device_api_version: 2 }) as never, noFirmware),
    ).toMatchObject({
      reply: "join crashed",
    });
    expect(decideDeviceJoin(joinPayload({ meta: "x" }) as never, noFirmware)).toMatchObject({
      reply: "join crashed",
    });
    expect(
      decideDeviceJoin(joinPayload({ meta: { firmware_validated: "yes" } }) as never, noFirmware),
    ).toMatchObject({ reply: "join crashed" });
  });

  it("fails the join (could not connect) when the metadata update would be refused", () => {
    expect(
      decideDeviceJoin(
        joinPayload({ meta: { firmware_auto_revert_detected: "maybe" } }) as never,
        noFirmware,
      ),
    ).toMatchObject({ ok: false, reply: "could not connect" });
  });

  it("maps meta.firmware_validated true/false/absent to validated/not_validated/unknown", () => {
    const of = (meta: object) => decideDeviceJoin(joinPayload({ meta }) as never, noFirmware);
    expect(of({ firmware_validated: false })).toMatchObject({ validation: "not_validated" });
    expect(of({})).toMatchObject({ validation: "unknown", autoRevertDetected: false });
    expect(of({ firmware_auto_revert_detected: "true" })).toMatchObject({
      autoRevertDetected: true,
    });
  });

  it("keeps the in-flight update only for a non-empty currently_downloading_uuid", () => {
    const of = (uuid: unknown) =>
      decideDeviceJoin(joinPayload({ currently_downloading_uuid: uuid }) as never, noFirmware);
    expect(of("abc")).toMatchObject({ keepInflightUpdate: true, currentlyDownloadingUuid: "abc" });
    expect(of("")).toMatchObject({ keepInflightUpdate: false });
    expect(of(null)).toMatchObject({ keepInflightUpdate: false });
  });

  it("notes on_connect key requests", () => {
    expect(
      decideDeviceJoin(
        joinPayload({ fwup_public_keys: "on_connect", archive_public_keys: "on_connect" }) as never,
        noFirmware,
      ),
    ).toMatchObject({ requestedFwupPublicKeys: true, requestedArchivePublicKeys: true });
  });
});

describe("metadataFromDevice", () => {
  const known = {
    architecture: "arm",
    author: null,
    description: null,
    misc: null,
    platform: "bbb",
    product: "acme",
    uuid: "known-uuid",
    vcs_identifier: null,
    version: "9.9.9",
  };

  it("falls back to the stored firmware when required fields are missing or blank", () => {
    const lookup = (uuid: unknown) => (uuid === "known-uuid" ? known : undefined);
    expect(metadataFromDevice({ nerves_fw_uuid: "known-uuid" }, lookup)).toEqual(known);
    expect(
      metadataFromDevice(
        { ...joinPayload({ nerves_fw_uuid: "known-uuid", nerves_fw_platform: " " }) } as never,
        lookup,
      ),
    ).toEqual(known);
    expect(metadataFromDevice({ nerves_fw_uuid: "other" }, lookup)).toBeNull();
    expect(metadataFromDevice({}, lookup)).toBeNull();
  });

  it("treats blank optional fields as null and refuses non-strings", () => {
    const metadata = metadataFromDevice(joinPayload({ nerves_fw_author: "" }) as never, noFirmware);
    expect(metadata?.author).toBeNull();
    expect(
      metadataFromDevice(joinPayload({ nerves_fw_version: 1 }) as never, noFirmware),
    ).toBeNull();
  });

  it("sameFirmware compares non-null uuids", () => {
    expect(sameFirmware(known, { ...known, version: "other" })).toBe(true);
    expect(sameFirmware(null, known)).toBe(false);
    expect(sameFirmware(known, null)).toBe(false);
  });
});

describe("decideExtensionsJoin", () => {
  const allowed = new Set(["health", "geo", "logging"] as const);
  it("attaches allowed extensions with a ~> 0.0.1 version, sorted", () => {
    const decision = decideExtensionsJoin(
      {
        health: "0.0.1",
        geo: "0.0.3",
        local_shell: "0.0.1",
        network_identity: "0.1.0",
        logging: "0.0.1",
      },
      new Set(allowed),
      false,
    );
    expect(decision).toMatchObject({ ok: true, attach: ["geo", "health"] });
  });
  it("attaches logging only with analytics on; crashes on non-string versions", () => {
    expect(decideExtensionsJoin({ logging: "0.0.1" }, new Set(allowed), true)).toMatchObject({
      attach: ["logging"],
    });
    expect(decideExtensionsJoin({ health: 1 }, new Set(allowed), false)).toEqual({ ok: false });
    expect(decideExtensionsJoin(["health"], new Set(allowed), false)).toEqual({ ok: false });
  });
});
