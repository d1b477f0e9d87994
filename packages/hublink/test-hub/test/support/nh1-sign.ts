// A stand-in NH1 signer for the tests, written from §1.6 of the protocol reference (not from the
// hub's verifier, so the two check each other). This is what a device client computes.

import { createHmac, pbkdf2Sync } from "node:crypto";

export interface Nh1SignOptions {
  key: string;
  secret: string;
  identifier: string;
  /** Signing time, Unix seconds. */
  signedAt: number;
  digest?: "sha256" | "sha384" | "sha512";
  iterations?: number;
  keyLength?: number;
  /** Milliseconds written into the token (default signedAt × 1000). */
  signedAtMs?: number;
}

/** Erlang external term format of `{identifier, signed_ms, 86400}`. */
export function tokenPayload(identifier: string, signedMs: number, maxAge = 86_400): Buffer {
  const id = Buffer.from(identifier, "utf8");
  const parts = [
    Buffer.from([131, 104, 3, 109]),
    u32(id.length),
    id,
    integer(signedMs),
    integer(maxAge),
  ];
  return Buffer.concat(parts);
}

function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

function integer(value: number): Buffer {
  if (value >= 0 && value <= 255) return Buffer.from([97, value]);
  if (value >= -(2 ** 31) && value < 2 ** 31) {
    const buffer = Buffer.alloc(5);
    buffer.writeUInt8(98);
    buffer.writeInt32BE(value, 1);
    return buffer;
  }
  let magnitude = BigInt(Math.abs(value));
  const digits: number[] = [];
  while (magnitude > 0n) {
    digits.push(Number(magnitude & 0xffn));
    magnitude >>= 8n;
  }
  return Buffer.from([110, digits.length, value < 0 ? 1 : 0, ...digits]);
}

export function algorithm(options: Pick<Nh1SignOptions, "digest" | "iterations" | "keyLength">) {
  return `NH1-HMAC-${options.digest ?? "sha256"}-${options.iterations ?? 1000}-${options.keyLength ?? 32}`;
}

export function salt(alg: string, key: string, signedAt: number | string): string {
  return `NH1:device-socket:shared-secret:connect\n\nx-nh-alg=${alg}\nx-nh-key=${key}\nx-nh-time=${signedAt}\n`;
}

/** The four `x-nh-*` headers. */
export function signHeaders(options: Nh1SignOptions): Record<string, string> {
  const alg = algorithm(options);
  const derived = pbkdf2Sync(
    options.secret,
    salt(alg, options.key, options.signedAt),
    options.iterations ?? 1000,
    options.keyLength ?? 32,
    options.digest ?? "sha256",
  );
  const payload = tokenPayload(options.identifier, options.signedAtMs ?? options.signedAt * 1000);
  const signingInput = `SFMyNTY.${payload.toString("base64url")}`;
  const mac = createHmac("sha256", derived).update(signingInput).digest("base64url");
  return {
    "x-nh-alg": alg,
    "x-nh-key": options.key,
    "x-nh-time": String(options.signedAt),
    "x-nh-signature": `${signingInput}.${mac}`,
  };
}
