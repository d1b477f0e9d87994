import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { elixirUrlDecode64 } from "../src/auth/base64url.js";
import { verifySharedSecret } from "../src/auth/shared-secret.js";
import { signHeaders, tokenPayload } from "./support/nh1-sign.js";

// The worked examples of §1.6 of the protocol reference (computed there with Erlang/OTP and
// Node independently). The verifier must accept them at their own signing time.
const VECTOR_1 = {
  secret: "test-secret",
  key: "nhp_test",
  identifier: "tnh-unit-test",
  time: 1_700_000_000,
  headers: {
    "x-nh-alg": "NH1-HMAC-sha256-1000-32",
    "x-nh-key": "nhp_test",
    "x-nh-time": "1700000000",
    "x-nh-signature":
      "SFMyNTY.g2gDbQAAAA10bmgtdW5pdC10ZXN0bgYAAGjlz4sBYgABUYA.UjN7CG034TdyV5umEWbY-4eTRoZ7MXgQlCQHo5mlniY",
  },
};

const VECTOR_2 = {
  secret: "s3cr3t",
  key: "nhd_device-key",
  identifier: "device-1234",
  time: 1_767_225_600,
  headers: {
    "x-nh-alg": "NH1-HMAC-sha512-2000-64",
    "x-nh-key": "nhd_device-key",
    "x-nh-time": "1767225600",
    "x-nh-signature":
      "SFMyNTY.g2gDbQAAAAtkZXZpY2UtMTIzNG4GAACo2nabAWIAAVGA.HsQEAYWAOxj-pOG0I6302O2hI-EDBQMpuTltruFjtdA",
  },
};

const products = { key: "nhp_test", secret: "test-secret" };

function lookupFor(records: Array<{ key: string; secret: string; identifier?: string }>) {
  return (key: string) => records.find((record) => record.key === key);
}

function verify(
  headers: Record<string, string | undefined>,
  nowMs = VECTOR_1.time * 1000,
  extra: Partial<Parameters<typeof verifySharedSecret>[0]> = {},
) {
  return verifySharedSecret({ headers, lookup: lookupFor([products]), nowMs, ...extra });
}

describe("verifySharedSecret: known answers from the reference", () => {
  it("accepts vector 1 (product key, default algorithm) at its signing time", () => {
    expect(verify(VECTOR_1.headers)).toEqual({
      ok: true,
      identifier: "tnh-unit-test",
      key: "nhp_test",
      kind: "product",
      signedAtMs: 1_700_000_000_000,
      algorithm: { digest: "sha256", iterations: 1000, keyLength: 32 },
    });
  });

  it("accepts vector 2 (device key, PBKDF2-SHA512, 2000 iterations, 64 bytes)", () => {
    const result = verifySharedSecret({
      headers: VECTOR_2.headers,
      lookup: lookupFor([
        { key: VECTOR_2.key, secret: VECTOR_2.secret, identifier: "device-1234" },
      ]),
      nowMs: VECTOR_2.time * 1000 + 89_000,
    });
    expect(result).toMatchObject({ ok: true, identifier: "device-1234", kind: "device" });
  });

  it("the test signer (written from the reference) reproduces vector 1 byte for byte", () => {
    const headers = signHeaders({
      key: VECTOR_1.key,
      secret: VECTOR_1.secret,
      identifier: VECTOR_1.identifier,
      signedAt: VECTOR_1.time,
    });
    expect(headers).toEqual(VECTOR_1.headers);
    expect(tokenPayload("tnh-unit-test", 1_700_000_000_000).toString("hex").toUpperCase()).toBe(
      "8368036D0000000D746E682D756E69742D746573746E06000068E5CF8B016200015180",
    );
  });
});

describe("verifySharedSecret: the time window (90 s back, nothing ahead)", () => {
  const now = VECTOR_1.time * 1000;
  it("accepts a token exactly 90 s old and refuses one a millisecond older", () => {
    expect(verify(VECTOR_1.headers, now + 90_000).ok).toBe(true);
    expect(verify(VECTOR_1.headers, now + 90_001)).toMatchObject({
      ok: false,
      status: 401,
      reason: "expired",
    });
  });
  it("refuses a token signed a millisecond in the server's future", () => {
    expect(verify(VECTOR_1.headers, now - 1)).toMatchObject({
      ok: false,
      status: 401,
      reason: "signed_in_future",
    });
  });
  it("judges age by the token's timestamp, not x-nh-time", () => {
    // Same signed salt, token says 100 s earlier: expired although x-nh-time is now.
    const headers = signHeaders({
      ...VECTOR_1,
      signedAt: VECTOR_1.time,
      signedAtMs: now - 100_000,
    });
    expect(verify(headers, now)).toMatchObject({ ok: false, reason: "expired" });
  });
  it("honours a configured max age and refuses everything with max age 0", () => {
    expect(verify(VECTOR_1.headers, now + 20_000, { maxAgeSeconds: 10 }).ok).toBe(false);
    expect(verify(VECTOR_1.headers, now, { maxAgeSeconds: 0 })).toMatchObject({
      reason: "expired",
    });
  });
  it("property: valid iff now − 90 s ≤ signed ≤ now", () => {
    fc.assert(
      fc.property(fc.integer({ min: -200_000, max: 200_000 }), (offsetMs) => {
        const result = verify(VECTOR_1.headers, now + offsetMs);
        expect(result.ok).toBe(offsetMs >= 0 && offsetMs <= 90_000);
      }),
      { numRuns: 200 },
    );
  });
});

