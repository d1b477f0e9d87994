import { pbkdf2Sync } from "node:crypto";
import { ValidationError } from "@runtime/errors";
import { toBytes } from "./strings.js";

/** A raw WPA PSK: exactly 64 hex digits (32 bytes). */
export const RAW_PSK = /^[0-9a-fA-F]{64}$/;

/** Why a passphrase or SSID cannot make a PSK; undefined when it can. */
export function passphraseProblem(passphrase: string): string | undefined {
  const bytes = toBytes(passphrase);
  if (bytes.length === 64) {
    return RAW_PSK.test(passphrase) ? undefined : "a 64-character PSK must be all hex digits";
  }
  if (bytes.length < 8) return "must be 8..63 characters (a passphrase) or 64 hex digits (a PSK)";
  if (bytes.length > 63) return "must be 8..63 characters (a passphrase) or 64 hex digits (a PSK)";
  for (const byte of bytes) {
    if (byte < 0x20 || byte > 0x7e) return "a passphrase may only contain printable ASCII";
  }
  return undefined;
}

/** Why an SSID is not valid; undefined when it is. SSIDs are 1..32 bytes (UTF-8 counts bytes). */
export function ssidProblem(ssid: string | Uint8Array): string | undefined {
  const length = toBytes(ssid).length;
  if (length < 1 || length > 32) return `must be 1..32 bytes (got ${length})`;
  return undefined;
}

/**
 * WPA/WPA2 passphrase to PSK (IEEE 802.11-2020 J.4, "Appendix H.4" of 802.11i):
 * PBKDF2-HMAC-SHA1(passphrase, SSID, 4096 iterations, 32 bytes), as 64 uppercase hex digits. A
 * value that already is a 64-hex-digit PSK is returned uppercased. Throws a ValidationError
 * (paths `psk` and `ssid`) for a passphrase or SSID out of range.
 */
export function derivePsk(ssid: string | Uint8Array, passphrase: string): string {
  const passphraseIssue = passphraseProblem(passphrase);
  if (passphraseIssue) {
    throw new ValidationError({ path: "psk", value: passphrase, reason: passphraseIssue });
  }
  if (RAW_PSK.test(passphrase)) return passphrase.toUpperCase();
  const ssidIssue = ssidProblem(ssid);
  if (ssidIssue) throw new ValidationError({ path: "ssid", value: ssid, reason: ssidIssue });
  return pbkdf2Sync(Buffer.from(passphrase, "latin1"), toBytes(ssid), 4096, 32, "sha1")
    .toString("hex")
    .toUpperCase();
}
