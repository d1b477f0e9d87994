// Pure pieces of the control protocol: telling events from responses, parsing responses, keeping
// secrets out of error messages.
import { isSecretField, REDACTED } from "@runtime/errors";
import { decodePrintfEscapes } from "../config/strings.js";
import { WpaControlError } from "./errors.js";

/** Unsolicited messages start with `<priority>`; everything else answers the pending request. */
export function isEventMessage(message: string): boolean {
  return /^<\d+>/.test(message);
}

/** Responses keep their text; one trailing newline is removed (wpa_cli strips it too). */
export function normalizeResponse(response: string): string {
  return response.endsWith("\n") ? response.slice(0, -1) : response;
}

/** `FAIL`, `FAIL-BUSY`, `UNKNOWN COMMAND`, ... */
export function isFailure(response: string): boolean {
  const text = response.trim();
  return text === "FAIL" || text.startsWith("FAIL-") || text === "UNKNOWN COMMAND";
}

const SECRET_RESPONSE_FIELDS = /^CTRL-RSP-(PASSWORD|NEW_PASSWORD|PIN|OTP|PASSPHRASE|SIM)-/i;

/**
 * The command with any secret value replaced by `****`: `SET_NETWORK 0 psk …`, `SET_CRED 0
 * password …`, `SET sae_password …`, `CTRL-RSP-PASSWORD-0:…`, `WPS_PIN any 1234`. Used for every
 * error message and log line.
 */
export function redactCommand(command: string): string {
  const setNetwork = /^(SET_NETWORK|SET_CRED)\s+(\S+)\s+(\S+)\s/i.exec(command);
  if (setNetwork && isSecretField(setNetwork[3]!, ["wep_key0", "identity_secret"])) {
    return `${setNetwork[0]}${REDACTED}`;
  }
  const set = /^SET\s+(\S+)\s/i.exec(command);
  if (set && isSecretField(set[1]!)) return `${set[0]}${REDACTED}`;
  const response = SECRET_RESPONSE_FIELDS.exec(command);
  if (response) {
    const colon = command.indexOf(":");
    return colon < 0 ? command : `${command.slice(0, colon + 1)}${REDACTED}`;
  }
  if (/^WPS_PIN\s/i.test(command)) return `WPS_PIN ${REDACTED}`;
  return command;
}

/** True when {@link redactCommand} would hide something. */
export function carriesSecret(command: string): boolean {
  return redactCommand(command) !== command;
}

/** Throws COMMAND_FAILED unless the response is `OK`. */
export function expectOk(command: string, response: string): void {
  if (response.trim() !== "OK") {
    throw new WpaControlError(
      "COMMAND_FAILED",
      `wpa_supplicant answered ${JSON.stringify(response.trim())} to ${redactCommand(command)}`,
      { command: redactCommand(command), response },
    );
  }
}

/** Throws COMMAND_FAILED for `FAIL…` / `UNKNOWN COMMAND` answers. */
export function expectNotFailure(command: string, response: string): string {
  if (isFailure(response)) {
    throw new WpaControlError(
      "COMMAND_FAILED",
      `wpa_supplicant answered ${JSON.stringify(response.trim())} to ${redactCommand(command)}`,
      { command: redactCommand(command), response },
    );
  }
  return response;
}