describe("verifySharedSecret: refusals, in the server's order", () => {
  const base = VECTOR_1.headers;
  const without = (name: string) => {
    const copy: Record<string, string> = { ...base };
    delete copy[name];
    return copy;
  };
  it.each([
    [
      "wrong secret",
      { ...base },
      { lookup: lookupFor([{ key: "nhp_test", secret: "other" }]) },
      401,
      "invalid_signature",
    ],
    ["unknown key", { ...base, "x-nh-key": "nhp_nope" }, {}, 401, "unknown_key"],
    ["missing x-nh-alg", without("x-nh-alg"), {}, 401, "headers_decode_failed"],
    [
      "alg without NH1-HMAC- prefix",
      { ...base, "x-nh-alg": "NH2-HMAC-sha256-1000-32" },
      {},
      401,
      "headers_decode_failed",
    ],
    [
      "alg with four parts",
      { ...base, "x-nh-alg": "NH1-HMAC-sha256-1000-32-1" },
      {},
      401,
      "headers_decode_failed",
    ],
    [
      "digest that is no atom",
      { ...base, "x-nh-alg": "NH1-HMAC-sha999-1000-32" },
      {},
      401,
      "unknown_digest",
    ],
    [
      "digest PBKDF2 cannot use",
      { ...base, "x-nh-alg": "NH1-HMAC-md5-1000-32" },
      {},
      401,
      "invalid_key_derivation",
    ],
    [
      "zero iterations",
      { ...base, "x-nh-alg": "NH1-HMAC-sha256-0-32" },
      {},
      401,
      "invalid_key_derivation",
    ],
    [
      "iterations not an integer",
      { ...base, "x-nh-alg": "NH1-HMAC-sha256-1k-32" },
      {},
      401,
      "headers_decode_failed",
    ],
    [
      "x-nh-time not an integer",
      { ...base, "x-nh-time": "1700000000.5" },
      {},
      401,
      "headers_decode_failed",
    ],
    ["missing x-nh-key", without("x-nh-key"), {}, 401, "missing_key"],
    ["missing x-nh-signature", without("x-nh-signature"), {}, 401, "missing_signature"],
    ["missing x-nh-time (the server raises: 503)", without("x-nh-time"), {}, 503, "missing_time"],
    [
      "x-nh-time differs from the signed salt",
      { ...base, "x-nh-time": "1700000001" },
      {},
      401,
      "invalid_signature",
    ],
    ["shared secrets disabled", { ...base }, { enabled: false }, 401, "shared_secrets_not_enabled"],
    [
      "iterations beyond the hub's limit",
      { ...base, "x-nh-alg": "NH1-HMAC-sha256-2000000-32" },
      {},
      401,
      "limit_exceeded",
    ],
    [
      "token with two parts",
      { ...base, "x-nh-signature": "SFMyNTY.abc" },
      {},
      401,
      "invalid_signature",
    ],
    [
      "unknown protected header",
      { ...base, "x-nh-signature": base["x-nh-signature"].replace("SFMyNTY", "SFMyNTZ") },
      {},
      401,
      "invalid_signature",
    ],
  ] as const)("%s → %i %s", (_name, headers, extra, status, reason) => {
    expect(verify(headers, VECTOR_1.time * 1000, extra as object)).toMatchObject({
      ok: false,
      status,
      reason,
    });
  });

  it("re-renders x-nh-time from the parsed integer: '+1700000000' still verifies", () => {
    expect(verify({ ...base, "x-nh-time": "+1700000000" }).ok).toBe(true);
    expect(verify({ ...base, "x-nh-time": "01700000000" }).ok).toBe(true);
  });

  it("accepts the digest in any case (it is lower-cased), keeping the alg text in the salt", () => {
    const headers = signHeaders({ ...VECTOR_1, signedAt: VECTOR_1.time });
    // The salt embeds the alg as sent, so an upper-case digest needs its own signature.
    const upper = { ...headers, "x-nh-alg": "NH1-HMAC-SHA256-1000-32" };
    expect(verify(upper)).toMatchObject({ reason: "invalid_signature" });
  });

  it("a device key must carry its own device's identifier", () => {
    const headers = signHeaders({
      key: "nhd_k",
      secret: "s",
      identifier: "someone-else",
      signedAt: VECTOR_1.time,
    });
    const result = verifySharedSecret({
      headers,
      lookup: lookupFor([{ key: "nhd_k", secret: "s", identifier: "me" }]),
      nowMs: VECTOR_1.time * 1000,
    });
    expect(result).toMatchObject({ ok: false, status: 401, reason: "bad_identifier" });
  });

  it("refuses an empty identifier", () => {
    const headers = signHeaders({ ...VECTOR_1, identifier: "", signedAt: VECTOR_1.time });
    expect(verify(headers)).toMatchObject({ ok: false, reason: "bad_identifier" });
  });
});

