// What the hub knows between connections: products, devices, access keys, certificates,
// signers and firmware. The stand-in for NervesHub's database.

import { randomBytes, X509Certificate } from "node:crypto";
import { ValidationError } from "@runtime/errors";
import {
  type CertificateRegistryView,
  certificateFingerprints,
  type RegisteredDeviceCertificate,
  type RegisteredSigner,
} from "../auth/certificates.js";
import type { SharedSecretAuthRecord } from "../auth/shared-secret.js";
import type { FirmwareMetadata, FirmwareValidationStatus } from "../device/join.js";
import type { JsonValue } from "../phoenix/frame.js";
import {
  type DeviceOptions,
  type DeviceSnapshot,
  EXTENSION_NAMES,
  type ExtensionName,
  type ExtensionStatus,
  type HubFirmware,
  type InflightUpdate,
  type ProductOptions,
  type SharedSecretCredentials,
  type SignerOptions,
  type UpdateStatusRecord,
} from "./types.js";

export interface ProductState {
  name: string;
  extensions: Set<ExtensionName>;
}

export interface DeviceState {
  identifier: string;
  product: string;
  extensionSettings: Partial<Record<ExtensionName, boolean>>;
  connectingCode: string | undefined;
  updatesEnabled: boolean;
  joinParams: Record<string, JsonValue> | null;
  deviceApiVersion: string | null;
  firmwareMetadata: FirmwareMetadata | null;
  firmwareValidation: FirmwareValidationStatus;
  firmwareAutoRevertDetected: boolean;
  networkInterface: string | null;
  connectionTypes: JsonValue | null;
  inflightUpdate: InflightUpdate | null;
  updatesBlockedUntilMs: number | null;
  updateStatuses: UpdateStatusRecord[];
  firmwareHistory: Array<{ previousUuid: string | null; uuid: string; atMs: number }>;
  consoleVersion: string | null;
  extensions: Map<string, { version: JsonValue; attach: boolean; status: ExtensionStatus }>;
  lastHealthReport: JsonValue | null;
  location: JsonValue | null;
  networkIdentities: JsonValue | null;
  /** Control: the next joins answer `{"error": "could not connect"}`. */
  failJoins: number;
}

/** A key in the server's format: prefix + unpadded base64 of 32 random bytes (43 characters). */
export function generateKey(prefix: "nhp_" | "nhd_"): string {
  return prefix + randomBytes(32).toString("base64").replace(/=+$/, "");
}

export function generateSecret(): string {
  return randomBytes(32).toString("base64").replace(/=+$/, "");
}

function toCertificate(value: string | Uint8Array, path: string): X509Certificate {
  try {
    return new X509Certificate(typeof value === "string" ? value : Buffer.from(value));
  } catch {
    throw new ValidationError({
      path,
      value: "<certificate>",
      reason: "not a PEM/DER certificate",
    });
  }
}

export class Registry implements CertificateRegistryView {
  readonly products = new Map<string, ProductState>();
  readonly devices = new Map<string, DeviceState>();
  readonly keys = new Map<string, SharedSecretAuthRecord & { product: string }>();
  readonly #certificates = new Map<string, RegisteredDeviceCertificate>();
  readonly #publicKeys = new Map<string, RegisteredDeviceCertificate>();
  readonly #signers: RegisteredSigner[] = [];
  readonly firmware = new Map<string, HubFirmware>();

  addProduct(options: ProductOptions): { name: string; sharedSecrets: SharedSecretCredentials[] } {
    if (typeof options.name !== "string" || options.name === "") {
      throw new ValidationError({ path: "name", value: options.name, reason: "must be a name" });
    }
    const extensions = new Set<ExtensionName>();
    for (const [index, name] of (options.extensions ?? []).entries()) {
      if (!EXTENSION_NAMES.includes(name)) {
        throw new ValidationError({
          path: `extensions[${index}]`,
          value: name,
          reason: `must be one of ${EXTENSION_NAMES.join(", ")}`,
        });
      }
      extensions.add(name);
    }
    const existing = this.products.get(options.name);
    if (existing) for (const name of extensions) existing.extensions.add(name);
    else this.products.set(options.name, { name: options.name, extensions });
    const sharedSecrets = this.#addSecrets("nhp_", options.sharedSecrets, options.name);
    return { name: options.name, sharedSecrets };
  }

