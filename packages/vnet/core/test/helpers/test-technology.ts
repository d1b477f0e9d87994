import { join } from "node:path";
import { DeviceError, ValidationError } from "@runtime/errors";
import type { NetworkConfig } from "../../src/config.js";
import {
  ipv4RawConfig,
  type NormalizedIPv4Config,
  normalizeIPv4,
} from "../../src/ipv4/ipv4-config.js";
import { Issues, isPlainObject, rejectUnknownFields } from "../../src/ipv4/validate.js";
import { mergeRawConfig, rawConfig } from "../../src/raw-config.js";
import type { Technology } from "../../src/technology.js";

/** A config for the unit tests' technology: IPv4 plus a secret and a knob. */
export type TestConfig = {
  readonly type: "test";
  readonly ipv4: NormalizedIPv4Config;
  readonly psk?: string;
  readonly retry_millis: number;
};

/**
 * A small technology for engine tests: IPv4 from the core helper, an optional secret written to
 * a 0600 file, and an ioctl. Its normalize is strict like a real one.
 */
export const testTechnology: Technology<TestConfig> = {
  type: "test",
  normalize(config: NetworkConfig): TestConfig {
    const issues = new Issues();
    rejectUnknownFields(
      issues,
      config,
      ["type", "ipv4", "psk", "retry_millis"],
      "",
      "test configs",
    );
    if (config.psk !== undefined && (typeof config.psk !== "string" || config.psk.length < 8)) {
      issues.add("psk", config.psk, "must be a string of at least 8 characters");
    }
    const retry = config.retry_millis ?? 1_000;
    if (typeof retry !== "number" || !Number.isInteger(retry) || retry < 1 || retry > 3_600_000) {
      issues.add("retry_millis", retry, "must be an integer from 1 to 3600000");
    }
    issues.throwIfAny();
    const ipv4 = normalizeIPv4(
      isPlainObject(config.ipv4) || config.ipv4 === undefined ? config.ipv4 : config.ipv4,
    );
    return {
      type: "test",
      ipv4,
      ...(config.psk === undefined ? {} : { psk: config.psk as string }),
      retry_millis: retry as number,
    };
  },
  toRawConfig(ifname, config, context) {
    const base = rawConfig(ifname, config, {
      retryMillis: config.retry_millis,
      files: config.psk
        ? [
            {
              path: join(context.tmpDir, `secret.${ifname}`),
              content: `psk=${config.psk}\n`,
              mode: 0o600,
            },
          ]
        : [],
    });
    return mergeRawConfig(base, ipv4RawConfig(ifname, config.ipv4, context));
  },
  async ioctl(_ifname, command, args) {
    if (command === "scan") return { scanned: true, args };
    throw new DeviceError("UNSUPPORTED", `no ioctl ${command}`);
  },
  async checkSystem(context) {
    return (await context.commandExists("definitely-not-a-program-xyz"))
      ? []
      : ["definitely-not-a-program-xyz is missing"];
  },
};

export { ValidationError };
