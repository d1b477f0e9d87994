import { describe, expect, it } from "vitest";
import { negotiateSerializer } from "../src/auth/connect.js";
import { parseVersion, versionMatches } from "../src/phoenix/version.js";

describe("Elixir Version semantics", () => {
  it("parses strict SemVer and refuses the rest", () => {
    expect(parseVersion("2.3.0")).toEqual({ major: 2, minor: 3, patch: 0, pre: [] });
    expect(parseVersion("1.0.0-rc.1+build.5")).toEqual({
      major: 1,
      minor: 0,
      patch: 0,
      pre: ["rc", 1],
    });
    for (const bad of ["2.3", "2.3.0.1", "02.3.0", "v2.3.0", "", "2.3.0-", "2.3.0-01", 230]) {
      expect(parseVersion(bad)).toBeUndefined();
    }
  });

  it("matches >= gates the server uses on device_api_version", () => {
    expect(versionMatches("2.3.0", ">= 2.2.0")).toBe(true);
    expect(versionMatches("2.2.0", ">= 2.2.0")).toBe(true);
    expect(versionMatches("2.2.0-rc.1", ">= 2.2.0")).toBe(false);
    expect(versionMatches("2.1.9", ">= 2.2.0")).toBe(false);
    expect(versionMatches("10.0.0", ">= 2.2.0")).toBe(true);
  });

  it("reads ~> x.y.z as >= x.y.z and < x.(y+1).0-0", () => {
    expect(versionMatches("2.0.0", "~> 2.0.0")).toBe(true);
    expect(versionMatches("2.0.9", "~> 2.0.0")).toBe(true);
    expect(versionMatches("2.1.0", "~> 2.0.0")).toBe(false);
    expect(versionMatches("2.1.0-dev", "~> 2.0.0")).toBe(false);
    expect(versionMatches("0.0.1", "~> 0.0.1")).toBe(true);
    expect(versionMatches("0.0.9", "~> 0.0.1")).toBe(true);
    expect(versionMatches("0.1.0", "~> 0.0.1")).toBe(false);
  });
});

describe("negotiateSerializer (the vsn check)", () => {
  it("accepts JSON 2.0.x, refuses a missing vsn (1.0.0), and MessagePack (not spoken here)", () => {
    expect(negotiateSerializer("2.0.0")).toBe("json");
    expect(negotiateSerializer("2.0.5")).toBe("json");
    expect(negotiateSerializer(undefined)).toBeUndefined();
    expect(negotiateSerializer("1.0.0")).toBeUndefined();
    expect(negotiateSerializer("3.0.0")).toBeUndefined();
    expect(negotiateSerializer("3.0.0", ["msgpack", "json"])).toBe("msgpack");
    expect(negotiateSerializer("2.1.0")).toBeUndefined();
    expect(negotiateSerializer("garbage")).toBeUndefined();
  });
});
