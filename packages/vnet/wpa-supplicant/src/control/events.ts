// Decoding of unsolicited control-interface messages (`<N>NAME text`). Pure.
import { decodePrintfEscapes } from "../config/strings.js";

/** What every event carries, known or not. */
export interface WpaEventBase {
  /** The first word, e.g. `CTRL-EVENT-EAP-SUCCESS`, `WPS-PBC-ACTIVE`, `CTRL-REQ-PASSWORD-0:…`. */
  name: string;
  /** The `<N>` level: 0 excessive … 2 debug, 3 info, 4 warning, 5 error. */
  priority: number;
  /** The text after the name. */
  message: string;
  /** `key=value` pairs found in the message; quotes removed, `\xHH` escapes decoded. */
  fields: Record<string, string>;
  /** The whole message as received, without the `<N>` prefix. */
  raw: string;
}

/** A decoded event: `kind` tells which; unknown events arrive as `kind: "other"`. */
export type WpaEvent = WpaEventBase &
  (
    | { kind: "connected"; bssid?: string; networkId?: number; idStr?: string }
    | { kind: "disconnected"; bssid?: string; reason?: number; locallyGenerated: boolean }
    | { kind: "eap-started" }
    | { kind: "eap-success" }
    | { kind: "eap-failure" }
    /** `status` e.g. `started`, `accept proposed method`, `remote certificate verification`, `completion`; `parameter` e.g. `PEAP`, `success`, `failure`. */
    | { kind: "eap-status"; status: string; parameter: string }
    | { kind: "eap-proposed-method"; vendor: number; method: number }
    /** `method` is the name in parentheses, e.g. `PEAP`. */
    | { kind: "eap-method"; method: string }
    | { kind: "eap-peer-cert"; depth?: number; subject?: string; hash?: string }
    | { kind: "eap-tls-cert-error"; reason?: string; subject?: string; error?: string }
    | { kind: "scan-started" }
    | { kind: "scan-results" }
    | { kind: "scan-failed" }
    | { kind: "bss-added"; id: number; bssid: string }
    | { kind: "bss-removed"; id: number; bssid: string }
    | { kind: "network-not-found" }
    | {
        kind: "ssid-temp-disabled";
        networkId?: number;
        ssid?: string;
        authFailures?: number;
        duration?: number;
        reason?: string;
      }
    | { kind: "ssid-reenabled"; networkId?: number; ssid?: string }
    | { kind: "assoc-reject"; bssid?: string; statusCode?: number }
    /** wpa_supplicant asks for a credential: `field` e.g. `PASSWORD`, answer with `CTRL-RSP-…`. */
    | { kind: "credential-request"; field: string; networkId: number; prompt: string }
    | { kind: "terminating" }
    | { kind: "other" }
  );

/** Every `kind`, for exhaustive handling and docs. */
export type WpaEventKind = WpaEvent["kind"];

function decode(value: string): string {
  return Buffer.from(decodePrintfEscapes(value)).toString("utf8");
}

/**
 * `key=value` pairs: values may be `'single quoted'` (taken literally), `"double quoted"` (printf
 * escapes) or bare words.
 */
export function parseEventFields(message: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const pattern = /(?:^|\s)([A-Za-z_][\w-]*)=('[^']*'|"(?:[^"\\]|\\.)*"|\S*)/g;
  for (const match of message.matchAll(pattern)) {
    const key = match[1]!;
    const value = match[2]!;
    if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) {
      fields[key] = value.slice(1, -1);
    } else if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      fields[key] = decode(value.slice(1, -1));
    } else {
      fields[key] = value;
    }
  }
  return fields;
}

function optionalNumber(value: string | undefined): number | undefined {
  if (value === undefined || !/^-?\d+$/.test(value)) return undefined;
  return Number(value);
}

function withOptional<T extends object>(base: T, extra: Record<string, unknown>): T {
  const result = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) result[key] = value;
  return result as T;
}

const MAC = /([0-9a-f]{2}(?::[0-9a-f]{2}){5})/i;

/**
 * Decodes one unsolicited message, with or without its `<N>` prefix (and without an `IFNAME=x `
 * prefix of the global interface). Never throws: anything unrecognised is `kind: "other"`.
 */
