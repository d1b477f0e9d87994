/** Matches exactly one segment at its position in a pattern. */
export const ANY: unique symbol = Symbol("PropertyTable.ANY");
/** As the last element of a pattern: the property must end here. */
export const END: unique symbol = Symbol("PropertyTable.END");

/** A property's name: a path of string segments, e.g. `["interface", "eth0", "state"]`. */
export type PropertyPath = readonly string[];
export type PatternSegment = string | typeof ANY | typeof END;
/** A prefix pattern over property paths. See {@link matches}. */
export type Pattern = readonly PatternSegment[];

function describeSegment(segment: unknown): string {
  if (segment === ANY) return "ANY";
  if (segment === END) return "END";
  if (typeof segment === "symbol") return segment.toString();
  try {
    return JSON.stringify(segment) ?? String(segment);
  } catch {
    return String(segment);
  }
}

/** Throws a TypeError naming the offending element unless `path` is an array of strings. */
export function checkPath(path: unknown, what = "property"): asserts path is PropertyPath {
  if (!Array.isArray(path)) {
    throw new TypeError(`${what} must be an array of strings: got ${describeSegment(path)}`);
  }
  for (let index = 0; index < path.length; index++) {
    const segment: unknown = path[index];
    if (typeof segment !== "string") {
      const hint = segment === ANY || segment === END ? " (wildcards belong in patterns only)" : "";
      throw new TypeError(
        `${what} element ${index} must be a string: got ${describeSegment(segment)}${hint}`,
      );
    }
  }
}

/** Throws a TypeError naming the offending element unless `pattern` is a valid pattern. */
export function checkPattern(pattern: unknown): asserts pattern is Pattern {
  if (!Array.isArray(pattern)) {
    throw new TypeError(`pattern must be an array: got ${describeSegment(pattern)}`);
  }
  for (let index = 0; index < pattern.length; index++) {
    const segment: unknown = pattern[index];
    if (segment === END) {
      if (index !== pattern.length - 1) {
        throw new TypeError(`pattern element ${index} is END, which may only be the last element`);
      }
    } else if (typeof segment !== "string" && segment !== ANY) {
      throw new TypeError(
        `pattern element ${index} must be a string, ANY or END: got ${describeSegment(segment)}`,
      );
    }
  }
}

/**
 * Whether `pattern` matches `property`. Patterns match by prefix: every pattern element must match
 * the property element at its position (`ANY` matches any one), and the property may go on after
 * the pattern ends, unless the pattern ends with `END`.
 */
export function matches(pattern: Pattern, property: PropertyPath): boolean {
  for (let index = 0; index < pattern.length; index++) {
    const segment = pattern[index];
    if (segment === END) return index === property.length;
    if (index >= property.length) return false;
    if (segment !== ANY && segment !== property[index]) return false;
  }
  return true;
}
