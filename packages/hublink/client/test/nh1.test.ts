import { verifySharedSecret } from "@hublink/test-hub";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  clockHint,
  MIN_APPLIED_OFFSET_MS,
  offsetFromDateHeader,
  parseHttpDate,
  signingTime,
} from "../src/auth/clock.js";
import { nh1Algorithm, nh1Payload, nh1Salt, signNh1 } from "../src/auth/nh1.js";

describe("NH1 signing (reference §1.6 vectors)", () => {
  it("matches the worked example byte for byte", () => {
    const algorithm = nh1Algorithm();
    expect(algorithm).toBe("NH1-HMAC-sha256-1000-32");
    expect(nh1Salt(algorithm, "nhp_test", 1_700_000_000)).toBe(
      "NH1:device-socket:shared-secret:connect\n\nx-nh-alg=NH1-HMAC-sha256-1000-32\nx-nh-key=nhp_test\nx-nh-time=1700000000\n",
    );
    expect(nh1Payload("tnh-unit-test", 1_700_000_000_000n).toString("hex").toUpperCase()).toBe(
      "8368036D0000000D746E682D756E69742D746573746E06000068E5CF8B016200015180",
    );
    expect(
      signNh1({
        key: "nhp_test",
        secret: "test-secret",
        identifier: "tnh-unit-test",
        signedAt: 1_700_000_000,
      }),
    ).toEqual({
      "x-nh-alg": "NH1-HMAC-sha256-1000-32",
      "x-nh-key": "nhp_test",
      "x-nh-time": "1700000000",
      "x-nh-signature":
        "SFMyNTY.g2gDbQAAAA10bmgtdW5pdC10ZXN0bgYAAGjlz4sBYgABUYA.UjN7CG034TdyV5umEWbY-4eTRoZ7MXgQlCQHo5mlniY",
    });
  });

  it("matches the second vector (device key, sha512, 2000 rounds, 64-byte key)", () => {
    const headers = signNh1({
      key: "nhd_device-key",
      secret: "s3cr3t",
      identifier: "device-1234",
      signedAt: 1_767_225_600,
      digest: "sha512",
      iterations: 2000,
      keyLength: 64,
    });
    expect(headers["x-nh-alg"]).toBe("NH1-HMAC-sha512-2000-64");
    expect(headers["x-nh-signature"]).toBe(
      "SFMyNTY.g2gDbQAAAAtkZXZpY2UtMTIzNG4GAACo2nabAWIAAVGA.HsQEAYWAOxj-pOG0I6302O2hI-EDBQMpuTltruFjtdA",
    );
  });

  it("encodes small and 32-bit integers canonically", () => {
    // 0..255 → SMALL_INTEGER_EXT (97), up to i32 → INTEGER_EXT (98), else SMALL_BIG_EXT (110).
    expect([...nh1Payload("", 200n).subarray(8, 10)]).toEqual([97, 200]);
    expect([...nh1Payload("", 1_000_000n).subarray(8, 13)]).toEqual([98, 0, 0x0f, 0x42, 0x40]);
    expect(nh1Payload("", 2n ** 31n)[8]).toBe(110);
  });

  it("refuses a signing time that is not whole seconds", () => {
    expect(() => signNh1({ key: "nhp_x", secret: "s", identifier: "d", signedAt: 1.5 })).toThrow(
      RangeError,
    );
    expect(() => signNh1({ key: "nhp_x", secret: "s", identifier: "d", signedAt: -1 })).toThrow(
      RangeError,
    );
  });

  it("is accepted by the test hub's independent verifier for any identifier, key and time", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 43 }),
        fc.integer({ min: 1_000_000_000, max: 4_000_000_000 }),
        fc.constantFrom<"sha256" | "sha384" | "sha512">("sha256", "sha384", "sha512"),
        (identifier, secret, signedAt, digest) => {
          const key = "nhp_fleet";
          const headers = signNh1({ key, secret, identifier, signedAt, digest, iterations: 10 });
          const verdict = verifySharedSecret({
            headers: { ...headers },
            lookup: (candidate) => (candidate === key ? { key, secret } : undefined),
            nowMs: signedAt * 1000 + 1000,
          });
          expect(verdict).toMatchObject({ ok: true, identifier, signedAtMs: signedAt * 1000 });
        },
      ),
      { numRuns: 60 },
    );
  });

  it("is refused by the verifier with a wrong secret or a stale time", () => {
    const headers = signNh1({
      key: "nhp_k",
      secret: "right",
      identifier: "d",
      signedAt: 1_800_000_000,
    });
    const verify = (secret: string, nowMs: number) =>
      verifySharedSecret({ headers: { ...headers }, lookup: (key) => ({ key, secret }), nowMs });
    expect(verify("right", 1_800_000_000_000).ok).toBe(true);
    expect(verify("wrong", 1_800_000_000_000).ok).toBe(false);
    expect(verify("right", 1_800_000_091_000).ok).toBe(false);
    expect(verify("right", 1_799_999_999_000).ok).toBe(false);
  });
});

describe("signing clock (quirks 2 and 3)", () => {
  it("signs one second in the past by default, ignoring sub-second offsets", () => {
    expect(signingTime(1_800_000_000_900, { offsetMs: 0 })).toBe(1_799_999_999);
    expect(signingTime(1_800_000_000_900, { offsetMs: MIN_APPLIED_OFFSET_MS - 1 })).toBe(
      1_799_999_999,
    );
    expect(signingTime(1_800_000_000_900, { offsetMs: 0 }, 0)).toBe(1_800_000_000);
  });

  it("follows the server's clock once a date header showed a real offset", () => {
    // Device 10 minutes ahead: the server refused; its date header puts us back.
    const deviceNow = Date.UTC(2026, 0, 1, 12, 10, 0);
    const offset = offsetFromDateHeader("Thu, 01 Jan 2026 12:00:00 GMT", deviceNow)!;
    expect(offset).toBe(-600_000 + 500);
    const signed = signingTime(deviceNow + 2_000, { offsetMs: offset });
    expect(signed * 1000).toBeLessThanOrEqual(Date.UTC(2026, 0, 1, 12, 0, 2));
    expect(signed * 1000).toBeGreaterThan(Date.UTC(2026, 0, 1, 12, 0, 2) - 90_000);
  });

  it("ignores missing or malformed date headers", () => {
    expect(parseHttpDate(undefined)).toBeUndefined();
    expect(parseHttpDate("")).toBeUndefined();
    expect(parseHttpDate("not a date")).toBeUndefined();
    expect(offsetFromDateHeader(["Thu, 01 Jan 2026 12:00:00 GMT"], 0)).toBeUndefined();
  });

  it("hints when the device clock is before 2024 or far from the server's", () => {
    expect(clockHint(Date.UTC(1970, 0, 1))).toMatch(/before 2024/);
    expect(clockHint(Date.UTC(2026, 0, 1))).toBeUndefined();
    expect(clockHint(Date.UTC(2026, 0, 1), 30_000)).toBeUndefined();
    expect(clockHint(Date.UTC(2026, 0, 1), -120_000)).toMatch(/120 s ahead of the server/);
    expect(clockHint(Date.UTC(2026, 0, 1), 120_000)).toMatch(/behind/);
  });
});
