import { ValidationError } from "@runtime/errors";
import type { NetworkConfig, NullConfig } from "../config.js";
import { type RawConfig, rawConfig } from "../raw-config.js";
import type { Technology } from "../technology.js";

/** The normalized `null` config: `reason` is always present. */
export type NormalizedNullConfig = NullConfig & { readonly reason: string };

/** The `null` technology: nothing to do, no required interfaces, so it "configures" at once. */
export const nullTechnology: Technology<NormalizedNullConfig> = {
  type: "null",
  normalize(config: NetworkConfig): NormalizedNullConfig {
    const unknown = Object.keys(config).filter((field) => field !== "type" && field !== "reason");
    if (unknown.length > 0) {
      throw new ValidationError(
        unknown.map((field) => ({
          path: field,
          value: config[field],
          reason: 'is not a field of "null" configs (only "reason")',
        })),
      );
    }
    if (config.reason !== undefined && typeof config.reason !== "string") {
      throw new ValidationError({
        path: "reason",
        value: config.reason,
        reason: "must be a string",
      });
    }
    return { type: "null", reason: config.reason ?? "" };
  },
  toRawConfig(ifname: string, config: NormalizedNullConfig): RawConfig {
    return rawConfig(ifname, config, { requiredIfnames: [] });
  },
};

export function nullConfig(reason: string): NormalizedNullConfig {
  return { type: "null", reason };
}
