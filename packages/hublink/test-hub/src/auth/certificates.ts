// Client-certificate authentication, the decision NervesHub makes about a device certificate.
//
// Follows nerves-hub/nerves_hub_web docs/device_authentication.md ("Authentication steps") and
// lib/nerves_hub/ssl.ex (`decide/2`, `verify_cert/1`, `maybe_register/1`,
// `maybe_register_from_new_public_key/1`, `maybe_register_from_existing_public_key/2`), with the
// device identifier taken from lib/nerves_hub/device_link/authentication.ex
// (`Certificates.get_device_by_x509/1`):
//
// 1. a certificate already on file (same DER) admits its device — expiry is not checked for a
//    stored certificate ("We have always been ignoring expiration if we already have the
//    certificate stored");
// 2. a known public key with a new certificate (rotation) needs the same common name as the
//    device, a registered signer and a valid path; the new certificate is then recorded;
// 3. otherwise the certificate needs a common name, a registered signer that signed it, a valid
//    path (signature and validity dates) and a device with that identifier — or a signer with
//    just-in-time provisioning, which creates the device.
//
// Pure: the registry is passed in and changes are returned, never applied here.

import { createHash, X509Certificate } from "node:crypto";

export interface RegisteredSigner {
  certificate: X509Certificate;
  /** Just-in-time provisioning: unknown devices signed by this CA join this product. */
  jitpProduct?: string;
  /** Check the signer's own validity dates (`check_expiration` on the CA record). */
  checkExpiration?: boolean;
}

export interface RegisteredDeviceCertificate {
  identifier: string;
  /** SHA-256 of the DER certificate, hex. */
  fingerprint: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo, hex. */
  publicKeyFingerprint: string;
}

export interface CertificateRegistryView {
  certificateByFingerprint(fingerprint: string): RegisteredDeviceCertificate | undefined;
  certificateByPublicKey(publicKeyFingerprint: string): RegisteredDeviceCertificate | undefined;
  signers(): readonly RegisteredSigner[];
  deviceExists(identifier: string): boolean;
}

/** The reasons `NervesHub.SSL` fails a certificate with. */
export type CertificateFailureReason =
  | "unreadable_certificate"
  | "missing_common_name"
  | "mismatched_cert"
  | "unknown_ca"
  | "cert_expired"
  | "invalid_signature"
  | "device_not_registered";

export type CertificateVerdict =
  | {
      ok: true;
      identifier: string;
      /** How the device was admitted; anything but `known_certificate` records the certificate. */
      via: "known_certificate" | "rotated_certificate" | "new_certificate" | "jitp";
      certificate: RegisteredDeviceCertificate;
      /** For `jitp`: the product the new device belongs to. */
      jitpProduct?: string;
    }
  | { ok: false; reason: CertificateFailureReason };

export function certificateFingerprints(certificate: X509Certificate): {
  fingerprint: string;
  publicKeyFingerprint: string;
} {
  const spki = certificate.publicKey.export({ type: "spki", format: "der" });
  return {
    fingerprint: createHash("sha256").update(certificate.raw).digest("hex"),
    publicKeyFingerprint: createHash("sha256").update(spki).digest("hex"),
  };
}

/** The subject's common name, or `undefined`. Node renders the subject one `KEY=value` a line. */
export function commonName(certificate: X509Certificate): string | undefined {
  for (const line of certificate.subject.split("\n")) {
    if (line.startsWith("CN=")) return line.slice(3);
  }
  return undefined;
}

function withinValidity(certificate: X509Certificate, nowMs: number): boolean {
  return Date.parse(certificate.validFrom) <= nowMs && nowMs <= Date.parse(certificate.validTo);
}

/** The registered signer that issued and signed `certificate`, with the path checks. */
function findSigner(
  certificate: X509Certificate,
  signers: readonly RegisteredSigner[],
  nowMs: number,
): { signer: RegisteredSigner } | { failure: CertificateFailureReason } {
  const issuers = signers.filter((signer) => certificate.checkIssued(signer.certificate));
  if (issuers.length === 0) return { failure: "unknown_ca" };
  const signer = issuers.find((candidate) => certificate.verify(candidate.certificate.publicKey));
  if (!signer) return { failure: "invalid_signature" };
  if (!withinValidity(certificate, nowMs)) return { failure: "cert_expired" };
  if (signer.checkExpiration && !withinValidity(signer.certificate, nowMs)) {
    return { failure: "cert_expired" };
  }
  return { signer };
}

/** Decides whether a peer certificate (DER) admits a device. Never throws. */
export function decideCertificate(
  der: Uint8Array,
  registry: CertificateRegistryView,
  nowMs: number,
): CertificateVerdict {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch {
    return { ok: false, reason: "unreadable_certificate" };
  }
  const fingerprints = certificateFingerprints(certificate);
  const known = registry.certificateByFingerprint(fingerprints.fingerprint);
  if (known)
    return { ok: true, identifier: known.identifier, via: "known_certificate", certificate: known };

  const name = commonName(certificate);
  const sameKey = registry.certificateByPublicKey(fingerprints.publicKeyFingerprint);
  if (sameKey) {
    if (!name) return { ok: false, reason: "missing_common_name" };
    if (name !== sameKey.identifier) return { ok: false, reason: "mismatched_cert" };
    const found = findSigner(certificate, registry.signers(), nowMs);
    if ("failure" in found) return { ok: false, reason: found.failure };
    return {
      ok: true,
      identifier: name,
      via: "rotated_certificate",
      certificate: { identifier: name, ...fingerprints },
    };
  }

  if (!name) return { ok: false, reason: "missing_common_name" };
  const found = findSigner(certificate, registry.signers(), nowMs);
  if ("failure" in found) return { ok: false, reason: found.failure };
  const record = { identifier: name, ...fingerprints };
  if (registry.deviceExists(name)) {
    return { ok: true, identifier: name, via: "new_certificate", certificate: record };
  }
  if (found.signer.jitpProduct !== undefined) {
    return {
      ok: true,
      identifier: name,
      via: "jitp",
      certificate: record,
      jitpProduct: found.signer.jitpProduct,
    };
  }
  return { ok: false, reason: "device_not_registered" };
}
