// The app-slot bundle: a signed archive of the Node application for A/B updates without fwup.
// Pure codec and an incremental verifier (no I/O); the slot manager streams a file through it.
//
// Layout (integers big-endian):
//   0   magic "HLAPPSLT" (8 bytes)
//   8   format version u16 (= 1)
//   10  Ed25519 signature (64 bytes)
//   74  manifest length u32
//   78  manifest JSON (UTF-8)
//   …   payload: every file's bytes, in manifest order, nothing between them
// The signature is Ed25519 over SHA-256("hublink-app-slot\n" ‖ bytes 0..9 ‖ bytes 74..end), i.e.
// over everything but the signature itself: magic, version, manifest and payload.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { DeviceError, fieldPath, ValidationError, type ValidationIssue } from "@runtime/errors";

export const BUNDLE_MAGIC = Buffer.from("HLAPPSLT", "ascii");
export const BUNDLE_FORMAT_VERSION = 1;
export const SIGNATURE_OFFSET = 10;
export const SIGNATURE_LENGTH = 64;
export const MANIFEST_LENGTH_OFFSET = SIGNATURE_OFFSET + SIGNATURE_LENGTH;
export const MANIFEST_OFFSET = MANIFEST_LENGTH_OFFSET + 4;
/** A manifest larger than this is refused before it is buffered. */
export const MAX_MANIFEST_LENGTH = 4 * 1024 * 1024;
const DOMAIN = Buffer.from("hublink-app-slot\n", "ascii");

/** Firmware metadata of the application in the bundle (becomes the slot's `nerves_fw_*`). */
export interface BundleFirmware {
  uuid: string;
  version: string;
  product: string;
  platform?: string;
  architecture?: string;
  author?: string;
  description?: string;
  vcs_identifier?: string;
  misc?: string;
}

export interface BundleFileEntry {
  /** Relative POSIX path inside the slot, e.g. `dist/index.js`. */
  path: string;
  /** Permission bits (0o644, 0o755). */
  mode: number;
  size: number;
  /** SHA-256 of the file, lower-case hex. */
  sha256: string;
}

export interface BundleManifest {
  formatVersion: 1;
  firmware: BundleFirmware;
  files: BundleFileEntry[];
}

/** Why a bundle was refused (`code`: `BUNDLE_FORMAT`, `BUNDLE_SIGNATURE`, `BUNDLE_CONTENT`). */
export class BundleError extends DeviceError {
  override name = "BundleError";
}

const HEX64 = /^[0-9a-f]{64}$/;

/** A path that cannot escape the slot: relative, `/`-separated, no `.`/`..`/empty segments. */
export function isSafeBundlePath(path: string): boolean {
  if (
    path === "" ||
    path.length > 4096 ||
    path.startsWith("/") ||
    path.includes("\\") ||
    path.includes("\0")
  ) {
    return false;
  }
  return path.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..");
}

