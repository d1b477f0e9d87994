/** What a redacted secret is shown as. */
export const REDACTED = "****";

/**
 * Field names whose values are secrets, compared case-insensitively after removing `_` and `-`:
 * `psk`, `password`, `passphrase`, `secret`, `shared_secret`, `private_key`, `key` (but not
 * `key_mgmt`), `pin`, `token`, ... Packages add their own with the `extraKeys` option.
 */
const SECRET_NAMES = new Set([
  "psk",
  "password",
  "passphrase",
  "secret",
  "sharedsecret",
  "productsecret",
  "privatekey",
  "privatekeypassword",
  "privatekeypasswd",
  "key",
  "keypem",
  "wepkey",
  "wepkey0",
  "wepkey1",
  "wepkey2",
  "wepkey3",
  "saepassword",
  "pin",
  "token",
  "accesstoken",
  "apikey",
  "clientsecret",
  "encryptionkey",
]);

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, "");
}

/** Whether a field of this name holds a secret. */
export function isSecretField(name: string, extraKeys: Iterable<string> = []): boolean {
  const normalized = normalizeName(name);
  if (SECRET_NAMES.has(normalized)) return true;
  for (const extra of extraKeys) if (normalizeName(extra) === normalized) return true;
  return false;
}

/**
 * A deep copy of `value` with every secret field replaced by {@link REDACTED}. Use it for every
 * status view, log line and error message that shows a configuration. Cycles are cut.
 */
export function redactSecrets<T>(value: T, options: { extraKeys?: Iterable<string> } = {}): T {
  const extra = [...(options.extraKeys ?? [])];
  const seen = new WeakSet<object>();
  const visit = (current: unknown): unknown => {
    if (current === null || typeof current !== "object") return current;
    if (seen.has(current)) return "[circular]";
    seen.add(current);
    if (Array.isArray(current)) return current.map(visit);
    if (ArrayBuffer.isView(current)) return REDACTED;
    const copy: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(current)) {
      copy[name] = isSecretField(name, extra) && field != null ? REDACTED : visit(field);
    }
    return copy;
  };
  return visit(value) as T;
}
