// How wpa_supplicant reads a string value (config.c, wpa_config_parse_string), and so how we
// write one:
//   "text"   taken literally up to the LAST double quote: no escape sequences at all, so a C-style
//            `\n` or `\"` inside quotes would become two literal characters;
//   P"text"  printf-style escapes (\\, \", \n, \r, \t, \e, \xHH);
//   6869     hex: any bytes, including NUL, UTF-8 and quotes.
// We write the quoted form only when it is unambiguous for every reader (printable ASCII without a
// double quote) and hex otherwise; both forms exist in every wpa_supplicant since 0.5.

const encoder = new TextEncoder();

/** The UTF-8 bytes of a string value (or the bytes themselves). */
export function toBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? encoder.encode(value) : value;
}

/** True when every byte can stand between plain double quotes in wpa_supplicant.conf. */
export function isQuotable(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if (byte < 0x20 || byte > 0x7e || byte === 0x22) return false;
  }
  return true;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * Encodes a string value the way wpa_supplicant.conf and `SET_NETWORK` expect it: `"text"` for
 * printable ASCII without `"`, lowercase hex for anything else (UTF-8, control bytes, NUL, `"`).
 */
export function encodeConfigString(value: string | Uint8Array): string {
  const bytes = toBytes(value);
  return isQuotable(bytes) ? `"${Buffer.from(bytes).toString("latin1")}"` : hex(bytes);
}

const PRINTF_ESCAPES: Readonly<Record<string, number>> = {
  "\\": 0x5c,
  '"': 0x22,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  e: 0x1b,
};

/** Decodes wpa_supplicant's printf_encode() output (used by LIST_NETWORKS, events, STATUS). */
export function decodePrintfEscapes(text: string): Uint8Array {
  const input = Buffer.from(text, "utf8");
  const out: number[] = [];
  for (let index = 0; index < input.length; index += 1) {
    const byte = input[index]!;
    if (byte !== 0x5c || index + 1 >= input.length) {
      out.push(byte);
      continue;
    }
    const next = String.fromCharCode(input[index + 1]!);
    const simple = PRINTF_ESCAPES[next];
    if (simple !== undefined) {
      out.push(simple);
      index += 1;
      continue;
    }
    const hexDigits = input.subarray(index + 2, index + 4).toString("latin1");
    if (next === "x" && /^[0-9a-fA-F]{2}$/.test(hexDigits)) {
      out.push(Number.parseInt(hexDigits, 16));
      index += 3;
      continue;
    }
    out.push(byte);
  }
  return Uint8Array.from(out);
}

/**
 * Decodes a string value as wpa_supplicant writes or parses it: `"text"` (literal), `P"text"`
 * (printf escapes) or hex. Returns undefined for text that is none of these (for example a
 * number or a token such as `WPA-PSK`, or the `*` that GET_NETWORK shows for a hidden key).
 */
export function decodeConfigString(text: string): Uint8Array | undefined {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    return Uint8Array.from(Buffer.from(text.slice(1, -1), "utf8"));
  }
  if (text.length >= 3 && text.startsWith('P"') && text.endsWith('"')) {
    return decodePrintfEscapes(text.slice(2, -1));
  }
  if (text.length % 2 === 0 && /^[0-9a-fA-F]*$/.test(text)) {
    return Uint8Array.from(Buffer.from(text, "hex"));
  }
  return undefined;
}