/** Checks a decoded manifest; throws a ValidationError (`BUNDLE_FORMAT`) naming the field. */
export function checkManifest(value: unknown): BundleManifest {
  const issues: ValidationIssue[] = [];
  const isObject = (item: unknown): item is Record<string, unknown> =>
    typeof item === "object" && item !== null && !Array.isArray(item);
  if (!isObject(value))
    throw new ValidationError(
      { path: "manifest", value, reason: "must be an object" },
      "BUNDLE_FORMAT",
    );
  if (value.formatVersion !== BUNDLE_FORMAT_VERSION) {
    issues.push({
      path: "manifest.formatVersion",
      value: value.formatVersion,
      reason: "must be 1",
    });
  }
  const firmware = value.firmware;
  if (!isObject(firmware)) {
    issues.push({ path: "manifest.firmware", value: firmware, reason: "must be an object" });
  } else {
    for (const name of ["uuid", "version", "product"]) {
      if (typeof firmware[name] !== "string" || (firmware[name] as string).trim() === "") {
        issues.push({
          path: fieldPath("manifest", "firmware", name),
          value: firmware[name],
          reason: "must be a non-empty string",
        });
      }
    }
    for (const [name, item] of Object.entries(firmware)) {
      if (typeof item !== "string" || !/^[a-z_]+$/.test(name) || item.includes("\0")) {
        issues.push({
          path: fieldPath("manifest", "firmware", name),
          value: item,
          reason: "must be a string under a lower-case name",
        });
      }
    }
  }
  const seen = new Set<string>();
  if (!Array.isArray(value.files)) {
    issues.push({ path: "manifest.files", value: value.files, reason: "must be a list" });
  } else {
    value.files.forEach((entry: unknown, index: number) => {
      const at = (name: string) => fieldPath("manifest", "files", index, name);
      if (!isObject(entry)) {
        issues.push({
          path: fieldPath("manifest", "files", index),
          value: entry,
          reason: "must be an object",
        });
        return;
      }
      if (typeof entry.path !== "string" || !isSafeBundlePath(entry.path)) {
        issues.push({
          path: at("path"),
          value: entry.path,
          reason: "must be a relative path inside the slot",
        });
      } else if (seen.has(entry.path)) {
        issues.push({ path: at("path"), value: entry.path, reason: "appears twice" });
      } else {
        seen.add(entry.path);
      }
      if (
        typeof entry.mode !== "number" ||
        !Number.isInteger(entry.mode) ||
        entry.mode < 0 ||
        entry.mode > 0o777
      ) {
        issues.push({
          path: at("mode"),
          value: entry.mode,
          reason: "must be permission bits 0..0o777",
        });
      }
      if (typeof entry.size !== "number" || !Number.isSafeInteger(entry.size) || entry.size < 0) {
        issues.push({
          path: at("size"),
          value: entry.size,
          reason: "must be a non-negative integer",
        });
      }
      if (typeof entry.sha256 !== "string" || !HEX64.test(entry.sha256)) {
        issues.push({
          path: at("sha256"),
          value: entry.sha256,
          reason: "must be 64 lower-case hex digits",
        });
      }
    });
    // A file and a directory of the same name cannot both exist.
    for (const path of seen) {
      const parts = path.split("/");
      for (let length = 1; length < parts.length; length++) {
        const parent = parts.slice(0, length).join("/");
        if (seen.has(parent))
          issues.push({
            path: "manifest.files",
            value: parent,
            reason: `is both a file and the directory of ${path}`,
          });
      }
    }
  }
  if (issues.length > 0) throw new ValidationError(issues, "BUNDLE_FORMAT");
  return value as unknown as BundleManifest;
}

/** An Ed25519 public key from its base64 raw 32 bytes (fwup's key format) or PEM. */
export function publicKeyFrom(key: string | KeyObject): KeyObject {
  if (typeof key !== "string") return key;
  if (key.includes("BEGIN")) return createPublicKey(key);
  const raw = Buffer.from(key, "base64");
  if (raw.length !== 32)
    throw new ValidationError({
      path: "publicKeys",
      value: key,
      reason: "must be 32 bytes of base64 (Ed25519)",
    });
  return createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") },
    format: "jwk",
  });
}

/** The base64 raw public key of an Ed25519 key pair (to configure devices with). */
export function rawPublicKey(key: KeyObject): string {
  const jwk = (key.type === "private" ? createPublicKey(key) : key).export({ format: "jwk" });
  return Buffer.from(jwk.x ?? "", "base64url").toString("base64");
}

export interface BundleInputFile {
  path: string;
  data: Uint8Array;
  /** Default 0o644. */
  mode?: number;
}

