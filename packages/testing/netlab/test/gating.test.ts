import { describe, expect, it } from "vitest";
import {
  evaluateIntegrationSupport,
  type IntegrationFacts,
  integrationRequired,
  integrationVerdict,
  missingTools,
} from "../src/gating.js";

const rootWithEverything: IntegrationFacts = { platform: "linux", uid: 0, missingTools: [] };

describe("evaluateIntegrationSupport", () => {
  it("is ok for root on Linux with the tools and a working ip netns", () => {
    expect(evaluateIntegrationSupport(rootWithEverything)).toEqual({ ok: true });
  });

  it("names the uid when not root", () => {
    expect(evaluateIntegrationSupport({ ...rootWithEverything, uid: 1000 })).toEqual({
      ok: false,
      reason: "not root (uid 1000)",
    });
  });

  it("reports the platform before anything else", () => {
    expect(
      evaluateIntegrationSupport({ platform: "darwin", uid: 501, missingTools: ["ip"] }),
    ).toEqual({ ok: false, reason: "not Linux (darwin)" });
  });

  it("lists every missing tool", () => {
    const support = evaluateIntegrationSupport({
      ...rootWithEverything,
      missingTools: ["hostapd", "wpa_cli"],
    });
    expect(support.ok).toBe(false);
    expect(!support.ok && support.reason).toMatch(/^missing tools: hostapd, wpa_cli/);
  });

  it("reports a failed netns probe", () => {
    expect(
      evaluateIntegrationSupport({ ...rootWithEverything, netnsError: "Operation not permitted" }),
    ).toEqual({ ok: false, reason: "ip netns unusable: Operation not permitted" });
  });

  it("puts not-root before missing tools (the first thing to fix)", () => {
    const support = evaluateIntegrationSupport({
      platform: "linux",
      uid: 1000,
      missingTools: ["x"],
    });
    expect(!support.ok && support.reason).toBe("not root (uid 1000)");
  });
});

describe("integrationVerdict", () => {
  const unsupported = { ok: false, reason: "not root (uid 1000)" } as const;

  it("runs when supported, whatever the environment says", () => {
    expect(integrationVerdict({ ok: true }, {})).toEqual({ action: "run" });
    expect(integrationVerdict({ ok: true }, { REQUIRE_INTEGRATION: "1" })).toEqual({
      action: "run",
    });
  });

  it("skips with the reason when unsupported and not required", () => {
    expect(integrationVerdict(unsupported, {})).toEqual({
      action: "skip",
      reason: "not root (uid 1000)",
    });
    expect(integrationVerdict(unsupported, { REQUIRE_INTEGRATION: "0" }).action).toBe("skip");
  });

  it("fails with the reason when REQUIRE_INTEGRATION=1", () => {
    const verdict = integrationVerdict(unsupported, { REQUIRE_INTEGRATION: "1" });
    expect(verdict.action).toBe("fail");
    expect(verdict.action !== "run" && verdict.reason).toContain("not root (uid 1000)");
  });

  it("accepts 1, true and yes as required", () => {
    for (const value of ["1", "true", "TRUE", "yes"]) {
      expect(integrationRequired({ REQUIRE_INTEGRATION: value })).toBe(true);
    }
    for (const value of [undefined, "", "0", "false"]) {
      expect(integrationRequired({ REQUIRE_INTEGRATION: value })).toBe(false);
    }
  });
});

describe("missingTools", () => {
  it("finds executables on the given PATH only", () => {
    expect(missingTools(["sh", "surely-not-a-tool-xyz"], "/usr/bin:/bin")).toEqual([
      "surely-not-a-tool-xyz",
    ]);
    expect(missingTools(["sh"], "/nonexistent")).toEqual(["sh"]);
  });
});
