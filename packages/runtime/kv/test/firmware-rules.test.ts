import { DeviceError } from "@runtime/errors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  activeSlot,
  autoRevertDetected,
  firmwareMetadata,
  isFirmwareValid,
  otherSlot,
  revertChanges,
  slotEntries,
  slotsFromEntries,
  slotsFromFwupStatus,
  validationChanges,
  validationStatus,
} from "../src/index.js";

const DEVICE = {
  nerves_fw_active: "b",
  "a.nerves_fw_version": "1.0.0",
  "a.nerves_fw_platform": "rpi4",
  "a.nerves_fw_architecture": "aarch64",
  "b.nerves_fw_version": "1.1.0",
  "b.nerves_fw_uuid": "8a8b902c-d1a9-58aa-6111-04ab57c2f2a8",
  "b.nerves_fw_product": "thermostat",
  "b.nerves_fw_platform": "rpi4",
  "b.nerves_fw_architecture": "aarch64",
  "b.nerves_fw_author": "ACME",
  "b.nerves_fw_description": "test firmware",
  "b.nerves_fw_vcs_identifier": "a1b2c3d",
  "b.nerves_fw_misc": "extra",
  "b.nerves_fw_application_part0_devpath": "/dev/mmcblk0p3",
  "b.other": "not firmware",
};

describe("slots and metadata", () => {
  it("active slot: nerves_fw_active, else a (also when empty)", () => {
    expect(activeSlot(DEVICE)).toBe("b");
    expect(activeSlot({})).toBe("a");
    expect(activeSlot({ nerves_fw_active: "" })).toBe("a");
  });

  it("otherSlot swaps a and b, other names map to themselves", () => {
    expect([otherSlot("a"), otherSlot("b"), otherSlot("c")]).toEqual(["b", "a", "c"]);
  });

  it("slotEntries strips the slot prefix", () => {
    expect(slotEntries(DEVICE, "a")).toEqual({
      nerves_fw_version: "1.0.0",
      nerves_fw_platform: "rpi4",
      nerves_fw_architecture: "aarch64",
    });
  });

  it("firmwareMetadata gives the typed view and every nerves_fw_ field", () => {
    expect(firmwareMetadata(DEVICE, "b")).toEqual({
      slot: "b",
      version: "1.1.0",
      uuid: "8a8b902c-d1a9-58aa-6111-04ab57c2f2a8",
      product: "thermostat",
      platform: "rpi4",
      architecture: "aarch64",
      author: "ACME",
      description: "test firmware",
      vcsIdentifier: "a1b2c3d",
      misc: "extra",
      validated: undefined,
      fields: {
        version: "1.1.0",
        uuid: "8a8b902c-d1a9-58aa-6111-04ab57c2f2a8",
        product: "thermostat",
        platform: "rpi4",
        architecture: "aarch64",
        author: "ACME",
        description: "test firmware",
        vcs_identifier: "a1b2c3d",
        misc: "extra",
        application_part0_devpath: "/dev/mmcblk0p3",
      },
    });
    expect(firmwareMetadata({}, "a").version).toBeUndefined();
  });
});

describe("validationStatus (nerves_runtime's rule)", () => {
  it.each([
    [{ upgrade_available: "0", nerves_fw_validated: "0" }, "validated"],
    [{ upgrade_available: "1", nerves_fw_validated: "1" }, "unvalidated"],
    [{ upgrade_available: "2", nerves_fw_validated: "1" }, "validated"],
    [{ "a.nerves_fw_validated": "1", nerves_fw_validated: "0" }, "validated"],
    [{ "a.nerves_fw_validated": "0", nerves_fw_validated: "1" }, "unvalidated"],
    [{ "b.nerves_fw_validated": "0", nerves_fw_validated: "1" }, "validated"],
    [{ "a.nerves_fw_validated": "", nerves_fw_validated: "1" }, "unknown"],
    [{ nerves_fw_validated: "1" }, "validated"],
    [{ nerves_fw_validated: "0" }, "unvalidated"],
    [{ nerves_fw_validated: "yes" }, "unknown"],
    [{}, "unknown"],
  ] as const)("%j → %s", (entries, status) => {
    expect(validationStatus(entries)).toBe(status);
  });

  it("uses the active slot's key", () => {
    const entries = {
      nerves_fw_active: "b",
      "a.nerves_fw_validated": "0",
      "b.nerves_fw_validated": "1",
    };
    expect(validationStatus(entries)).toBe("validated");
    expect(validationStatus(entries, "a")).toBe("unvalidated");
  });

  it("isFirmwareValid is false only for unvalidated", () => {
    expect(isFirmwareValid({})).toBe(true);
    expect(isFirmwareValid({ nerves_fw_validated: "1" })).toBe(true);
    expect(isFirmwareValid({ upgrade_available: "1" })).toBe(false);
  });

  it("is always one of the three values and agrees with isFirmwareValid (property)", () => {
    const value = fc.constantFrom("0", "1", "", "x");
    fc.assert(
      fc.property(
        fc.record(
          {
            upgrade_available: value,
            nerves_fw_validated: value,
            "a.nerves_fw_validated": value,
            "b.nerves_fw_validated": value,
            nerves_fw_active: fc.constantFrom("a", "b"),
          },
          { requiredKeys: [] },
        ),
        (entries) => {
          const status = validationStatus(entries);
          expect(["validated", "unvalidated", "unknown"]).toContain(status);
          expect(isFirmwareValid(entries)).toBe(status !== "unvalidated");
          // Applying the fallback validation always yields "validated".
          expect(validationStatus({ ...entries, ...validationChanges(entries) })).toBe("validated");
        },
      ),
    );
  });
});