/** Builds a signed bundle in memory (for build tools and tests). */
export function createBundle(options: {
  firmware: BundleFirmware;
  files: readonly BundleInputFile[];
  privateKey: KeyObject | string;
}): Buffer {
  const manifest: BundleManifest = {
    formatVersion: 1,
    firmware: options.firmware,
    files: options.files.map((file) => ({
      path: file.path,
      mode: file.mode ?? 0o644,
      size: file.data.length,
      sha256: createHash("sha256").update(file.data).digest("hex"),
    })),
  };
  checkManifest(manifest);
  const manifestBytes = Buffer.from(JSON.stringify(manifest), "utf8");
  const head = Buffer.alloc(MANIFEST_OFFSET);
  BUNDLE_MAGIC.copy(head, 0);
  head.writeUInt16BE(BUNDLE_FORMAT_VERSION, 8);
  head.writeUInt32BE(manifestBytes.length, MANIFEST_LENGTH_OFFSET);
  const digest = createHash("sha256")
    .update(DOMAIN)
    .update(head.subarray(0, SIGNATURE_OFFSET))
    .update(head.subarray(MANIFEST_LENGTH_OFFSET))
    .update(manifestBytes);
  for (const file of options.files) digest.update(file.data);
  const key =
    typeof options.privateKey === "string"
      ? createPrivateKey(options.privateKey)
      : options.privateKey;
  sign(null, digest.digest(), key).copy(head, SIGNATURE_OFFSET);
  return Buffer.concat([
    head,
    manifestBytes,
    ...options.files.map((file) => Buffer.from(file.data)),
  ]);
}

/** Result of a complete verification. */
export interface VerifiedBundle {
  manifest: BundleManifest;
  /** Offset of the payload in the bundle. */
  payloadOffset: number;
  totalSize: number;
}

/**
 * Incremental verifier: push the bundle's bytes in any chunks, then `finish()` checks the size,
 * every file's SHA-256 and the signature against the trusted keys. Nothing is trusted (not even
 * the manifest) until `finish()` returns.
 */
export class BundleVerifier {
  #head = Buffer.alloc(0);
  #manifest: BundleManifest | undefined;
  #manifestLength = -1;
  #digest = createHash("sha256").update(DOMAIN);
  #fileIndex = 0;
  #fileRemaining = 0;
  #fileHash = createHash("sha256");
  #payloadBytes = 0;
  #failed: BundleError | undefined;
  #expectedPayload = 0;
  #signature = Buffer.alloc(0);

  constructor(private readonly publicKeys: readonly KeyObject[]) {
    if (publicKeys.length === 0)
      throw new BundleError("BUNDLE_NO_KEYS", "no public keys to verify app bundles with");
  }

  /** The manifest once its bytes arrived (NOT yet verified). */
  get manifest(): BundleManifest | undefined {
    return this.#manifest;
  }

