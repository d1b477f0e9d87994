import { pbkdf2Sync } from "node:crypto";
import { ValidationError } from "@runtime/errors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { derivePsk } from "../src/index.js";

describe("derivePsk", () => {
  // IEEE 802.11i-2004 Annex H.4 (IEEE 802.11-2020 J.4.2) test vectors.
  it.each([
    ["password", "IEEE", "F42C6FC52DF0EBEF9EBB4B90B38A5F902E83FE1B135A70E23AED762E9710A12E"],
    [
      "ThisIsAPassword",
      "ThisIsASSID",
      "0DC0D6EB90555ED6419756B9A15EC3E3209B63DF707DD508D14581F8982721AF",
    ],
    [
      "a".repeat(32),
      "Z".repeat(32),
      "BECB93866BB8C3832CB777C2F559807C8C59AFCB6EAE734885001300A981CC62",
    ],
  ])("derives the IEEE test vector for passphrase %j and SSID %j", (passphrase, ssid, psk) => {
    expect(derivePsk(ssid, passphrase)).toBe(psk);
  });

  it("takes the SSID as bytes: UTF-8 text and the same bytes give the same PSK", () => {
    const ssid = "Café ☕";
    expect(derivePsk(new TextEncoder().encode(ssid), "password1")).toBe(
      derivePsk(ssid, "password1"),
    );
  });

  it("passes a raw 64-hex PSK through, uppercased", () => {
    const raw = "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e";
    expect(derivePsk("anything", raw)).toBe(raw.toUpperCase());
  });

  it.each([
    ["1234567", "must be 8..63 characters"],
    ["x".repeat(63) + "y".repeat(0), undefined],
    ["x".repeat(65), "must be 8..63 characters"],
    ["g".repeat(64), "64-character PSK must be all hex digits"],
    ["pässword", "printable ASCII"],
    ["pass\tword", "printable ASCII"],
  ])("checks the passphrase %j", (passphrase, reason) => {
    if (reason === undefined) {
      expect(derivePsk("ssid", passphrase)).toMatch(/^[0-9A-F]{64}$/);
      return;
    }
    const error = (() => {
      try {
        derivePsk("ssid", passphrase);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).path).toBe("psk");
    expect((error as ValidationError).reason).toContain(reason);
    // The passphrase never appears in the error.
    expect((error as ValidationError).message).not.toContain(passphrase);
    expect((error as ValidationError).value).toBe("****");
  });

  it.each([[""], ["x".repeat(33)], ["é".repeat(17)]])(
    "rejects the SSID %j (1..32 bytes)",
    (ssid) => {
      expect(() => derivePsk(ssid, "password")).toThrow(/ssid: must be 1\.\.32 bytes/);
    },
  );

  it("is PBKDF2-HMAC-SHA1 with 4096 iterations for any valid passphrase and SSID", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 32 }),
        fc.string({
          unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
          minLength: 8,
          maxLength: 63,
        }),
        (ssid, passphrase) => {
          const expected = pbkdf2Sync(passphrase, ssid, 4096, 32, "sha1")
            .toString("hex")
            .toUpperCase();
          expect(derivePsk(ssid, passphrase)).toBe(expected);
        },
      ),
      { numRuns: 50 },
    );
  });
});
