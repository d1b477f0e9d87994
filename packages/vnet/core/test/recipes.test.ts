import { DeviceError, ValidationError } from "@runtime/errors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkRawConfig, mergeRawConfig, type RawConfig, rawConfig } from "../src/raw-config.js";
import { nullTechnology } from "../src/technologies/null.js";
import { checkIfname, TechnologyRegistry } from "../src/technologies/registry.js";
import type { Technology } from "../src/technology.js";
import { createTechnologyContext } from "../src/technology-context.js";

const context = createTechnologyContext();

describe("rawConfig and mergeRawConfig", () => {
  it("fills VintageNet's defaults", () => {
    expect(rawConfig("eth0", { type: "x" })).toEqual({
      ifname: "eth0",
      type: "x",
      sourceConfig: { type: "x" },
      requiredIfnames: ["eth0"],
      retryMillis: 30_000,
      files: [],
      cleanupFiles: [],
      upCommands: [],
      upCommandMillis: 5_000,
      downCommands: [],
      downCommandMillis: 5_000,
      daemons: [],
      services: [],
    });
  });

  it("appends parts in order and keeps the rest", () => {
    const base = rawConfig("eth0", { type: "x" }, { upCommands: [{ run: ["a"] }], retryMillis: 7 });
    const merged = mergeRawConfig(
      base,
      { upCommands: [{ run: ["b"] }], files: [{ path: "/tmp/f", content: "1" }] },
      { upCommands: [{ step: "dns.clear", ifname: "eth0" }], services: [{ service: "s" }] },
    );
    expect(merged.upCommands).toEqual([
      { run: ["a"] },
      { run: ["b"] },
      { step: "dns.clear", ifname: "eth0" },
    ]);
    expect(merged.files).toEqual([{ path: "/tmp/f", content: "1" }]);
    expect(merged.services).toEqual([{ service: "s" }]);
    expect(merged.retryMillis).toBe(7);
  });

  it("recipes are plain JSON: they survive a round trip unchanged", () => {
    const recipe = mergeRawConfig(rawConfig("eth0", { type: "x" }), {
      daemons: [{ id: "d", argv: ["d", "-f"], env: { A: "1" }, restart: { maxRestarts: 3 } }],
      services: [{ service: "dhcp-client", options: { hostname: "h", request_options: [] } }],
    });
    expect(JSON.parse(JSON.stringify(recipe))).toEqual(recipe);
  });
});

describe("checkRawConfig", () => {
  const good = rawConfig("eth0", { type: "x" });
  const broken = (fields: Partial<RawConfig>) => () =>
    checkRawConfig({ ...good, ...fields } as RawConfig);

  it("accepts a well-formed recipe", () => {
    expect(() => checkRawConfig(good)).not.toThrow();
  });

  it("names the bad field of a malformed recipe (a technology bug)", () => {
    const cases: Array<[Partial<RawConfig>, RegExp]> = [
      [{ upCommands: [{} as never] }, /upCommands\[0\] must have exactly one of/],
      [{ upCommands: [{ run: [] }] }, /upCommands\[0\] argv must be a non-empty/],
      [{ downCommands: [{ run: ["a"], runIgnoringErrors: ["b"] } as never] }, /downCommands\[0\]/],
      [{ files: [{ path: "relative", content: "" }] }, /files\[0\]\.path is not an absolute path/],
      [{ retryMillis: -1 }, /retryMillis is not a duration/],
      [
        {
          daemons: [
            { id: "a", argv: ["x"] },
            { id: "a", argv: ["y"] },
          ],
        },
        /repeats "a"/,
      ],
      [{ services: [{ service: "a" }, { service: "a" }] }, /services\[1\]\.id repeats "a"/],
      [{ requiredIfnames: "eth0" as never }, /requiredIfnames is not a string array/],
    ];
    for (const [fields, message] of cases) {
      expect(broken(fields)).toThrow(DeviceError);
      expect(broken(fields)).toThrow(message);
    }
  });
});

