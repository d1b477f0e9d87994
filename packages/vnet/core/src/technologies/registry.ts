import { DeviceError, ValidationError } from "@runtime/errors";
import type { NetworkConfig } from "../config.js";
import { errorMessage, redactConfig } from "../log.js";
import { checkRawConfig, type RawConfig } from "../raw-config.js";
import type { Technology, TechnologyContext } from "../technology.js";
import { nullTechnology } from "./null.js";

/** Linux allows 15 bytes (IFNAMSIZ - 1); no `/`, whitespace or `:`; not `.` or `..`. */
export function checkIfname(ifname: unknown): string {
  if (
    typeof ifname !== "string" ||
    !/^[^\s/:\0]{1,15}$/.test(ifname) ||
    ifname === "." ||
    ifname === ".." ||
    Buffer.byteLength(ifname) > 15
  ) {
    throw new ValidationError({
      path: "ifname",
      value: ifname,
      reason: "must be a Linux interface name (1 to 15 bytes, no '/', ':' or whitespace)",
    });
  }
  return ifname;
}

/**
 * The same error with every value passed through the redactor: a technology may report a whole
 * section (`networks[0]`) whose nested `psk` the error's own field-name check cannot see.
 */
function redacted(error: ValidationError): ValidationError {
  return new ValidationError(
    error.issues.map((issue) => ({ ...issue, value: redactConfig(issue.value) })),
    error.code,
  );
}

/** A normalized config with the technology that normalized it. */
export interface Normalized {
  readonly technology: Technology;
  readonly config: NetworkConfig;
}

/** The installed technologies by type, and the validation path every config goes through. */
export class TechnologyRegistry {
  private readonly byType = new Map<string, Technology>();

  constructor(technologies: readonly Technology[]) {
    for (const technology of [nullTechnology as Technology, ...technologies]) {
      if (typeof technology?.type !== "string" || technology.type === "") {
        throw new TypeError("every technology needs a non-empty type string");
      }
      if (
        typeof technology.normalize !== "function" ||
        typeof technology.toRawConfig !== "function"
      ) {
        throw new TypeError(`technology "${technology.type}" needs normalize and toRawConfig`);
      }
      if (this.byType.has(technology.type)) {
        throw new TypeError(`two technologies register the type "${technology.type}"`);
      }
      this.byType.set(technology.type, technology);
    }
  }

  get types(): string[] {
    return [...this.byType.keys()].sort();
  }

  get(type: string): Technology | undefined {
    return this.byType.get(type);
  }

  all(): Technology[] {
    return [...this.byType.values()];
  }

  /**
   * Finds the technology and normalizes. Every problem with the input is a `ValidationError`;
   * an unexpected exception inside a technology's `normalize` is reported as one too (the
   * technology could not make sense of the input), with its message as the reason.
   */
  normalize(input: unknown): Normalized {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      throw new ValidationError({
        path: "",
        value: input,
        reason: "must be an object with a type field",
      });
    }
    const config = input as NetworkConfig;
    if (config.type === undefined) {
      throw new ValidationError({
        path: "type",
        value: undefined,
        reason: `is required (one of: ${this.types.join(", ")})`,
      });
    }
    if (typeof config.type !== "string") {
      throw new ValidationError({ path: "type", value: config.type, reason: "must be a string" });
    }
    const technology = this.byType.get(config.type);
    if (!technology) {
      throw new ValidationError({
        path: "type",
        value: config.type,
        reason: `unknown technology type (installed: ${this.types.join(", ")})`,
      });
    }
    let normalized: NetworkConfig;
    try {
      normalized = technology.normalize(config) as NetworkConfig;
    } catch (error) {
      if (error instanceof ValidationError) throw redacted(error);
      throw new ValidationError({
        path: "",
        value: redactConfig(config),
        reason: `rejected by technology "${technology.type}": ${errorMessage(error)}`,
      });
    }
    if (normalized?.type !== technology.type) {
      throw new DeviceError(
        "BAD_TECHNOLOGY",
        `technology "${technology.type}" normalized a config to type ${JSON.stringify(normalized?.type)}`,
      );
    }
    return { technology, config: normalized };
  }

  /** Builds and checks the recipe for a normalized config. */
  toRawConfig(ifname: string, normalized: Normalized, context: TechnologyContext): RawConfig {
    let raw: RawConfig;
    try {
      raw = normalized.technology.toRawConfig(ifname, normalized.config, context);
    } catch (error) {
      if (error instanceof ValidationError) throw redacted(error);
      throw new ValidationError({
        path: "",
        value: redactConfig(normalized.config),
        reason: `technology "${normalized.technology.type}" could not build a recipe: ${errorMessage(error)}`,
      });
    }
    checkRawConfig(raw);
    if (raw.ifname !== ifname) {
      throw new DeviceError(
        "BAD_RAW_CONFIG",
        `technology "${normalized.technology.type}" built a recipe for ${raw.ifname}, not ${ifname}`,
      );
    }
    return raw;
  }
}
