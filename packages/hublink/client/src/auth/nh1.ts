// NervesHub "NH1" shared-secret signing (reference §1.5–1.6), pure: given the signing time, the
// key, the secret and the identifier it returns the exact header set a NervesHub server verifies.
// Written from the documented algorithm (Plug.Crypto.sign over an Erlang term), not from any
// implementation, so the test hub's independent verifier checks it.
import { createHmac, pbkdf2Sync } from "node:crypto";

/** PBKDF2 digests a NervesHub server can name (`:crypto` hash atoms). */
export type Nh1Digest = "sha256" | "sha384" | "sha512";

export interface Nh1Options {
  /** PBKDF2 digest. Default `sha256` (NervesHubLink's default). */
  digest?: Nh1Digest;
  /** PBKDF2 iterations. Default 1000. */
  iterations?: number;
  /** Derived key length in bytes. Default 32. */
  keyLength?: number;
}

export interface Nh1SignInput extends Nh1Options {
  /** `nhp_…` product key or `nhd_…` device key. */
  key: string;
  secret: string;
  /** The device identifier signed into the token (the serial number). */
  identifier: string;
  /** Signing time, whole Unix seconds. */
  signedAt: number;
}

/** The four `x-nh-*` upgrade headers, names lower-case as NervesHubLink sends them. */
export interface Nh1Headers {
  "x-nh-alg": string;
  "x-nh-key": string;
  "x-nh-time": string;
  "x-nh-signature": string;
}

/** `max_age` embedded in the token; NervesHubLink never overrides Plug.Crypto's default. */
const TOKEN_MAX_AGE_SECONDS = 86_400;
/** base64url("HS256"): the token's protected header, always HMAC-SHA256 (Plug.Crypto default). */
const PROTECTED_HEADER = "SFMyNTY";

export function nh1Algorithm(options: Nh1Options = {}): string {
  return `NH1-HMAC-${options.digest ?? "sha256"}-${options.iterations ?? 1000}-${options.keyLength ?? 32}`;
}

/** The PBKDF2 salt: five LF-terminated lines, the second empty. */
export function nh1Salt(algorithm: string, key: string, signedAt: number): string {
  return [
    "NH1:device-socket:shared-secret:connect",
    "",
    `x-nh-alg=${algorithm}`,
    `x-nh-key=${key}`,
    `x-nh-time=${signedAt}`,
    "",
  ].join("\n");
}

/** Erlang's canonical external term encoding of a non-negative integer. */
function encodeErlangInteger(value: bigint): Buffer {
  if (value < 0n) throw new RangeError("only non-negative integers are encoded");
  if (value <= 255n) return Buffer.from([97, Number(value)]);
  if (value <= 2_147_483_647n) {
    const buffer = Buffer.alloc(5);
    buffer[0] = 98;
    buffer.writeInt32BE(Number(value), 1);
    return buffer;
  }
  const digits: number[] = [];
  for (let rest = value; rest > 0n; rest >>= 8n) digits.push(Number(rest & 0xffn));
  if (digits.length > 255) throw new RangeError("integer too large for SMALL_BIG_EXT");
  return Buffer.from([110, digits.length, 0, ...digits]);
}

/** ETF of `{identifier :: binary, signedMs, 86400}` (the token payload). */
export function nh1Payload(identifier: string, signedMs: bigint): Buffer {
  const name = Buffer.from(identifier, "utf8");
  const header = Buffer.alloc(8);
  header[0] = 131; // version
  header[1] = 104; // SMALL_TUPLE_EXT
  header[2] = 3;
  header[3] = 109; // BINARY_EXT
  header.writeUInt32BE(name.length, 4);
  return Buffer.concat([
    header,
    name,
    encodeErlangInteger(signedMs),
    encodeErlangInteger(BigInt(TOKEN_MAX_AGE_SECONDS)),
  ]);
}

function base64url(data: Buffer): string {
  return data.toString("base64url");
}

/** Computes the NH1 headers. Pure and deterministic. */
export function signNh1(input: Nh1SignInput): Nh1Headers {
  if (!Number.isSafeInteger(input.signedAt) || input.signedAt < 0) {
    throw new RangeError(`signedAt must be whole non-negative seconds, got ${input.signedAt}`);
  }
  const algorithm = nh1Algorithm(input);
  const salt = nh1Salt(algorithm, input.key, input.signedAt);
  const derived = pbkdf2Sync(
    input.secret,
    salt,
    input.iterations ?? 1000,
    input.keyLength ?? 32,
    input.digest ?? "sha256",
  );
  const signingInput = `${PROTECTED_HEADER}.${base64url(nh1Payload(input.identifier, BigInt(input.signedAt) * 1000n))}`;
  const mac = createHmac("sha256", derived).update(signingInput).digest();
  return {
    "x-nh-alg": algorithm,
    "x-nh-key": input.key,
    "x-nh-time": String(input.signedAt),
    "x-nh-signature": `${signingInput}.${base64url(mac)}`,
  };
}