describe("null technology", () => {
  it("normalizes to a reason string and configures nothing", () => {
    expect(nullTechnology.normalize({ type: "null" })).toEqual({ type: "null", reason: "" });
    const normalized = nullTechnology.normalize({ type: "null", reason: "off" });
    expect(nullTechnology.toRawConfig("eth0", normalized, context)).toEqual(
      rawConfig("eth0", { type: "null", reason: "off" }, { requiredIfnames: [] }),
    );
  });

  it("rejects unknown fields and a non-string reason", () => {
    expect(() => nullTechnology.normalize({ type: "null", ipv4: {} })).toThrow(
      /ipv4: is not a field/,
    );
    expect(() => nullTechnology.normalize({ type: "null", reason: 5 })).toThrow(ValidationError);
  });
});

describe("TechnologyRegistry", () => {
  const throwing: Technology = {
    type: "fragile",
    normalize: (config) => {
      if ((config as { boom?: boolean }).boom) throw new TypeError("cannot read x of undefined");
      return { type: "fragile" };
    },
    toRawConfig: () => {
      throw new RangeError("no recipe");
    },
  };
  const registry = new TechnologyRegistry([throwing]);

  it("refuses duplicate and nameless technologies", () => {
    expect(() => new TechnologyRegistry([nullTechnology])).toThrow(
      /two technologies register the type "null"/,
    );
    expect(() => new TechnologyRegistry([{ ...throwing, type: "" }])).toThrow(/non-empty type/);
  });

  it("turns every kind of bad input into a ValidationError with path, value and reason", () => {
    const expectIssue = (input: unknown, path: string, reason: RegExp) => {
      let caught: unknown;
      try {
        registry.normalize(input);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ValidationError);
      const error = caught as ValidationError;
      expect(error.code).toBe("INVALID_CONFIG");
      expect(error.path).toBe(path);
      expect(error.reason).toMatch(reason);
    };
    expectIssue(null, "", /must be an object/);
    expectIssue([], "", /must be an object/);
    expectIssue({}, "type", /is required/);
    expectIssue({ type: 7 }, "type", /must be a string/);
    expectIssue(
      { type: "etherne" },
      "type",
      /unknown technology type \(installed: fragile, null\)/,
    );
    expectIssue(
      { type: "fragile", boom: true, psk: "secret" },
      "",
      /rejected by technology "fragile": cannot read x/,
    );
  });

  it("never shows a secret in the value of a wrapped technology error", () => {
    try {
      registry.normalize({ type: "fragile", boom: true, psk: "hunter2" });
    } catch (error) {
      expect(JSON.stringify((error as ValidationError).value)).not.toContain("hunter2");
      expect((error as Error).message).not.toContain("hunter2");
    }
  });

  it("redacts secrets nested in the values a technology reports", () => {
    const leaky = new TechnologyRegistry([
      {
        type: "leaky",
        normalize: (config) => {
          throw new ValidationError({
            path: "network",
            value: config.network,
            reason: "is incomplete",
          });
        },
        toRawConfig: () => {
          throw new Error("unreachable");
        },
      },
    ]);
    try {
      leaky.normalize({ type: "leaky", network: { ssid: "home", psk: "hunter2-hunter2" } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).value).toEqual({ ssid: "home", psk: "****" });
      expect((error as Error).message).not.toContain("hunter2");
    }
  });

  it("wraps a throwing toRawConfig as a ValidationError too", () => {
    const normalized = registry.normalize({ type: "fragile" });
    expect(() => registry.toRawConfig("eth0", normalized, context)).toThrow(
      /could not build a recipe: no recipe/,
    );
  });

  it("never throws anything but ValidationError for arbitrary input (property)", () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        try {
          const normalized = registry.normalize(input);
          registry.toRawConfig("eth0", normalized, context);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
        }
      }),
    );
  });
});

describe("checkIfname", () => {
  it("accepts Linux names and refuses the rest with a ValidationError on ifname", () => {
    for (const good of ["eth0", "wlan0", "enp6s0", "a", "x".repeat(15), "veth-1.2"]) {
      expect(checkIfname(good)).toBe(good);
    }
    for (const bad of ["", "x".repeat(16), "eth 0", "eth/0", "eth0:1", ".", "..", 5, null]) {
      expect(() => checkIfname(bad)).toThrow(ValidationError);
    }
  });
});
