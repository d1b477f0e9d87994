import { generateKeyPairSync } from "node:crypto";
import { ValidationError } from "@runtime/errors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkManifest } from "../src/app-slot/bundle.js";
import {
  BundleError,
  BundleVerifier,
  createBundle,
  isSafeBundlePath,
  publicKeyFrom,
  rawPublicKey,
  verifyBundle,
} from "../src/index.js";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const other = generateKeyPairSync("ed25519");
const firmware = { uuid: "app-2", version: "2.0.0", product: "acme" };
const files = [
  { path: "index.js", data: Buffer.from("console.log('v2')\n") },
  { path: "empty", data: Buffer.alloc(0) },
  { path: "lib/util.js", data: Buffer.from("export const x = 1;\n"), mode: 0o755 },
];

describe("app-slot bundle format", () => {
  it("round-trips: a bundle verifies with its key, in one piece or byte by byte", () => {
    const bundle = createBundle({ firmware, files, privateKey });
    const verified = verifyBundle(bundle, [rawPublicKey(publicKey)]);
    expect(verified.manifest.firmware).toEqual(firmware);
    expect(verified.manifest.files.map((file) => [file.path, file.size, file.mode])).toEqual([
      ["index.js", 18, 0o644],
      ["empty", 0, 0o644],
      ["lib/util.js", 20, 0o755],
    ]);
    const verifier = new BundleVerifier([publicKey]);
    for (const byte of bundle) verifier.push(Buffer.from([byte]));
    expect(verifier.finish().totalSize).toBe(bundle.length);
  });

  it("refuses a bundle signed by another key", () => {
    const bundle = createBundle({ firmware, files, privateKey: other.privateKey });
    expect(() => verifyBundle(bundle, [publicKey])).toThrow(
      expect.objectContaining({ code: "BUNDLE_SIGNATURE" }),
    );
    expect(verifyBundle(bundle, [publicKey, other.publicKey]).manifest.firmware.uuid).toBe("app-2");
  });

  it("refuses every single-byte change anywhere in the bundle", () => {
    const bundle = createBundle({ firmware, files, privateKey });
    fc.assert(
      fc.property(
        fc.nat({ max: bundle.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (offset, flip) => {
          const tampered = Buffer.from(bundle);
          tampered[offset] = tampered[offset]! ^ flip;
          expect(() => verifyBundle(tampered, [publicKey])).toThrow(BundleError);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses truncated and extended bundles", () => {
    const bundle = createBundle({ firmware, files, privateKey });
    for (const length of [0, 10, 80, bundle.length - 1]) {
      expect(() => verifyBundle(bundle.subarray(0, length), [publicKey])).toThrow(BundleError);
    }
    expect(() => verifyBundle(Buffer.concat([bundle, Buffer.from("x")]), [publicKey])).toThrow(
      /longer/,
    );
  });

  it("refuses unknown magic and versions before reading further", () => {
    const bundle = createBundle({ firmware, files, privateKey });
    const wrongMagic = Buffer.from(bundle);
    wrongMagic.write("XXXXXXXX", 0, "ascii");
    expect(() => verifyBundle(wrongMagic, [publicKey])).toThrow(/magic/);
    const wrongVersion = Buffer.from(bundle);
    wrongVersion.writeUInt16BE(2, 8);
    expect(() => verifyBundle(wrongVersion, [publicKey])).toThrow(/version 2/);
  });

  it("needs at least one key", () => {
    expect(() => new BundleVerifier([])).toThrow(
      expect.objectContaining({ code: "BUNDLE_NO_KEYS" }),
    );
    expect(() => publicKeyFrom("c2hvcnQ=")).toThrow(ValidationError);
    expect(
      publicKeyFrom(publicKey.export({ format: "pem", type: "spki" }) as string).asymmetricKeyType,
    ).toBe("ed25519");
  });

  it("accepts only paths that stay inside the slot", () => {
    for (const path of ["a", "a/b.js", "dir/.hidden", "x..y"])
      expect(isSafeBundlePath(path)).toBe(true);
    for (const path of [
      "",
      "/etc/passwd",
      "../x",
      "a/../../x",
      "a//b",
      "./a",
      "a/.",
      "a\\b",
      "a\0b",
    ]) {
      expect(isSafeBundlePath(path)).toBe(false);
    }
  });

  it.each([
    [{ formatVersion: 2, firmware, files: [] }, "manifest.formatVersion"],
    [
      { formatVersion: 1, firmware: { ...firmware, uuid: "" }, files: [] },
      "manifest.firmware.uuid",
    ],
    [{ formatVersion: 1, firmware: { ...firmware, Bad: "x" }, files: [] }, "manifest.firmware.Bad"],
    [
      {
        formatVersion: 1,
        firmware,
        files: [{ path: "../x", mode: 420, size: 0, sha256: "0".repeat(64) }],
      },
      "manifest.files[0].path",
    ],
    [
      {
        formatVersion: 1,
        firmware,
        files: [{ path: "a", mode: 0o7777, size: 0, sha256: "0".repeat(64) }],
      },
      "manifest.files[0].mode",
    ],
    [
      {
        formatVersion: 1,
        firmware,
        files: [{ path: "a", mode: 420, size: -1, sha256: "0".repeat(64) }],
      },
      "manifest.files[0].size",
    ],
    [
      { formatVersion: 1, firmware, files: [{ path: "a", mode: 420, size: 0, sha256: "XY" }] },
      "manifest.files[0].sha256",
    ],
    [
      {
        formatVersion: 1,
        firmware,
        files: [
          { path: "a", mode: 420, size: 0, sha256: "0".repeat(64) },
          { path: "a", mode: 420, size: 0, sha256: "0".repeat(64) },
        ],
      },
      "manifest.files[1].path",
    ],
    [
      {
        formatVersion: 1,
        firmware,
        files: [
          { path: "a", mode: 420, size: 0, sha256: "0".repeat(64) },
          { path: "a/b", mode: 420, size: 0, sha256: "0".repeat(64) },
        ],
      },
      "manifest.files",
    ],
  ])("refuses manifest %#, naming %s", (manifest, path) => {
    try {
      checkManifest(manifest);
      throw new Error("accepted");
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((issue) => issue.path)).toContain(path);
    }
  });

  it("refuses to build a bundle with an unsafe path", () => {
    expect(() =>
      createBundle({ firmware, files: [{ path: "../evil", data: Buffer.from("x") }], privateKey }),
    ).toThrow(ValidationError);
  });
});
