// Server-side verification of NervesHub shared-secret ("NH1") websocket headers.
//
// Follows, step by step and in the same order (the order decides which failure a request gets):
// - nerves-hub/nerves_hub_web lib/nerves_hub/device_link/authentication.ex
//   (`authenticate({:shared_secret, headers})`, `decode_from_headers/1`, `max_hmac_age/0`);
// - elixir-plug/plug_crypto lib/plug/crypto.ex (`verify/4`, `decode/2`, `validate_age/2`),
//   lib/plug/crypto/message_verifier.ex (`hmac_sha2_verify/2`) and
//   lib/plug/crypto/key_generator.ex (PBKDF2 via `:crypto.pbkdf2_hmac/5`);
// - nerves-hub/nerves_hub_web lib/nerves_hub_web/channels/device_socket.ex (`authenticate/2`
//   turns anything *raised* that is not an ArgumentError into `:platform_unavailable`, which
//   lib/nerves_hub_web/helpers/websocket_connection_error.ex answers with 503).
//
// Every other failure is `:invalid_auth`, answered with 401 and an empty body. The `reason` this
// module returns is what the server only records in telemetry; tests assert on it.
//
// Pure apart from the deterministic crypto: the clock and the key store are parameters.

import { createHmac, pbkdf2Sync, timingSafeEqual } from "node:crypto";
import { elixirUrlDecode64 } from "./base64url.js";
import { decodeExternalTerm, type Term } from "./etf.js";

/** What the hub knows about one access key. */
export interface SharedSecretAuthRecord {
  /** `nhp_…` (product key) or `nhd_…` (device key). */
  key: string;
  secret: string;
  /** For a device key, the identifier of the device it belongs to. */
  identifier?: string;
}

export interface VerifySharedSecretOptions {
  /** The request's `x-` headers, names lower-case; when a header repeats, the last one. */
  headers: Readonly<Record<string, string | undefined>>;
  /** Finds the record for an access key; `undefined` when the key is unknown. */
  lookup: (key: string) => SharedSecretAuthRecord | undefined;
  /** The server's clock, Unix milliseconds (`System.os_time(:millisecond)`). */
  nowMs: number;
  /** Signature lifetime, seconds. Server default 90 (`@default_max_hmac_age`). */
  maxAgeSeconds?: number;
  /** `DEVICE_SHARED_SECRETS_ENABLED`. Default true (the dev/test configuration). */
  enabled?: boolean;
  /**
   * Refuse (401) PBKDF2 work beyond these bounds instead of computing it. The real server has no
   * such limit; a test hub should not spend seconds on a hostile header. Defaults 1,000,000
   * iterations and 1,024 bytes.
   */
  maxIterations?: number;
  maxKeyLength?: number;
}

/** Why a request was refused. Only the status reaches the device; the reason is for tests. */
export type SharedSecretFailureReason =
  | "shared_secrets_not_enabled"
  | "headers_decode_failed"
  | "unknown_digest"
  | "missing_time"
  | "missing_key"
  | "unknown_key"
  | "missing_signature"
  | "invalid_key_derivation"
  | "limit_exceeded"
  | "invalid_signature"
  | "payload_decode_failed"
  | "unexpected_payload"
  | "signed_in_future"
  | "expired"
  | "bad_identifier";

export interface SharedSecretAlgorithm {
  /** PBKDF2 digest as the server spells the atom, e.g. `sha256`. */
  digest: string;
  iterations: number;
  keyLength: number;
}

export type SharedSecretVerdict =
  | {
      ok: true;
      /** The identifier signed into the token (the device's serial number for Link). */
      identifier: string;
      key: string;
      kind: "product" | "device";
      /** The signing time inside the token, Unix milliseconds. */
      signedAtMs: number;
      algorithm: SharedSecretAlgorithm;
    }
  | {
      ok: false;
      /** 401 for `:invalid_auth`, 503 where the real server raises and reports the platform down. */
      status: 401 | 503;
      reason: SharedSecretFailureReason;
      detail: string;
    };

/** Digest names that exist as atoms in a running NervesHub (`String.to_existing_atom/1`). */
const EXISTING_DIGEST_ATOMS = new Set([
  "sha",
  "sha224",
  "sha256",
  "sha384",
  "sha512",
  "sha3_224",
  "sha3_256",
  "sha3_384",
  "sha3_512",
  "md4",
  "md5",
  "ripemd160",
  "blake2b",
  "blake2s",
]);

/** Digests `:crypto.pbkdf2_hmac/5` accepts, with Node's names. */
const PBKDF2_DIGESTS: Readonly<Record<string, string>> = {
  sha: "sha1",
  sha224: "sha224",
  sha256: "sha256",
  sha384: "sha384",
  sha512: "sha512",
};