describe("Elixir's url_decode64(padding: false)", () => {
  it("accepts padded and unpadded spellings and ignores unused trailing bits", () => {
    expect(Buffer.from(elixirUrlDecode64("Zg")!).toString()).toBe("f");
    expect(Buffer.from(elixirUrlDecode64("Zg==")!).toString()).toBe("f");
    expect(Buffer.from(elixirUrlDecode64("Zh")!).toString()).toBe("f");
    expect(elixirUrlDecode64("")).toEqual(new Uint8Array());
  });
  it("refuses a lone final character, misplaced padding and foreign characters", () => {
    for (const bad of ["Z", "Zg=", "Z===", "Zg+/", "Zm9v\n", "Zm=9"]) {
      expect(elixirUrlDecode64(bad)).toBeUndefined();
    }
  });
  it("property: decodes every canonical encoding back to its bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const text = Buffer.from(bytes).toString("base64url");
        expect(Buffer.from(elixirUrlDecode64(text)!)).toEqual(Buffer.from(bytes));
      }),
    );
  });
});

describe("verifySharedSecret: property tests", () => {
  const now = VECTOR_1.time * 1000;
  const identifierArb = fc.string({ minLength: 1, maxLength: 40, unit: "grapheme" });

  it("accepts every freshly signed token for any identifier, key and secret", () => {
    fc.assert(
      fc.property(
        identifierArb,
        fc.string({ minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 90 }),
        (identifier, secret, ageSeconds) => {
          const headers = signHeaders({
            key: "nhp_p",
            secret,
            identifier,
            signedAt: VECTOR_1.time - ageSeconds,
          });
          const result = verifySharedSecret({
            headers,
            lookup: lookupFor([{ key: "nhp_p", secret }]),
            nowMs: now,
          });
          expect(result).toMatchObject({ ok: true, identifier });
        },
      ),
      { numRuns: 150 },
    );
  });

  // Any change to a header is refused, except the spellings the server's decoder treats as the
  // same bytes (unused trailing bits of the MAC, "=" padding): those are accepted, as on the
  // real server.
  it("refuses any tampering with the four headers unless it decodes to the same token", () => {
    const headers = VECTOR_1.headers;
    const names = Object.keys(headers) as Array<keyof typeof headers>;
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.nat(),
        fc.constantFrom(..."ABCabc012-_=.+/ xyzZ9"),
        fc.constantFrom("replace", "insert", "delete"),
        (name, position, character, operation) => {
          const original = headers[name];
          const index = position % (original.length + (operation === "insert" ? 1 : 0));
          const changed =
            operation === "replace"
              ? original.slice(0, index) + character + original.slice(index + 1)
              : operation === "insert"
                ? original.slice(0, index) + character + original.slice(index)
                : original.slice(0, index) + original.slice(index + 1);
          fc.pre(changed !== original);
          const result = verify({ ...headers, [name]: changed });
          const equivalent = equivalentTime(name, changed) || equivalentSignature(name, changed);
          expect(result.ok).toBe(equivalent);
        },
      ),
      { numRuns: 1500 },
    );
  });
});

function equivalentTime(name: string, changed: string): boolean {
  // "+1700000000" and "01700000000" parse to the same integer, which is what the salt uses.
  return name === "x-nh-time" && /^[+-]?\d+$/.test(changed) && BigInt(changed) === 1_700_000_000n;
}

function equivalentSignature(name: string, changed: string): boolean {
  if (name !== "x-nh-signature") return false;
  const [protectedPart, payload, mac] = changed.split(".");
  const [, originalPayload, originalMac] = VECTOR_1.headers["x-nh-signature"].split(".");
  if (
    changed.split(".").length !== 3 ||
    protectedPart !== "SFMyNTY" ||
    payload !== originalPayload
  ) {
    return false;
  }
  const decoded = elixirUrlDecode64(mac ?? "");
  return (
    decoded !== undefined &&
    Buffer.from(decoded).equals(Buffer.from(elixirUrlDecode64(originalMac!)!))
  );
}
