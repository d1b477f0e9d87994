import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from "vitest";
import { integrationSupport, integrationVerdict } from "./gating.js";
import { Lab, type LabOptions } from "./lab.js";

export interface DescribeIntegrationOptions {
  /** Executables the block needs besides `ip` and `ss`, e.g. `["udhcpd", "busybox"]`. */
  tools?: readonly string[];
}

/** Skip reasons already printed by this process: one line per reason, not one per block. */
const announced = new Set<string>();

/**
 * A `describe` for integration tests. Where they can run (root, `ip netns`, the tools), it is a
 * plain `describe`. Where they cannot, the block is skipped with one printed line saying why,
 * unless REQUIRE_INTEGRATION=1 (CI): then the block holds one failing test whose message is the
 * reason, so a CI machine that silently lost root cannot pass.
 */
export function describeIntegration(
  name: string,
  options: DescribeIntegrationOptions,
  fn: () => void | Promise<void>,
): void {
  describe(name, async () => {
    const support = await integrationSupport({ requireTools: options.tools ?? [] });
    const verdict = integrationVerdict(support, process.env);
    if (verdict.action === "run") {
      await fn();
      return;
    }
    if (verdict.action === "fail") {
      it("has an environment for integration tests", () => {
        throw new Error(verdict.reason);
      });
      return;
    }
    if (!announced.has(verdict.reason)) {
      announced.add(verdict.reason);
      console.log(`integration tests skipped: ${verdict.reason}`);
    }
    // Still collected, so the report lists every skipped test under the reason.
    describe.skip(`skipped: ${verdict.reason}`, fn);
  });
}

export interface UseLabOptions extends LabOptions {
  /** One lab for the whole describe block (default) or a fresh one per test. */
  per?: "block" | "test";
}

/**
 * Creates a lab before the tests of the enclosing block and destroys it after them, also when a
 * test fails or times out. Returns a getter, because the lab exists only once the hook has run.
 *
 * ```ts
 * const lab = useLab("dhcp");
 * it("leases", async () => { const server = await lab().namespace("server"); … });
 * ```
 */
export function useLab(name: string, options: UseLabOptions = {}): () => Lab {
  let current: Lab | undefined;
  const setUp = async () => {
    current = await Lab.create(name, options);
  };
  const tearDown = async () => {
    const lab = current;
    current = undefined;
    await lab?.destroy();
  };
  if (options.per === "test") {
    beforeEach(setUp);
    afterEach(tearDown);
  } else {
    beforeAll(setUp);
    afterAll(tearDown);
  }
  return () => {
    if (!current)
      throw new Error(`useLab(${JSON.stringify(name)}): use the lab inside a test or hook`);
    return current;
  };
}
