// `Range: bytes=…` as RFC 9110 §14 defines it, for a single representation of known size:
// `a-b` (inclusive, end clamped to the last byte — NervesHubLink's downloader asks for one byte
// past the end on retries, §11 quirk 10 of the protocol reference), `a-` and `-n` (suffix).
// Several ranges in one header are answered with the whole file (a server may ignore Range),
// which is also what S3 does. A syntactically invalid header is ignored; a valid one that
// selects no byte is 416.

export type RangeDecision =
  | { kind: "none" }
  | { kind: "ignored"; reason: string }
  | { kind: "range"; start: number; end: number }
  | { kind: "unsatisfiable" };

const SPEC = /^\s*(\d*)\s*-\s*(\d*)\s*$/;

/** Decides how to answer a `Range` header for a representation of `size` bytes. Pure. */
export function decideRange(header: string | undefined, size: number): RangeDecision {
  if (header === undefined) return { kind: "none" };
  const match = /^\s*bytes\s*=(.*)$/i.exec(header);
  if (!match) return { kind: "ignored", reason: "not a bytes range" };
  const specs = match[1]!.split(",");
  if (specs.length > 1) return { kind: "ignored", reason: "multiple ranges" };
  const spec = SPEC.exec(specs[0]!);
  if (!spec) return { kind: "ignored", reason: "malformed range" };
  const [, firstText, lastText] = spec as unknown as [string, string, string];
  if (firstText === "" && lastText === "") return { kind: "ignored", reason: "empty range" };
  if (firstText === "") {
    const suffix = Number(lastText);
    if (suffix === 0 || size === 0) return { kind: "unsatisfiable" };
    return { kind: "range", start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(firstText);
  const last = lastText === "" ? Number.POSITIVE_INFINITY : Number(lastText);
  if (last < start) return { kind: "ignored", reason: "range ends before it starts" };
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "range", start, end: Math.min(last, size - 1) };
}

/** `Content-Range` for a satisfied range. */
export function contentRange(start: number, end: number, size: number): string {
  return `bytes ${start}-${end}/${size}`;
}

/** `Content-Range` of a 416 answer. */
export function unsatisfiedContentRange(size: number): string {
  return `bytes */${size}`;
}