describe("slotsFromEntries", () => {
  it("next is the active slot unless unvalidated", () => {
    expect(slotsFromEntries({ nerves_fw_active: "b" })).toEqual({
      active: "b",
      next: "b",
      source: "kv",
    });
    expect(slotsFromEntries({ nerves_fw_active: "b", upgrade_available: "1" })).toEqual({
      active: "b",
      next: "a",
      source: "kv",
    });
  });
});

describe("validationChanges", () => {
  it("bootcount systems: upgrade_available=0, bootcount=0 and the global flag", () => {
    expect(validationChanges({ upgrade_available: "1", bootcount: "2" })).toEqual({
      upgrade_available: "0",
      bootcount: "0",
      nerves_fw_validated: "1",
    });
  });

  it("otherwise the global flag, plus the active slot's key when the system keeps one", () => {
    expect(validationChanges({})).toEqual({ nerves_fw_validated: "1" });
    expect(validationChanges({ nerves_fw_active: "b", "b.nerves_fw_validated": "0" })).toEqual({
      nerves_fw_validated: "1",
      "b.nerves_fw_validated": "1",
    });
  });
});

describe("revertChanges", () => {
  it("switches to the other slot when it holds compatible firmware", () => {
    expect(revertChanges(DEVICE)).toEqual({ nerves_fw_active: "a", nerves_fw_validated: "1" });
    expect(revertChanges({ ...DEVICE, upgrade_available: "1" })).toEqual({
      nerves_fw_active: "a",
      nerves_fw_validated: "1",
      upgrade_available: "0",
      bootcount: "0",
    });
  });

  it.each([
    [{ nerves_fw_active: "b" }, /slot a holds no firmware/],
    [{ ...DEVICE, "a.nerves_fw_platform": "bbb" }, /platform bbb, not rpi4/],
    [{ ...DEVICE, "a.nerves_fw_architecture": "arm" }, /architecture arm, not aarch64/],
    [{ ...DEVICE, "a.nerves_fw_validated": "0" }, /never validated/],
    [{ nerves_fw_active: "c" }, /no A\/B partner/],
  ])("refuses %#: %s", (entries, reason) => {
    try {
      revertChanges(entries);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DeviceError);
      expect((error as DeviceError).code).toBe("REVERT_UNAVAILABLE");
      expect((error as Error).message).toMatch(reason);
    }
  });
});

describe("autoRevertDetected (NervesHubLink's rule)", () => {
  it("is true when the other slot holds rejected firmware", () => {
    expect(
      autoRevertDetected({ ...DEVICE, nerves_fw_active: "a", "b.nerves_fw_validated": "0" }),
    ).toBe(true);
    expect(autoRevertDetected({ ...DEVICE, nerves_fw_active: "a" })).toBe(false);
    expect(autoRevertDetected({ nerves_fw_active: "a", "b.nerves_fw_validated": "0" })).toBe(false);
  });
});

describe("slotsFromFwupStatus", () => {
  const wn = (text: string) => ({ type: "WN" as const, code: 0, text });
  it("reads the first WN record that is a slot or x->y", () => {
    expect(slotsFromFwupStatus([wn("a")])).toEqual({ active: "a", next: "a", source: "fwup" });
    expect(slotsFromFwupStatus([wn("Some info"), wn("a->b"), wn("b")])).toEqual({
      active: "a",
      next: "b",
      source: "fwup",
    });
    expect(slotsFromFwupStatus([{ type: "OK", code: 0, text: "a" }])).toBeUndefined();
    expect(slotsFromFwupStatus([wn("ab"), wn("a->"), wn("")])).toBeUndefined();
  });
});
