import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildJoinPayload, DEVICE_API_VERSION } from "../src/join.js";

describe("device join payload (reference §3.1)", () => {
  const base = {
    activeFirmware: { nerves_fw_uuid: "u-1", nerves_fw_version: "1.0.0", nerves_fw_product: "p" },
    fwupVersion: "1.13.2",
    currentlyDownloadingUuid: null,
    firmwareValidated: true,
    autoRevertDetected: false,
    requestFwupPublicKeys: false,
    requestArchivePublicKeys: false,
    params: {},
  };

  it("carries the active firmware, versions, the downloading uuid and meta", () => {
    expect(buildJoinPayload(base)).toEqual({
      nerves_fw_uuid: "u-1",
      nerves_fw_version: "1.0.0",
      nerves_fw_product: "p",
      fwup_version: "1.13.2",
      device_api_version: "2.3.0",
      currently_downloading_uuid: null,
      meta: { firmware_validated: true, firmware_auto_revert_detected: false },
    });
    expect(DEVICE_API_VERSION).toBe("2.3.0");
  });

  it("asks for keys on connect when requested and leaves fwup_version out without fwup", () => {
    const payload = buildJoinPayload({
      ...base,
      fwupVersion: undefined,
      requestFwupPublicKeys: true,
      requestArchivePublicKeys: true,
      currentlyDownloadingUuid: "u-2",
      firmwareValidated: false,
      autoRevertDetected: true,
    });
    expect(payload).toMatchObject({
      fwup_public_keys: "on_connect",
      archive_public_keys: "on_connect",
      currently_downloading_uuid: "u-2",
      meta: { firmware_validated: false, firmware_auto_revert_detected: true },
    });
    expect(payload).not.toHaveProperty("fwup_version");
  });

  it("lets protocol keys win over configured params", () => {
    const payload = buildJoinPayload({
      ...base,
      params: { update_tool: "app_slot", device_api_version: "9.9.9", nerves_fw_uuid: "spoof" },
    });
    expect(payload).toMatchObject({
      update_tool: "app_slot",
      device_api_version: "2.3.0",
      nerves_fw_uuid: "u-1",
    });
  });

  it("is JSON-serializable and has only string, null or meta values for any firmware", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.string()), (firmware) => {
        const payload = buildJoinPayload({ ...base, activeFirmware: firmware });
        expect(JSON.parse(JSON.stringify(payload))).toEqual(payload);
      }),
    );
  });
});
