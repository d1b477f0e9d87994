import { parseAddress } from "../ip/address.js";
import type { StepCommand } from "../raw-config.js";
import type { StepHandler, Subnet } from "../technology.js";

function requireString(step: StepCommand, field: string): string {
  const value = (step as unknown as Record<string, unknown>)[field];
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`step ${step.step}: ${field} must be a non-empty string`);
  }
  return value;
}

function subnetsOf(step: StepCommand): Subnet[] {
  const value = (step as unknown as Record<string, unknown>).subnets;
  if (!Array.isArray(value)) throw new TypeError(`step ${step.step}: subnets must be a list`);
  return value.map((subnet: unknown, index) => {
    const entry = subnet as Record<string, unknown> | null;
    const address = typeof entry?.address === "string" ? parseAddress(entry.address) : undefined;
    const prefix = entry?.prefix_length;
    if (!address || typeof prefix !== "number" || !Number.isInteger(prefix) || prefix < 0) {
      throw new TypeError(
        `step ${step.step}: subnets[${index}] must be { address, prefix_length }`,
      );
    }
    return { address: address.address, prefix_length: prefix };
  });
}

function stringList(step: StepCommand, field: string): string[] {
  const value = (step as unknown as Record<string, unknown>)[field];
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new TypeError(`step ${step.step}: ${field} must be a list of strings`);
  }
  return value as string[];
}

/** The optional `source` of dns steps (default: the name resolver's, `ipv4`). */
function optionalSource(step: StepCommand): string | undefined {
  const value = (step as unknown as Record<string, unknown>).source;
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "") {
    throw new TypeError(`step ${step.step}: source must be a non-empty string`);
  }
  return value;
}

/** Handlers of the named steps core interprets (see `BuiltInStep`). */
export const BUILT_IN_STEPS: Readonly<Record<string, StepHandler>> = Object.freeze({
  "routes.set": (step, context) => {
    const gateway = (step as unknown as Record<string, unknown>).gateway;
    if (gateway !== null && (typeof gateway !== "string" || !parseAddress(gateway))) {
      throw new TypeError("step routes.set: gateway must be an address or null");
    }
    context.routing.setRoute(requireString(step, "ifname"), subnetsOf(step), gateway);
  },
  "routes.clear": (step, context) => {
    context.routing.clearRoute(requireString(step, "ifname"));
  },
  "dns.set": (step, context) => {
    const domain = (step as unknown as Record<string, unknown>).domain;
    if (domain !== null && typeof domain !== "string") {
      throw new TypeError("step dns.set: domain must be a string or null");
    }
    context.nameServers.setup(
      requireString(step, "ifname"),
      domain,
      stringList(step, "name_servers"),
      optionalSource(step),
    );
  },
  "dns.clear": (step, context) => {
    context.nameServers.clear(requireString(step, "ifname"), optionalSource(step));
  },
  "properties.delete": (step, context) => {
    const path = stringList(step, "path");
    // An empty path would take the engine's own properties (state, config, present) with it.
    if (path.length === 0) throw new TypeError("step properties.delete: path must not be empty");
    context.table.deleteMatches(["interface", requireString(step, "ifname"), ...path]);
  },
});
