import { join } from "node:path";
import type { TechnologyContext } from "./technology.js";

/**
 * A technology context with fixed values (`/tmp/vnet`, `/etc/resolv.conf`, hostname `device`,
 * regulatory domain `00`) and `overrides` on top: for snapshot tests of `toRawConfig`, so the
 * expected recipes do not depend on the machine running the tests.
 */
export function createTechnologyContext(
  overrides: Partial<TechnologyContext> = {},
): TechnologyContext {
  const tmpDir = overrides.tmpDir ?? "/tmp/vnet";
  return {
    tmpDir,
    notifyScriptPath: join(tmpDir, "notify.sh"),
    resolvConfPath: "/etc/resolv.conf",
    hostname: "device",
    regulatoryDomain: "00",
    options: {},
    ...overrides,
  };
}