  #addSecrets(
    prefix: "nhp_" | "nhd_",
    request: ProductOptions["sharedSecrets"],
    product: string,
    identifier?: string,
  ): SharedSecretCredentials[] {
    if (request === undefined || request === false) return [];
    const wanted = request === true ? [{}] : request;
    return wanted.map((partial, index) => {
      const key = partial.key ?? generateKey(prefix);
      const secret = partial.secret ?? generateSecret();
      if (prefix === "nhp_" && !key.startsWith("nhp_")) {
        throw new ValidationError({
          path: `sharedSecrets[${index}].key`,
          value: key,
          reason: "product keys start with nhp_ (the server routes on the prefix)",
        });
      }
      if (prefix === "nhd_" && key.startsWith("nhp_")) {
        throw new ValidationError({
          path: `sharedSecrets[${index}].key`,
          value: key,
          reason: "device keys must not start with nhp_",
        });
      }
      this.keys.set(key, { key, secret, product, ...(identifier ? { identifier } : {}) });
      return { key, secret };
    });
  }

  addDevice(options: DeviceOptions): {
    identifier: string;
    sharedSecrets: SharedSecretCredentials[];
  } {
    if (typeof options.identifier !== "string" || options.identifier === "") {
      throw new ValidationError({
        path: "identifier",
        value: options.identifier,
        reason: "must be a non-empty string",
      });
    }
    if (!this.products.has(options.product)) {
      throw new ValidationError({
        path: "product",
        value: options.product,
        reason: "no such product (add it first)",
      });
    }
    const existing = this.devices.get(options.identifier);
    if (existing && existing.product !== options.product) {
      throw new ValidationError({
        path: "identifier",
        value: options.identifier,
        reason: `already belongs to product ${existing.product}`,
      });
    }
    const device = existing ?? this.createDevice(options.identifier, options.product);
    if (options.extensions) Object.assign(device.extensionSettings, options.extensions);
    if (options.connectingCode !== undefined) device.connectingCode = options.connectingCode;
    if (options.updatesEnabled !== undefined) device.updatesEnabled = options.updatesEnabled;
    for (const [index, pem] of (options.certificates ?? []).entries()) {
      const certificate = toCertificate(pem, `certificates[${index}]`);
      this.recordCertificate({
        identifier: options.identifier,
        ...certificateFingerprints(certificate),
      });
    }
    const sharedSecrets = this.#addSecrets(
      "nhd_",
      options.sharedSecrets,
      options.product,
      options.identifier,
    );
    return { identifier: options.identifier, sharedSecrets };
  }

  createDevice(identifier: string, product: string): DeviceState {
    const device: DeviceState = {
      identifier,
      product,
      extensionSettings: {},
      connectingCode: undefined,
      updatesEnabled: true,
      joinParams: null,
      deviceApiVersion: null,
      firmwareMetadata: null,
      firmwareValidation: "unknown",
      firmwareAutoRevertDetected: false,
      networkInterface: null,
      connectionTypes: null,
      inflightUpdate: null,
      updatesBlockedUntilMs: null,
      updateStatuses: [],
      firmwareHistory: [],
      consoleVersion: null,
      extensions: new Map(),
      lastHealthReport: null,
      location: null,
      networkIdentities: null,
      failJoins: 0,
    };
    this.devices.set(identifier, device);
    return device;
  }

  addSigner(options: SignerOptions): void {
    this.#signers.push({
      certificate: toCertificate(options.certificate, "certificate"),
      ...(options.jitpProduct !== undefined ? { jitpProduct: options.jitpProduct } : {}),
      ...(options.checkExpiration !== undefined
        ? { checkExpiration: options.checkExpiration }
        : {}),
    });
  }

  recordCertificate(certificate: RegisteredDeviceCertificate): void {
    this.#certificates.set(certificate.fingerprint, certificate);
    this.#publicKeys.set(certificate.publicKeyFingerprint, certificate);
  }

  certificateByFingerprint(fingerprint: string): RegisteredDeviceCertificate | undefined {
    return this.#certificates.get(fingerprint);
  }

  certificateByPublicKey(publicKeyFingerprint: string): RegisteredDeviceCertificate | undefined {
    return this.#publicKeys.get(publicKeyFingerprint);
  }

  signers(): readonly RegisteredSigner[] {
    return this.#signers;
  }

  deviceExists(identifier: string): boolean {
    return this.devices.has(identifier);
  }

  /** Extensions a device may use: on in its product, not turned off for the device. */
  allowedExtensions(device: DeviceState): Set<ExtensionName> {
    const product = this.products.get(device.product);
    const allowed = new Set<ExtensionName>();
    for (const name of product?.extensions ?? []) {
      if (device.extensionSettings[name] !== false) allowed.add(name);
    }
    return allowed;
  }

  /** Firmware of `product` with this uuid (`get_firmware_by_product_id_and_uuid/2`). */
  firmwareByUuid(product: string, uuid: unknown): FirmwareMetadata | undefined {
    if (typeof uuid !== "string") return undefined;
    const firmware = this.firmware.get(uuid);
    return firmware && firmware.metadata.product === product ? firmware.metadata : undefined;
  }
}

export function snapshotDevice(
  device: DeviceState,
  connection: { id: number; joined: boolean } | undefined,
): DeviceSnapshot {
  return structuredClone({
    identifier: device.identifier,
    product: device.product,
    connected: connection !== undefined,
    joined: connection?.joined ?? false,
    connectionId: connection?.id ?? null,
    joinParams: device.joinParams,
    deviceApiVersion: device.deviceApiVersion,
    firmwareMetadata: device.firmwareMetadata,
    firmwareValidation: device.firmwareValidation,
    firmwareAutoRevertDetected: device.firmwareAutoRevertDetected,
    networkInterface: device.networkInterface,
    connectionTypes: device.connectionTypes,
    inflightUpdate: device.inflightUpdate,
    updatesEnabled: device.updatesEnabled,
    updatesBlockedUntilMs: device.updatesBlockedUntilMs,
    updateStatuses: device.updateStatuses,
    firmwareHistory: device.firmwareHistory,
    consoleVersion: device.consoleVersion,
    extensions: Object.fromEntries(device.extensions),
    lastHealthReport: device.lastHealthReport,
    location: device.location,
    networkIdentities: device.networkIdentities,
  });
}
