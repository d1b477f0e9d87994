import type { PropertyTable } from "@runtime/property-table";
import type { JsonValue } from "./config.js";

/**
 * A condition on one property, as recipe data: it holds while the value at `path` matches
 * `matches`. An object in `matches` matches any object that has at least its fields with matching
 * values (extra fields are fine); anything else must be equal. Example: the DHCP client of an
 * 802.1X port runs only while `["interface", "eth0", "eap_status"]` matches `{ authorized: true }`.
 */
export interface PropertyCondition {
  readonly path: readonly string[];
  readonly matches: JsonValue;
}

/** Whether `value` matches `pattern` (see {@link PropertyCondition}). */
export function matchesPartially(value: unknown, pattern: JsonValue): boolean {
  if (pattern === null || typeof pattern !== "object") return value === pattern;
  if (Array.isArray(pattern)) {
    return (
      Array.isArray(value) &&
      value.length === pattern.length &&
      pattern.every((item, index) => matchesPartially(value[index], item))
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return Object.entries(pattern as { readonly [key: string]: JsonValue }).every(
    ([key, item]) => Object.hasOwn(record, key) && matchesPartially(record[key], item),
  );
}

/** A condition from service options, or undefined when absent. Throws on a malformed one. */
export function parsePropertyCondition(
  value: unknown,
  what: string,
): PropertyCondition | undefined {
  if (value === undefined || value === null) return undefined;
  const candidate = value as { path?: unknown; matches?: unknown };
  if (
    typeof value !== "object" ||
    !Array.isArray(candidate.path) ||
    candidate.path.length === 0 ||
    !candidate.path.every((segment) => typeof segment === "string") ||
    !("matches" in candidate)
  ) {
    throw new TypeError(`${what} must be { path: string[], matches }`);
  }
  return { path: candidate.path as string[], matches: candidate.matches as JsonValue };
}

/** Whether the condition holds now; no condition always holds. */
export function conditionHolds(
  table: PropertyTable,
  condition: PropertyCondition | undefined,
): boolean {
  return condition === undefined || matchesPartially(table.get(condition.path), condition.matches);
}
