import { ValidationError } from "@runtime/errors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { worstCaseBudget } from "../src/config.js";
import { DEFAULT_RETRY_CONFIG, normalizeRetryConfig } from "../src/index.js";

describe("normalizeRetryConfig", () => {
  it("has NervesHubLink's defaults", () => {
    expect(normalizeRetryConfig()).toEqual({
      maxDisconnects: 10,
      idleTimeout: 60_000,
      maxTimeout: 86_400_000,
      timeBetweenRetries: 15_000,
      worstCaseDownloadSpeed: 30_000,
      worstCaseMinimumTimeout: 300_000,
    });
    expect(DEFAULT_RETRY_CONFIG.maxDisconnects).toBe(10);
  });

  it("keeps given values and fills in the rest", () => {
    expect(normalizeRetryConfig({ maxDisconnects: 0, idleTimeout: 75_000 })).toMatchObject({
      maxDisconnects: 0,
      idleTimeout: 75_000,
      maxTimeout: 86_400_000,
    });
  });

  it.each([
    ["maxDisconnects", -1, "must be an integer >= 0"],
    ["maxDisconnects", 1.5, "must be an integer >= 0"],
    ["idleTimeout", 0, "must be an integer number of milliseconds >= 1"],
    ["maxTimeout", "1h", "must be an integer number of milliseconds >= 1"],
    ["timeBetweenRetries", -5, "must be an integer number of milliseconds >= 0"],
    ["worstCaseDownloadSpeed", 0, "must be a number of bits/s >= 1"],
    ["worstCaseDownloadSpeed", Number.NaN, "must be a number of bits/s >= 1"],
    [
      "worstCaseMinimumTimeout",
      Number.POSITIVE_INFINITY,
      "must be an integer number of milliseconds >= 0",
    ],
  ])("rejects %s = %s, naming the field", (field, value, reason) => {
    const attempt = () => normalizeRetryConfig({ [field]: value });
    expect(attempt).toThrow(ValidationError);
    try {
      attempt();
    } catch (error) {
      expect(error).toMatchObject({ code: "INVALID_CONFIG", path: `retry.${field}`, reason });
      expect(String((error as Error).message)).toContain(`retry.${field}`);
    }
  });

  it("rejects unknown settings and suggests the camelCase name of snake_case ones", () => {
    try {
      normalizeRetryConfig({ idle_timeout: 5 } as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        path: "retry.idle_timeout",
        reason: "is not a retry setting; did you mean idleTimeout?",
      });
    }
  });

  it("reports every bad field at once", () => {
    try {
      normalizeRetryConfig({ maxDisconnects: -1, idleTimeout: -1 });
      expect.unreachable();
    } catch (error) {
      expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual([
        "retry.maxDisconnects",
        "retry.idleTimeout",
      ]);
    }
  });

  it("rejects a config that is not an object", () => {
    expect(() => normalizeRetryConfig(5 as never)).toThrow(/retry: must be an object/);
  });

  it("accepts every valid config (property)", () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            maxDisconnects: fc.nat(1000),
            idleTimeout: fc.integer({ min: 1, max: 10 ** 9 }),
            maxTimeout: fc.integer({ min: 1, max: 10 ** 10 }),
            timeBetweenRetries: fc.nat(10 ** 7),
            worstCaseDownloadSpeed: fc.double({ min: 1, max: 1e9, noNaN: true }),
            worstCaseMinimumTimeout: fc.nat(10 ** 7),
          },
          { requiredKeys: [] },
        ),
        (input) => {
          const config = normalizeRetryConfig(input);
          for (const [name, value] of Object.entries(input)) {
            expect(config[name as keyof typeof config]).toBe(value);
          }
        },
      ),
    );
  });
});

describe("worstCaseBudget", () => {
  const config = normalizeRetryConfig();
  it("is the length at the worst speed, in bits per second (NervesHubLink's formula)", () => {
    // 100 MB at 30 kbit/s (LTE Cat-M1): 26,666.7 s, about 7.4 h.
    expect(worstCaseBudget(config, 100_000_000)).toBe(26_666_667);
  });
  it("is never under five minutes (NervesHubLink 2.12.0)", () => {
    expect(worstCaseBudget(config, 1_000)).toBe(300_000);
    expect(worstCaseBudget(config, 0)).toBe(300_000);
  });
  it("does not apply without a length", () => {
    expect(worstCaseBudget(config, undefined)).toBeUndefined();
  });
});