/** Protected headers `Plug.Crypto.MessageVerifier` accepts, with the HMAC digest each selects. */
const PROTECTED_DIGESTS: Readonly<Record<string, string>> = {
  SFMyNTY: "sha256",
  SFMzODQ: "sha384",
  SFM1MTI: "sha512",
};

/** `Integer.parse/1` with nothing left over: optional sign, ASCII digits. */
function parseWholeInteger(text: string): bigint | undefined {
  return /^[+-]?\d+$/.test(text) ? BigInt(text) : undefined;
}

function fail(
  status: 401 | 503,
  reason: SharedSecretFailureReason,
  detail: string,
): SharedSecretVerdict {
  return { ok: false, status, reason, detail };
}

/** The PBKDF2 salt, rebuilt from the headers exactly as `decode_from_headers/1` renders it. */
function buildSalt(algSuffix: string, key: string, signedAt: bigint): string {
  return [
    "NH1:device-socket:shared-secret:connect",
    "",
    `x-nh-alg=NH1-HMAC-${algSuffix}`,
    `x-nh-key=${key}`,
    `x-nh-time=${signedAt.toString()}`,
    "",
  ].join("\n");
}

function integerValue(term: Term): number | undefined {
  if (term.type === "integer") return Number(term.value);
  if (term.type === "float") return term.value;
  return undefined;
}

function atomKey(term: Term, name: string): boolean {
  return term.type === "atom" && term.value === name;
}