/** `key=value` lines (STATUS, SIGNAL_POLL, BSS, MIB): split at the first `=`. */
export function parseKeyValueLines(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const equals = line.indexOf("=");
    if (equals <= 0) continue;
    result[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return result;
}

/** STATUS as key/value pairs, with the fields everyone needs lifted out and typed. */
export interface WpaStatus {
  /** `DISCONNECTED`, `SCANNING`, `ASSOCIATING`, `ASSOCIATED`, `4WAY_HANDSHAKE`, `COMPLETED`, … */
  wpa_state: string;
  /** EAP state machine: `IDLE`, `RECEIVED`, `SUCCESS`, `FAILURE`, … (absent without 802.1X). */
  eap_state?: string;
  /** `Authorized` / `Unauthorized` (802.1X port). */
  supp_port_status?: string;
  /** e.g. `25 (EAP-PEAP)`. */
  selected_method?: string;
  bssid?: string;
  /** Decoded SSID. */
  ssid?: string;
  id?: number;
  ip_address?: string;
  address?: string;
  key_mgmt?: string;
  /** Every line as returned, keys unchanged (`EAP state`, `suppPortStatus`, …). */
  raw: Record<string, string>;
}

export function parseStatus(text: string): WpaStatus {
  const raw = parseKeyValueLines(text);
  const status: WpaStatus = { wpa_state: raw["wpa_state"] ?? "UNKNOWN", raw };
  const copy = (from: string, to: Exclude<keyof WpaStatus, "raw" | "id" | "wpa_state">) => {
    const value = raw[from];
    if (value !== undefined) status[to] = value;
  };
  copy("EAP state", "eap_state");
  copy("suppPortStatus", "supp_port_status");
  copy("selectedMethod", "selected_method");
  copy("bssid", "bssid");
  copy("ip_address", "ip_address");
  copy("address", "address");
  copy("key_mgmt", "key_mgmt");
  if (raw["ssid"] !== undefined) status.ssid = decodeText(raw["ssid"]);
  if (raw["id"] !== undefined && /^\d+$/.test(raw["id"])) status.id = Number(raw["id"]);
  return status;
}

function decodeText(escaped: string): string {
  return Buffer.from(decodePrintfEscapes(escaped)).toString("utf8");
}

/** One row of LIST_NETWORKS. */
export interface ListedNetwork {
  id: number;
  /** Decoded SSID (empty for a wired network without one). */
  ssid: string;
  /** `any` or a MAC address. */
  bssid: string;
  /** e.g. `["CURRENT"]`, `["DISABLED"]`, `["TEMP-DISABLED"]`. */
  flags: string[];
}

function parseFlags(text: string): string[] {
  return [...text.matchAll(/\[([^\]]*)\]/g)].map((match) => match[1]!);
}

/** LIST_NETWORKS: a header line, then `id<TAB>ssid<TAB>bssid<TAB>flags`. */
export function parseListNetworks(text: string): ListedNetwork[] {
  const [header, ...rows] = text.split("\n");
  if (!header?.startsWith("network id")) {
    throw new WpaControlError("BAD_RESPONSE", "LIST_NETWORKS answer has no header", {
      command: "LIST_NETWORKS",
      response: text,
    });
  }
  return rows
    .filter((row) => row.length > 0)
    .map((row) => {
      const [id = "", ssid = "", bssid = "", flags = ""] = row.split("\t");
      return { id: Number(id), ssid: decodeText(ssid), bssid, flags: parseFlags(flags) };
    });
}

/** One row of SCAN_RESULTS. */
export interface ScanResult {
  bssid: string;
  /** MHz. */
  frequency: number;
  /** dBm. */
  signal: number;
  /** e.g. `["WPA2-PSK-CCMP", "ESS"]`. */
  flags: string[];
  /** Decoded SSID. */
  ssid: string;
}

/** SCAN_RESULTS: a header line, then `bssid<TAB>freq<TAB>signal<TAB>flags<TAB>ssid`. */
export function parseScanResults(text: string): ScanResult[] {
  const [header, ...rows] = text.split("\n");
  if (!header?.startsWith("bssid")) {
    throw new WpaControlError("BAD_RESPONSE", "SCAN_RESULTS answer has no header", {
      command: "SCAN_RESULTS",
      response: text,
    });
  }
  return rows
    .filter((row) => row.length > 0)
    .map((row) => {
      const [bssid = "", frequency = "", signal = "", flags = "", ...ssid] = row.split("\t");
      return {
        bssid,
        frequency: Number(frequency),
        signal: Number(signal),
        flags: parseFlags(flags),
        ssid: decodeText(ssid.join("\t")),
      };
    });
}
