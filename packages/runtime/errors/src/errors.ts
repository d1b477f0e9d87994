import { isSecretField, REDACTED } from "./redact.js";

/** Base of every error this project's packages throw on purpose: always has a stable `code`. */
export class DeviceError extends Error {
  override name = "DeviceError";
  constructor(
    /** Stable, machine-readable, e.g. `INVALID_CONFIG`, `ENV_TOO_LARGE`, `HTTP_STATUS`. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The message of anything thrown: an Error's `message`, or the value as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One problem with one field of some input. */
export interface ValidationIssue {
  /** Dotted path of the field, e.g. `ipv4.address` or `networks[0].psk`; `` for the whole input. */
  path: string;
  /** The offending value, already redacted when the field is a secret. */
  value: unknown;
  /** What is wrong, for a human: "must be an IPv4 address", "unknown type \"etherne\"". */
  reason: string;
}

function show(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string") return JSON.stringify(value);
  try {
    const text = JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    return String(value);
  }
}

/**
 * Bad input: names the field, the value and the reason. Thrown before anything is applied, so a
 * caller that catches it knows nothing changed. Secret fields (by name) never carry their value.
 */
export class ValidationError extends DeviceError {
  override name = "ValidationError";
  readonly path: string;
  readonly value: unknown;
  readonly reason: string;
  /** Every problem found; the first is also in `path`, `value` and `reason`. */
  readonly issues: readonly ValidationIssue[];

  constructor(issues: ValidationIssue | readonly ValidationIssue[], code = "INVALID_CONFIG") {
    const list = (Array.isArray(issues) ? issues : [issues]) as ValidationIssue[];
    if (list.length === 0) throw new TypeError("ValidationError needs at least one issue");
    const safe = list.map((issue) => ({
      ...issue,
      value: isSecretField(
        issue.path
          .split(/[.[\]]/)
          .filter(Boolean)
          .at(-1) ?? "",
      )
        ? REDACTED
        : issue.value,
    }));
    const first = safe[0]!;
    const where = first.path === "" ? "input" : first.path;
    const more = safe.length > 1 ? ` (and ${safe.length - 1} more)` : "";
    super(code, `${where}: ${first.reason} (got ${show(first.value)})${more}`);
    this.path = first.path;
    this.value = first.value;
    this.reason = first.reason;
    this.issues = safe;
  }
}

/** Joins path segments the way {@link ValidationIssue.path} spells them. */
export function fieldPath(...segments: Array<string | number>): string {
  return segments
    .map((segment, index) =>
      typeof segment === "number" ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join("")
    .replace(/^\./, "");
}