/** `{data, signed, max_age}`, `{data, signed}` or `%{data: _, signed: _}`, as `decode/2` accepts. */
function tokenParts(term: Term): { data: Term; signed: Term } | undefined {
  if (term.type === "tuple" && (term.elements.length === 3 || term.elements.length === 2)) {
    return { data: term.elements[0]!, signed: term.elements[1]! };
  }
  if (term.type === "map") {
    const data = term.entries.find(([key]) => atomKey(key, "data"))?.[1];
    const signed = term.entries.find(([key]) => atomKey(key, "signed"))?.[1];
    if (data && signed) return { data, signed };
  }
  return undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Verifies the `x-nh-*` headers of a websocket upgrade the way NervesHub does. Never throws.
 *
 * Valid window: `now − maxAge ≤ signed_at ≤ now`, judged on the timestamp inside the token (not on
 * `x-nh-time`), with no tolerance for a device clock ahead of the server.
 */
export function verifySharedSecret(options: VerifySharedSecretOptions): SharedSecretVerdict {
  const { headers } = options;
  const maxAgeSeconds = options.maxAgeSeconds ?? 90;
  if (options.enabled === false) {
    return fail(401, "shared_secrets_not_enabled", "shared secrets are disabled on this hub");
  }

  // decode_from_headers/1: only `x-nh-alg` starting with "NH1-HMAC-" gets past the first clause.
  const alg = headers["x-nh-alg"];
  if (alg === undefined || !alg.startsWith("NH1-HMAC-")) {
    return fail(401, "headers_decode_failed", "x-nh-alg missing or not NH1-HMAC-*");
  }
  const algSuffix = alg.slice("NH1-HMAC-".length);
  const parts = algSuffix.split("-");
  if (parts.length !== 3) {
    return fail(401, "headers_decode_failed", `x-nh-alg has ${parts.length} parts after NH1-HMAC-`);
  }
  const [digestText, iterationsText, keyLengthText] = parts as [string, string, string];
  const digest = digestText.toLowerCase();
  if (!EXISTING_DIGEST_ATOMS.has(digest)) {
    // String.to_existing_atom/1 raises ArgumentError, rescued as invalid_auth.
    return fail(401, "unknown_digest", `digest ${JSON.stringify(digestText)} is not an atom`);
  }
  const iterations = parseWholeInteger(iterationsText);
  const keyLength = parseWholeInteger(keyLengthText);
  if (iterations === undefined || keyLength === undefined) {
    return fail(401, "headers_decode_failed", "iterations or key length is not an integer");
  }
  const timeText = headers["x-nh-time"];
  if (timeText === undefined) {
    // Integer.parse(nil) raises FunctionClauseError, which is not rescued as invalid_auth: the
    // socket's catch-all reports the platform unavailable (503).
    return fail(503, "missing_time", "x-nh-time missing (the server raises while parsing it)");
  }
  const signedAt = parseWholeInteger(timeText);
  if (signedAt === undefined) {
    return fail(401, "headers_decode_failed", "x-nh-time is not an integer");
  }
  const key = headers["x-nh-key"];
  if (key === undefined) return fail(401, "missing_key", "x-nh-key missing");
  const salt = buildSalt(algSuffix, key, signedAt);

  // get_shared_secret_auth/1: "nhp_" keys are product keys, everything else a device key.
  const kind = key.startsWith("nhp_") ? "product" : "device";
  const record = options.lookup(key);
  if (record === undefined) return fail(401, "unknown_key", `no ${kind} shared secret for key`);

  const signature = headers["x-nh-signature"];
  if (signature === undefined) return fail(401, "missing_signature", "x-nh-signature missing");

  // KeyGenerator.generate/6 and :crypto.pbkdf2_hmac/5 raise ArgumentError on these.
  const pbkdf2Digest = PBKDF2_DIGESTS[digest];
  if (pbkdf2Digest === undefined) {
    return fail(401, "invalid_key_derivation", `PBKDF2 does not support ${digest}`);
  }
  if (iterations < 1n || keyLength < 1n || keyLength > 0xffffffffn) {
    return fail(401, "invalid_key_derivation", "iterations must be >= 1, key length 1..2^32-1");
  }
  const maxIterations = options.maxIterations ?? 1_000_000;
  const maxKeyLength = options.maxKeyLength ?? 1024;
  if (iterations > BigInt(maxIterations) || keyLength > BigInt(maxKeyLength)) {
    return fail(401, "limit_exceeded", "PBKDF2 parameters beyond this hub's limits");
  }
  const algorithm: SharedSecretAlgorithm = {
    digest,
    iterations: Number(iterations),
    keyLength: Number(keyLength),
  };
  const derivedKey = pbkdf2Sync(
    record.secret,
    salt,
    algorithm.iterations,
    algorithm.keyLength,
    pbkdf2Digest,
  );

  // MessageVerifier.verify/2: exactly three dot-separated parts, a known protected header,
  // both other parts valid base64url, and a constant-time MAC comparison.
  const segments = signature.split(".");
  if (segments.length !== 3) {
    return fail(401, "invalid_signature", `token has ${segments.length} parts, needs 3`);
  }
  const [protectedHeader, payloadText, macText] = segments as [string, string, string];
  const hmacDigest = PROTECTED_DIGESTS[protectedHeader];
  const payload = elixirUrlDecode64(payloadText);
  const mac = elixirUrlDecode64(macText);
  if (hmacDigest === undefined || payload === undefined || mac === undefined) {
    return fail(401, "invalid_signature", "token is not a signed message");
  }
  const expected = createHmac(hmacDigest, derivedKey)
    .update(`${protectedHeader}.${payloadText}`)
    .digest();
  if (expected.length !== mac.length || !timingSafeEqual(expected, mac)) {
    return fail(401, "invalid_signature", "MAC does not match (wrong secret or altered token)");
  }

  // Plug.Crypto.decode/2: binary_to_term raising is an ArgumentError (invalid_auth); a term of
  // another shape is a CaseClauseError, which escapes to the socket's catch-all (503).
  const decoded = decodeExternalTerm(payload);
  if (!decoded.ok) return fail(401, "payload_decode_failed", decoded.reason);
  const token = tokenParts(decoded.term);
  if (token === undefined) {
    return fail(503, "unexpected_payload", "token payload is not {data, signed[, max_age]}");
  }

  // validate_age/2 with the server's max_age (the token's own max_age is overridden). A
  // non-number `signed` compares greater than any number in Erlang's term order: :invalid.
  const signedMs = integerValue(token.signed);
  if (signedMs === undefined || signedMs > options.nowMs) {
    return fail(401, "signed_in_future", "token signed after the server's now (no tolerance)");
  }
  if (maxAgeSeconds <= 0 || signedMs + Math.trunc(maxAgeSeconds * 1000) < options.nowMs) {
    return fail(401, "expired", `token older than ${maxAgeSeconds} s`);
  }

  // The identifier must be a binary: a product key creates or finds a device by it, a device key
  // must carry exactly its device's identifier.
  let identifier: string | undefined;
  if (token.data.type === "binary" && token.data.value.length > 0) {
    try {
      identifier = utf8.decode(token.data.value);
    } catch {
      identifier = undefined;
    }
  }
  if (identifier === undefined) {
    return fail(401, "bad_identifier", "signed identifier is not a non-empty UTF-8 binary");
  }
  if (kind === "device" && record.identifier !== identifier) {
    return fail(401, "bad_identifier", "identifier does not belong to this device key");
  }
  return { ok: true, identifier, key, kind, signedAtMs: signedMs, algorithm };
}