export function decodeEvent(message: string): WpaEvent {
  let text = message;
  let priority = 3;
  const prefix = /^<(\d+)>/.exec(text);
  if (prefix) {
    priority = Number(prefix[1]);
    text = text.slice(prefix[0].length);
  }
  text = text.replace(/^IFNAME=\S+ /, "").replace(/\n+$/, "");
  const space = text.indexOf(" ");
  const name = space < 0 ? text : text.slice(0, space);
  const rest = space < 0 ? "" : text.slice(space + 1);
  const fields = parseEventFields(rest);
  const base: WpaEventBase = { name, priority, message: rest, fields, raw: text };

  switch (name) {
    case "CTRL-EVENT-CONNECTED": {
      // "- Connection to 01:80:c2:00:00:03 completed [id=0 id_str=]"
      const bssid = MAC.exec(rest)?.[1]?.toLowerCase();
      const ids = /\[id=(\d+) id_str=([^\]]*)\]/.exec(rest);
      return withOptional(
        { ...base, kind: "connected" as const },
        {
          bssid,
          networkId: optionalNumber(ids?.[1]),
          idStr: ids?.[2] ? ids[2] : undefined,
        },
      );
    }
    case "CTRL-EVENT-DISCONNECTED":
      return withOptional(
        {
          ...base,
          kind: "disconnected" as const,
          locallyGenerated: fields["locally_generated"] === "1",
        },
        { bssid: fields["bssid"], reason: optionalNumber(fields["reason"]) },
      );
    case "CTRL-EVENT-EAP-STARTED":
      return { ...base, kind: "eap-started" };
    case "CTRL-EVENT-EAP-SUCCESS":
      return { ...base, kind: "eap-success" };
    case "CTRL-EVENT-EAP-FAILURE":
      return { ...base, kind: "eap-failure" };
    case "CTRL-EVENT-EAP-STATUS":
      return {
        ...base,
        kind: "eap-status",
        status: fields["status"] ?? "",
        parameter: fields["parameter"] ?? "",
      };
    case "CTRL-EVENT-EAP-PROPOSED-METHOD":
      return {
        ...base,
        kind: "eap-proposed-method",
        vendor: optionalNumber(fields["vendor"]) ?? 0,
        method: optionalNumber(fields["method"]) ?? -1,
      };
    case "CTRL-EVENT-EAP-METHOD": {
      // "EAP vendor 0 method 25 (PEAP) selected"
      const method = /\(([^)]*)\)/.exec(rest)?.[1] ?? "";
      return { ...base, kind: "eap-method", method };
    }
    case "CTRL-EVENT-EAP-PEER-CERT":
      return withOptional(
        { ...base, kind: "eap-peer-cert" as const },
        {
          depth: optionalNumber(fields["depth"]),
          subject: fields["subject"],
          hash: fields["hash"],
        },
      );
    case "CTRL-EVENT-EAP-TLS-CERT-ERROR":
      return withOptional(
        { ...base, kind: "eap-tls-cert-error" as const },
        { reason: fields["reason"], subject: fields["subject"], error: fields["err"] },
      );
    case "CTRL-EVENT-SCAN-STARTED":
      return { ...base, kind: "scan-started" };
    case "CTRL-EVENT-SCAN-RESULTS":
      return { ...base, kind: "scan-results" };
    case "CTRL-EVENT-SCAN-FAILED":
      return { ...base, kind: "scan-failed" };
    case "CTRL-EVENT-BSS-ADDED":
    case "CTRL-EVENT-BSS-REMOVED": {
      const [id = "", bssid = ""] = rest.split(" ");
      return {
        ...base,
        kind: name === "CTRL-EVENT-BSS-ADDED" ? "bss-added" : "bss-removed",
        id: Number(id),
        bssid: bssid.toLowerCase(),
      };
    }
    case "CTRL-EVENT-NETWORK-NOT-FOUND":
      return { ...base, kind: "network-not-found" };
    case "CTRL-EVENT-SSID-TEMP-DISABLED":
      return withOptional(
        { ...base, kind: "ssid-temp-disabled" as const },
        {
          networkId: optionalNumber(fields["id"]),
          ssid: fields["ssid"],
          authFailures: optionalNumber(fields["auth_failures"]),
          duration: optionalNumber(fields["duration"]),
          reason: fields["reason"],
        },
      );
    case "CTRL-EVENT-SSID-REENABLED":
      return withOptional(
        { ...base, kind: "ssid-reenabled" as const },
        { networkId: optionalNumber(fields["id"]), ssid: fields["ssid"] },
      );
    case "CTRL-EVENT-ASSOC-REJECT":
      return withOptional(
        { ...base, kind: "assoc-reject" as const },
        { bssid: fields["bssid"], statusCode: optionalNumber(fields["status_code"]) },
      );
    case "CTRL-EVENT-TERMINATING":
      return { ...base, kind: "terminating" };
    default:
      break;
  }
  // "CTRL-REQ-PASSWORD-0:Password needed for SSID foo"
  const request = /^CTRL-REQ-([A-Z_]+)-(\d+):(.*)$/s.exec(text);
  if (request) {
    return {
      ...base,
      kind: "credential-request",
      field: request[1]!,
      networkId: Number(request[2]),
      prompt: request[3]!,
    };
  }
  return { ...base, kind: "other" };
}
