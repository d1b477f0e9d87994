import type { SystemCheckContext, Technology } from "@vnet/core";
import { IEEE8021X_SERVICE } from "./ieee8021x.js";
import { ieee8021xService } from "./ieee8021x-service.js";
import { normalizeEthernet } from "./normalize.js";
import { ethernetRawConfig } from "./recipe.js";
import type { NormalizedEthernetConfig } from "./types.js";

/**
 * Wired Ethernet for `@vnet/core`, registered as type `"ethernet"`:
 * `VintageNet.start({ technologies: [ethernetTechnology] })`.
 */
export const ethernetTechnology: Technology<NormalizedEthernetConfig> = {
  type: "ethernet",
  normalize: normalizeEthernet,
  toRawConfig: ethernetRawConfig,
  async checkSystem(context: SystemCheckContext): Promise<readonly string[]> {
    // What every ethernet configuration may run; wpa_supplicant and dhclient only matter for
    // 802.1X and DHCPv6, and a missing one shows as a failing bring-up naming it.
    const programs = ["ip", "sysctl", context.programs.udhcpc[0]!, context.programs.mkfifo[0]!];
    const problems: string[] = [];
    for (const program of [...new Set(programs)]) {
      if (!(await context.commandExists(program))) problems.push(`${program} is not installed`);
    }
    return problems;
  },
  services: { [IEEE8021X_SERVICE]: ieee8021xService },
};
