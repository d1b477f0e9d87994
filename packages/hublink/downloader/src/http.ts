// Pure parsers for the few response headers a resumable download depends on.

/** Response headers as undici hands them over: lower-case names, repeated headers as arrays. */
export type ResponseHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** The first value of a header, or undefined. Names are matched case-insensitively. */
export function header(headers: ResponseHeaders, name: string): string | undefined {
  const lower = name.toLowerCase();
  let value = headers[lower];
  if (value === undefined) {
    for (const [key, candidate] of Object.entries(headers)) {
      if (key.toLowerCase() === lower) {
        value = candidate;
        break;
      }
    }
  }
  if (value === undefined) return undefined;
  const first = typeof value === "string" ? value : value[0];
  return first === undefined ? undefined : first.trim();
}

/** A non-negative integer length, or undefined when absent or malformed. */
export function parseLength(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,16}$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

export type ContentRange =
  /** `bytes first-last/total`: `total` undefined when the server wrote `*`. */
  | { kind: "range"; first: number; last: number; total: number | undefined }
  /** `bytes *\/total`, the form sent with 416. */
  | { kind: "unsatisfied"; total: number };

/** Parses `Content-Range` (RFC 9110 §14.4); undefined when malformed or inconsistent. */
export function parseContentRange(text: string | undefined): ContentRange | undefined {
  if (text === undefined) return undefined;
  const unsatisfied = /^bytes\s+\*\/(\d{1,16})$/i.exec(text);
  if (unsatisfied) {
    const total = parseLength(unsatisfied[1]);
    return total === undefined ? undefined : { kind: "unsatisfied", total };
  }
  const match = /^bytes\s+(\d{1,16})-(\d{1,16})\/(\d{1,16}|\*)$/i.exec(text);
  if (!match) return undefined;
  const first = parseLength(match[1]);
  const last = parseLength(match[2]);
  const total = match[3] === "*" ? undefined : parseLength(match[3]);
  if (first === undefined || last === undefined || last < first) return undefined;
  if (match[3] !== "*" && (total === undefined || last >= total)) return undefined;
  return { kind: "range", first, last, total };
}

/** The ETag when it is a strong validator (weak ones must not be used with If-Range). */
export function strongEtag(text: string | undefined): string | undefined {
  if (text === undefined || text.length === 0) return undefined;
  if (/^W\//.test(text)) return undefined;
  return /^"[^"]*"$/.test(text) ? text : undefined;
}

/**
 * `Retry-After` in milliseconds: delta-seconds, or an HTTP date measured against the response's
 * own `Date` header (both from the server's clock, so the device clock does not matter).
 */
export function parseRetryAfter(
  text: string | undefined,
  dateHeader: string | undefined,
): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  if (dateHeader === undefined) return undefined;
  const at = Date.parse(text);
  const now = Date.parse(dateHeader);
  if (Number.isNaN(at) || Number.isNaN(now)) return undefined;
  return Math.max(0, at - now);
}

/** The URL with its query and fragment hidden: presigned URLs carry credentials in the query. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const query = parsed.search ? "?****" : "";
    parsed.search = "";
    parsed.hash = "";
    parsed.username = parsed.username ? "****" : "";
    parsed.password = parsed.password ? "****" : "";
    return parsed.toString() + query;
  } catch {
    return "<invalid url>";
  }
}

/** What identifies "the same download" across restarts: origin and path, never the query. */
export function resumeKeyOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