  push(chunk: Uint8Array): void {
    if (this.#failed) throw this.#failed;
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#manifest === undefined) {
      this.#head = Buffer.concat([this.#head, data]);
      if (this.#head.length >= MANIFEST_OFFSET && this.#manifestLength < 0) {
        if (!this.#head.subarray(0, 8).equals(BUNDLE_MAGIC))
          this.#fail("BUNDLE_FORMAT", "not an app-slot bundle (bad magic)");
        const version = this.#head.readUInt16BE(8);
        if (version !== BUNDLE_FORMAT_VERSION)
          this.#fail("BUNDLE_FORMAT", `bundle format version ${version} is not supported`);
        this.#manifestLength = this.#head.readUInt32BE(MANIFEST_LENGTH_OFFSET);
        if (this.#manifestLength > MAX_MANIFEST_LENGTH)
          this.#fail("BUNDLE_FORMAT", `manifest of ${this.#manifestLength} bytes is too large`);
      }
      if (this.#manifestLength < 0 || this.#head.length < MANIFEST_OFFSET + this.#manifestLength)
        return;
      const manifestBytes = this.#head.subarray(
        MANIFEST_OFFSET,
        MANIFEST_OFFSET + this.#manifestLength,
      );
      let parsed: unknown;
      try {
        parsed = JSON.parse(manifestBytes.toString("utf8"));
      } catch {
        this.#fail("BUNDLE_FORMAT", "manifest is not JSON");
      }
      try {
        this.#manifest = checkManifest(parsed);
      } catch (error) {
        this.#fail("BUNDLE_FORMAT", `manifest: ${(error as Error).message}`);
      }
      this.#signature = Buffer.from(this.#head.subarray(SIGNATURE_OFFSET, MANIFEST_LENGTH_OFFSET));
      this.#digest
        .update(this.#head.subarray(0, SIGNATURE_OFFSET))
        .update(
          this.#head.subarray(MANIFEST_LENGTH_OFFSET, MANIFEST_OFFSET + this.#manifestLength),
        );
      this.#expectedPayload = this.#manifest!.files.reduce((sum, file) => sum + file.size, 0);
      this.#fileRemaining = this.#manifest!.files[0]?.size ?? 0;
      data = this.#head.subarray(MANIFEST_OFFSET + this.#manifestLength);
      this.#head = Buffer.alloc(0);
      this.#skipEmptyFiles();
    }
    this.#consumePayload(data);
  }

  #consumePayload(data: Buffer): void {
    this.#digest.update(data);
    this.#payloadBytes += data.length;
    if (this.#payloadBytes > this.#expectedPayload)
      this.#fail("BUNDLE_CONTENT", "bundle is longer than its manifest says");
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(this.#fileRemaining, data.length - offset);
      if (take === 0) this.#fail("BUNDLE_CONTENT", "bundle is longer than its manifest says");
      this.#fileHash.update(data.subarray(offset, offset + take));
      this.#fileRemaining -= take;
      offset += take;
      if (this.#fileRemaining === 0) this.#closeFile();
    }
  }

  #skipEmptyFiles(): void {
    const files = this.#manifest!.files;
    while (this.#fileIndex < files.length && this.#fileRemaining === 0) this.#closeFile();
  }

  #closeFile(): void {
    const files = this.#manifest!.files;
    const entry = files[this.#fileIndex];
    if (!entry) return;
    const actual = this.#fileHash.digest("hex");
    if (actual !== entry.sha256)
      this.#fail("BUNDLE_CONTENT", `${entry.path}: SHA-256 does not match the manifest`);
    this.#fileIndex++;
    this.#fileHash = createHash("sha256");
    this.#fileRemaining = files[this.#fileIndex]?.size ?? 0;
    if (this.#fileRemaining === 0 && this.#fileIndex < files.length) this.#closeFile();
  }

  /** Checks that everything arrived and the signature holds; throws {@link BundleError}. */
  finish(): VerifiedBundle {
    if (this.#failed) throw this.#failed;
    if (this.#manifest === undefined)
      this.#fail("BUNDLE_FORMAT", "bundle is truncated before its manifest ends");
    if (
      this.#payloadBytes !== this.#expectedPayload ||
      this.#fileIndex < this.#manifest!.files.length
    ) {
      this.#fail(
        "BUNDLE_CONTENT",
        `bundle is truncated: ${this.#payloadBytes} of ${this.#expectedPayload} payload bytes`,
      );
    }
    const digest = this.#digest.digest();
    const trusted = this.publicKeys.some((key) => {
      try {
        return verify(null, digest, key, this.#signature);
      } catch {
        return false;
      }
    });
    if (!trusted)
      this.#fail("BUNDLE_SIGNATURE", "bundle signature does not verify with any trusted key");
    return {
      manifest: this.#manifest!,
      payloadOffset: MANIFEST_OFFSET + this.#manifestLength,
      totalSize: MANIFEST_OFFSET + this.#manifestLength + this.#payloadBytes,
    };
  }

  #fail(code: string, message: string): never {
    this.#failed = new BundleError(code, message);
    throw this.#failed;
  }
}

/** Verifies a whole in-memory bundle. */
export function verifyBundle(
  bytes: Uint8Array,
  publicKeys: ReadonlyArray<string | KeyObject>,
): VerifiedBundle {
  const verifier = new BundleVerifier(publicKeys.map(publicKeyFrom));
  verifier.push(bytes);
  return verifier.finish();
}
