import { isSecretField, REDACTED, ValidationError, type ValidationIssue } from "@runtime/errors";

/** Entries of an environment: key → value, both strings. */
export type EnvEntries = Readonly<Record<string, string>>;

/** A lone UTF-16 surrogate cannot be written as UTF-8: it would silently become U+FFFD. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Whether a variable's value must never be shown (PropertyTable, logs, error messages): its name,
 * or the last `_`-separated word of it, is a secret field name (`nerves_hub_key`, `wifi_psk`,
 * `api_token`, …), or it is listed in `extraSecretKeys`.
 */
export function isSecretKey(key: string, extraSecretKeys: Iterable<string> = []): boolean {
  for (const extra of extraSecretKeys) if (extra === key) return true;
  if (isSecretField(key)) return true;
  const lastWord = key.split(/[._]/).at(-1) ?? "";
  return lastWord !== "" && isSecretField(lastWord);
}

/** Problems with one key/value pair, empty when it can be stored in a U-Boot environment. */
export function entryIssues(
  key: unknown,
  value: unknown,
  extraSecretKeys: Iterable<string> = [],
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (typeof key !== "string") {
    issues.push({ path: "", value: key, reason: "key must be a string" });
    return issues;
  }
  if (key === "") issues.push({ path: "", value: key, reason: "key must not be empty" });
  if (key.includes("=")) {
    issues.push({ path: key, value: key, reason: 'key must not contain "="' });
  }
  if (key.includes("\0")) {
    issues.push({ path: key, value: key, reason: "key must not contain a NUL byte" });
  }
  if (LONE_SURROGATE.test(key)) {
    issues.push({
      path: key,
      value: key,
      reason: "key must be well-formed UTF-16 (lone surrogate)",
    });
  }
  const shown = isSecretKey(key, extraSecretKeys) ? REDACTED : value;
  if (typeof value !== "string") {
    issues.push({ path: key, value: shown, reason: "value must be a string" });
  } else {
    if (value.includes("\0")) {
      issues.push({ path: key, value: shown, reason: "value must not contain a NUL byte" });
    }
    if (LONE_SURROGATE.test(value)) {
      issues.push({
        path: key,
        value: shown,
        reason: "value must be well-formed UTF-16 (lone surrogate)",
      });
    }
  }
  return issues;
}

/**
 * Throws a {@link ValidationError} (code `INVALID_ENV_ENTRY`) naming every key whose name contains
 * `=` or NUL, is empty, or whose value contains NUL or is not a string. Values of secret-looking
 * keys ({@link isSecretKey}, plus `extraSecretKeys`) never appear in the error. Nothing is written
 * when this throws.
 */
export function validateEntries(
  changes: Iterable<readonly [unknown, unknown]>,
  extraSecretKeys: Iterable<string> = [],
): void {
  const issues: ValidationIssue[] = [];
  for (const [key, value] of changes) issues.push(...entryIssues(key, value, extraSecretKeys));
  if (issues.length > 0) throw new ValidationError(issues, "INVALID_ENV_ENTRY");
}

/** Throws a {@link ValidationError} for a key that cannot exist in an environment. */
export function validateKey(key: unknown): asserts key is string {
  const issues = entryIssues(key, "").filter((issue) => issue.reason.startsWith("key"));
  if (issues.length > 0) throw new ValidationError(issues, "INVALID_ENV_ENTRY");
}
