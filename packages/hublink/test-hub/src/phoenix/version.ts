// The slice of Elixir's `Version` module the server uses to gate features and pick a
// serializer: `Version.parse/1` (strict SemVer 2.0: MAJOR.MINOR.PATCH[-pre][+build], no leading
// zeros) and `Version.match?/2` for the two requirement forms NervesHub writes, `>= x.y.z` and
// `~> x.y.z` (which Elixir reads as `>= x.y.z and < x.(y+1).0-0`). Pre-release versions match,
// as `Version.match?/3` defaults to `allow_pre: true`.

export interface SemanticVersion {
  major: number;
  minor: number;
  patch: number;
  pre: Array<string | number>;
}

const NUMERIC = /^(?:0|[1-9]\d*)$/;
const IDENTIFIER = /^[0-9A-Za-z-]+$/;

/** Parses a version the way `Version.parse/1` does; `undefined` where Elixir returns `:error`. */
export function parseVersion(text: unknown): SemanticVersion | undefined {
  if (typeof text !== "string") return undefined;
  const plus = text.indexOf("+");
  const withoutBuild = plus === -1 ? text : text.slice(0, plus);
  if (plus !== -1) {
    const build = text.slice(plus + 1).split(".");
    if (build.some((part) => !IDENTIFIER.test(part))) return undefined;
  }
  const dash = withoutBuild.indexOf("-");
  const core = dash === -1 ? withoutBuild : withoutBuild.slice(0, dash);
  const parts = core.split(".");
  if (parts.length !== 3 || parts.some((part) => !NUMERIC.test(part))) return undefined;
  const pre: Array<string | number> = [];
  if (dash !== -1) {
    for (const identifier of withoutBuild.slice(dash + 1).split(".")) {
      if (!IDENTIFIER.test(identifier)) return undefined;
      if (/^\d+$/.test(identifier)) {
        if (!NUMERIC.test(identifier)) return undefined;
        pre.push(Number(identifier));
      } else {
        pre.push(identifier);
      }
    }
  }
  return { major: Number(parts[0]), minor: Number(parts[1]), patch: Number(parts[2]), pre };
}

/** SemVer precedence: negative, zero or positive. */
export function compareVersions(left: SemanticVersion, right: SemanticVersion): number {
  for (const key of ["major", "minor", "patch"] as const) {
    if (left[key] !== right[key]) return left[key] - right[key];
  }
  if (left.pre.length === 0 || right.pre.length === 0) {
    // A release ranks above any of its pre-releases.
    return (left.pre.length === 0 ? 1 : 0) - (right.pre.length === 0 ? 1 : 0);
  }
  const length = Math.max(left.pre.length, right.pre.length);
  for (let index = 0; index < length; index++) {
    const a = left.pre[index];
    const b = right.pre[index];
    if (a === undefined) return -1;
    if (b === undefined) return 1;
    if (a === b) continue;
    if (typeof a === "number" && typeof b === "number") return a - b;
    if (typeof a === "number") return -1;
    if (typeof b === "number") return 1;
    return a < b ? -1 : 1;
  }
  return 0;
}

/**
 * `Version.match?(version, requirement)` for `">= x.y.z"` and `"~> x.y.z"`. An unparseable
 * version never matches (the server sanitises those before asking).
 */
export function versionMatches(version: string, requirement: string): boolean {
  const parsed = parseVersion(version);
  const match = /^(>=|~>) (.+)$/.exec(requirement);
  const base = match ? parseVersion(match[2]) : undefined;
  if (!parsed || !match || !base) return false;
  if (compareVersions(parsed, base) < 0) return false;
  if (match[1] === ">=") return true;
  const ceiling: SemanticVersion = { major: base.major, minor: base.minor + 1, patch: 0, pre: [0] };
  return compareVersions(parsed, ceiling) < 0;
}
