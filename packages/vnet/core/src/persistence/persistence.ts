import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { EnvelopeError, openEnvelope, sealEnvelope, writeFileAtomic } from "@runtime/atomic-file";
import { DeviceError } from "@runtime/errors";
import type { NetworkConfig } from "../config.js";
import { errorMessage } from "../log.js";

/** Why a saved configuration could not be used. */
export type PersistenceErrorCode =
  /** Nothing saved for this interface. */
  | "NOT_FOUND"
  /** Truncated, bit-rotted, or not a file of ours. */
  | "CORRUPT"
  /** Authentication failed: a different key, or tampering. */
  | "DECRYPTION_FAILED"
  /** Written by a newer version of this library. */
  | "UNSUPPORTED_VERSION"
  /** The file system refused (permissions, I/O error). */
  | "UNREADABLE"
  /** The key function failed or gave a key of the wrong size. */
  | "KEY_UNAVAILABLE";

export class PersistenceError extends DeviceError {
  override name = "PersistenceError";
  declare readonly code: PersistenceErrorCode;
  constructor(code: PersistenceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Where configurations survive reboots. Pass `persistence: null` to keep nothing. */
export interface Persistence {
  /** Interfaces with a saved configuration, sorted. */
  enumerate(): Promise<string[]>;
  /** The saved configuration; throws {@link PersistenceError}. */
  load(ifname: string): Promise<NetworkConfig>;
  save(ifname: string, config: NetworkConfig): Promise<void>;
  /** Forgets the interface's saved configuration (no error when there is none). */
  clear(ifname: string): Promise<void>;
}

/** 32 bytes, or a function producing them (called once, on first use; failures are retried). */
export type PersistenceKey = Uint8Array | (() => Uint8Array | Promise<Uint8Array>);

export interface FlatFilePersistenceOptions {
  /** One file per interface here. Default `/root/vnet`. */
  directory?: string;
  /**
   * AES-256-GCM key. Default: a fixed key derived from a public string, which only obfuscates
   * (keeps WiFi passwords out of a casual `strings`). Give a device-unique key for secrecy.
   */
  key?: PersistenceKey;
}

export const DEFAULT_PERSISTENCE_DIRECTORY = "/root/vnet";
const FORMAT = { magic: "VNETCONF", version: 1 } as const;
const AAD = Buffer.from("@vnet/core persisted configuration v1");
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The default (public, obfuscation-only) key. */
export const DEFAULT_PERSISTENCE_KEY: Buffer = createHash("sha256")
  .update("@vnet/core default persistence key: obfuscation, not security")
  .digest();

function checkKey(key: Uint8Array): Buffer {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new PersistenceError(
      "KEY_UNAVAILABLE",
      `persistence key must be 32 bytes (AES-256): got ${key instanceof Uint8Array ? `${key.length} bytes` : typeof key}`,
    );
  }
  return Buffer.from(key);
}

/**
 * Encodes one saved configuration (pure apart from the random IV). File layout: the
 * `@runtime/atomic-file` envelope (magic `VNETCONF`, version 1, length, SHA-256) around
 * `IV (12) | GCM tag (16) | AES-256-GCM ciphertext` of the JSON
 * `{ "ifname", "config", "saved_at" }`. The checksum tells corruption from a wrong key.
 */
export function encodeSavedConfig(
  ifname: string,
  config: NetworkConfig,
  key: Uint8Array,
  options: { iv?: Uint8Array; savedAt?: Date } = {},
): Buffer {
  const iv = options.iv ? Buffer.from(options.iv) : randomBytes(IV_BYTES);
  if (iv.length !== IV_BYTES) throw new RangeError(`IV must be ${IV_BYTES} bytes`);
  const cipher = createCipheriv("aes-256-gcm", checkKey(key), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(AAD);
  const plaintext = Buffer.from(
    JSON.stringify({ ifname, config, saved_at: (options.savedAt ?? new Date()).toISOString() }),
  );
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return sealEnvelope(Buffer.concat([iv, cipher.getAuthTag(), ciphertext]), FORMAT);
}

/** Decodes a saved configuration; throws {@link PersistenceError} saying what is wrong. */
export function decodeSavedConfig(
  bytes: Uint8Array,
  key: Uint8Array,
): { ifname: string; config: NetworkConfig; savedAt: string } {
  let opened: { version: number; payload: Buffer };
  try {
    opened = openEnvelope(bytes, FORMAT);
  } catch (error) {
    if (error instanceof EnvelopeError) {
      throw new PersistenceError("CORRUPT", error.message, { cause: error });
    }
    throw error;
  }
  if (opened.version !== FORMAT.version) {
    throw new PersistenceError(
      "UNSUPPORTED_VERSION",
      `format version ${opened.version}; this library reads version ${FORMAT.version}`,
    );
  }
  const { payload } = opened;
  if (payload.length < IV_BYTES + TAG_BYTES) {
    throw new PersistenceError("CORRUPT", "payload shorter than IV and tag");
  }
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv("aes-256-gcm", checkKey(key), payload.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(AAD);
    decipher.setAuthTag(payload.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    plaintext = Buffer.concat([
      decipher.update(payload.subarray(IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    if (error instanceof PersistenceError) throw error;
    throw new PersistenceError(
      "DECRYPTION_FAILED",
      "authentication failed: wrong key or tampered file",
      {
        cause: error,
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext.toString("utf8"));
  } catch (error) {
    throw new PersistenceError("CORRUPT", "decrypted content is not JSON", { cause: error });
  }
  const record = parsed as { ifname?: unknown; config?: unknown; saved_at?: unknown };
  if (
    typeof record?.ifname !== "string" ||
    typeof record.config !== "object" ||
    record.config === null ||
    typeof (record.config as { type?: unknown }).type !== "string"
  ) {
    throw new PersistenceError("CORRUPT", "decrypted content is not a saved configuration");
  }
  return {
    ifname: record.ifname,
    config: record.config as NetworkConfig,
    savedAt: typeof record.saved_at === "string" ? record.saved_at : "",
  };
}

const FILE_NAME = /^[^\s/:.\0][^\s/:\0]{0,14}$/;

/**
 * One encrypted file per interface in `directory`, written atomically (temp file, fsync,
 * rename, directory fsync) with mode 0600.
 */
export function flatFilePersistence(options: FlatFilePersistenceOptions = {}): Persistence {
  const directory = options.directory ?? DEFAULT_PERSISTENCE_DIRECTORY;
  const keySource = options.key ?? DEFAULT_PERSISTENCE_KEY;
  if (keySource instanceof Uint8Array) checkKey(keySource);
  let cachedKey: Buffer | undefined;

  async function key(): Promise<Buffer> {
    if (cachedKey) return cachedKey;
    if (keySource instanceof Uint8Array) {
      cachedKey = checkKey(keySource);
      return cachedKey;
    }
    let produced: Uint8Array;
    try {
      produced = await keySource();
    } catch (error) {
      throw new PersistenceError("KEY_UNAVAILABLE", `key function failed: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    cachedKey = checkKey(produced);
    return cachedKey;
  }

  function pathOf(ifname: string): string {
    if (!FILE_NAME.test(ifname))
      throw new PersistenceError("UNREADABLE", `not an interface name: ${ifname}`);
    return join(directory, ifname);
  }

  return {
    async enumerate() {
      try {
        return (await readdir(directory)).filter((name) => FILE_NAME.test(name)).sort();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw new PersistenceError(
          "UNREADABLE",
          `cannot list ${directory}: ${errorMessage(error)}`,
          {
            cause: error,
          },
        );
      }
    },
    async load(ifname) {
      const path = pathOf(ifname);
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (error) {
        const code =
          (error as NodeJS.ErrnoException).code === "ENOENT" ? "NOT_FOUND" : "UNREADABLE";
        throw new PersistenceError(code, `cannot read ${path}: ${errorMessage(error)}`, {
          cause: error,
        });
      }
      const decoded = decodeSavedConfig(bytes, await key());
      if (decoded.ifname !== ifname) {
        throw new PersistenceError(
          "CORRUPT",
          `${path} holds the configuration of ${decoded.ifname}`,
        );
      }
      return decoded.config;
    },
    async save(ifname, config) {
      const path = pathOf(ifname);
      await mkdir(directory, { recursive: true, mode: 0o700 });
      await writeFileAtomic(path, encodeSavedConfig(ifname, config, await key()), { mode: 0o600 });
    },
    async clear(ifname) {
      await rm(pathOf(ifname), { force: true });
    },
  };
}
