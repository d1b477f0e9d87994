// Whether integration tests can run here, and what to do when they cannot. The decision is a pure
// function of facts (uid, platform, missing tools, netns probe, REQUIRE_INTEGRATION) so it is unit
// tested; `integrationSupport()` only gathers the facts.
import { accessSync, constants } from "node:fs";
import { type CommandRunner, createCommandRunner, DEFAULT_PATH } from "@runtime/command";
import { removeNamespace } from "./cleanup.js";
import { labId, namespaceName } from "./naming.js";

export type IntegrationSupport = { ok: true } | { ok: false; reason: string };

export interface IntegrationFacts {
  platform: string;
  /** `process.getuid()`, undefined where there is none. */
  uid: number | undefined;
  /** Tools asked for (and `ip`, `ss`) that are not on the PATH. */
  missingTools: readonly string[];
  /** Why creating a network namespace failed; undefined when it worked or was not tried. */
  netnsError?: string | undefined;
}

/** Pure: the first reason integration tests cannot run, checked in the order a human fixes them. */
export function evaluateIntegrationSupport(facts: IntegrationFacts): IntegrationSupport {
  if (facts.platform !== "linux") return { ok: false, reason: `not Linux (${facts.platform})` };
  if (facts.uid === undefined) return { ok: false, reason: "cannot tell the uid" };
  if (facts.uid !== 0) return { ok: false, reason: `not root (uid ${facts.uid})` };
  if (facts.missingTools.length > 0) {
    return {
      ok: false,
      reason: `missing tools: ${facts.missingTools.join(", ")} (see scripts/debian-packages.txt)`,
    };
  }
  if (facts.netnsError !== undefined) {
    return { ok: false, reason: `ip netns unusable: ${facts.netnsError}` };
  }
  return { ok: true };
}

export type IntegrationVerdict =
  | { action: "run" }
  | { action: "skip"; reason: string }
  | { action: "fail"; reason: string };

/** True when the environment demands integration tests (CI sets REQUIRE_INTEGRATION=1). */
export function integrationRequired(env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env["REQUIRE_INTEGRATION"]?.trim().toLowerCase();
  return value === "1" || value === "true" || value === "yes";
}

/** Pure: run, skip with a reason, or fail with the reason when integration is required. */
export function integrationVerdict(
  support: IntegrationSupport,
  env: Readonly<Record<string, string | undefined>>,
): IntegrationVerdict {
  if (support.ok) return { action: "run" };
  if (integrationRequired(env)) {
    return {
      action: "fail",
      reason: `integration tests required (REQUIRE_INTEGRATION=1) but cannot run: ${support.reason}`,
    };
  }
  return { action: "skip", reason: support.reason };
}

/** Tools missing from the runner's PATH (`DEFAULT_PATH`: the host's PATH is never used). */
export function missingTools(
  tools: readonly string[],
  searchPath: string = DEFAULT_PATH,
): string[] {
  const dirs = searchPath.split(":").filter(Boolean);
  return [...new Set(tools)].filter(
    (tool) =>
      !dirs.some((dir) => {
        try {
          accessSync(`${dir}/${tool}`, constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
  );
}

export interface IntegrationSupportOptions {
  /** Executables the tests need besides `ip` and `ss`, e.g. `["udhcpd", "hostapd"]`. */
  requireTools?: readonly string[];
  runner?: CommandRunner;
}

let netnsProbe: Promise<string | undefined> | undefined;

/** Creates and deletes one namespace, once per process: the only proof that netns works. */
function probeNetns(runner: CommandRunner): Promise<string | undefined> {
  netnsProbe ??= (async () => {
    const name = namespaceName(labId(process.pid, 0), "probe");
    try {
      await runner.run(["ip", "netns", "add", name], { timeoutMs: 10_000 });
      await removeNamespace(runner, name);
      return undefined;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return message.split("\n")[0];
    }
  })();
  return netnsProbe;
}

/** Checks that this machine can run integration tests: Linux, root, tools, working `ip netns`. */
export async function integrationSupport(
  options: IntegrationSupportOptions = {},
): Promise<IntegrationSupport> {
  const facts: IntegrationFacts = {
    platform: process.platform,
    uid: typeof process.getuid === "function" ? process.getuid() : undefined,
    missingTools: missingTools(["ip", "ss", ...(options.requireTools ?? [])]),
  };
  const early = evaluateIntegrationSupport(facts);
  if (!early.ok) return early;
  facts.netnsError = await probeNetns(options.runner ?? createCommandRunner());
  return evaluateIntegrationSupport(facts);
}
