import { fieldPath, ValidationError, type ValidationIssue } from "@runtime/errors";
import { canonicalIPv4, parseAddress } from "../ip/address.js";

/**
 * Small validation helpers for `normalize` functions. Each collects issues so one
 * `ValidationError` can name every bad field at once; paths use `fieldPath` spelling.
 */
export class Issues {
  readonly list: ValidationIssue[] = [];

  add(path: string, value: unknown, reason: string): undefined {
    this.list.push({ path, value, reason });
    return undefined;
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw new ValidationError(this.list);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reports fields of `object` not in `allowed` (typos must not be dropped silently). */
export function rejectUnknownFields(
  issues: Issues,
  object: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  what: string,
): void {
  for (const field of Object.keys(object)) {
    if (!allowed.includes(field)) {
      issues.add(
        join(path, field),
        object[field],
        `is not a field of ${what} (expected one of: ${allowed.join(", ")})`,
      );
    }
  }
}

export function join(path: string, field: string | number): string {
  return path === "" ? fieldPath(field) : fieldPath(path, field);
}

export function ipv4Field(issues: Issues, value: unknown, path: string): string | undefined {
  const canonical = typeof value === "string" ? canonicalIPv4(value.trim()) : undefined;
  return canonical ?? issues.add(path, value, "must be an IPv4 address such as 192.168.1.2");
}

export function ipField(issues: Issues, value: unknown, path: string): string | undefined {
  const parsed = typeof value === "string" ? parseAddress(value.trim()) : undefined;
  return parsed?.address ?? issues.add(path, value, "must be an IPv4 or IPv6 address");
}

/** A single address or a list of addresses, as a de-duplicated list. */
export function ipListField(
  issues: Issues,
  value: unknown,
  path: string,
  family: "ipv4" | "any",
): string[] {
  const items = Array.isArray(value) ? value : [value];
  const result: string[] = [];
  items.forEach((item, index) => {
    const itemPath = Array.isArray(value) ? join(path, index) : path;
    const address =
      family === "ipv4" ? ipv4Field(issues, item, itemPath) : ipField(issues, item, itemPath);
    if (address && !result.includes(address)) result.push(address);
  });
  return result;
}

export function integerField(
  issues: Issues,
  value: unknown,
  path: string,
  min: number,
  max: number,
): number | undefined {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    return issues.add(path, value, `must be an integer from ${min} to ${max}`);
  }
  if (value < min || value > max) {
    return issues.add(path, value, `is out of range (${min} to ${max})`);
  }
  return value;
}

/** DNS names: labels of letters, digits and hyphens, dot separated, at most 253 characters. */
export function domainField(issues: Issues, value: unknown, path: string): string | undefined {
  if (
    typeof value !== "string" ||
    value.length > 253 ||
    !/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(
      value,
    )
  ) {
    return issues.add(path, value, "must be a domain name such as example.com");
  }
  return value;
}

/** A host name sent to DHCP servers: one label, letters, digits and hyphens, 1 to 63 characters. */
export function hostnameField(issues: Issues, value: unknown, path: string): string | undefined {
  if (typeof value !== "string" || !/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(value)) {
    return issues.add(path, value, "must be a host name (letters, digits, hyphens; 1 to 63)");
  }
  return value;
}
