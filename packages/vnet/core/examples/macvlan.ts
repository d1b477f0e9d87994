// A complete, small Technology: a macvlan interface on top of a parent (eth0), with IPv4 from
// core's helpers. docs/writing-a-technology.md walks through it; test/examples/ proves it with
// recipe snapshots and against a real kernel and DHCP server.
import {
  ConfigIssues,
  type IPv4Config,
  ipv4RawConfig,
  mergeRawConfig,
  type NetworkConfig,
  type NormalizedIPv4Config,
  normalizeIPv4,
  rawConfig,
  rejectUnknownFields,
  type Technology,
} from "@vnet/core";

/** What users write. */
export type MacvlanConfig = {
  readonly type: "macvlan";
  /** The interface the macvlan sits on, e.g. "eth0". */
  readonly parent: string;
  /** Default "bridge": macvlans on one parent can talk to each other. */
  readonly mode?: "bridge" | "private" | "vepa" | "passthru";
  /** A fixed MAC address; default: the kernel picks a random one. */
  readonly mac_address?: string;
  readonly ipv4?: IPv4Config;
};

/** What normalize returns: defaults filled in, every field canonical. */
export type NormalizedMacvlanConfig = {
  readonly type: "macvlan";
  readonly parent: string;
  readonly mode: "bridge" | "private" | "vepa" | "passthru";
  readonly mac_address?: string;
  readonly ipv4: NormalizedIPv4Config;
};

// TypeScript users get completion for { type: "macvlan", ... } in configure().
declare module "@vnet/core" {
  interface ConfigTypes {
    macvlan: MacvlanConfig;
  }
}

const MODES = ["bridge", "private", "vepa", "passthru"] as const;

export const macvlanTechnology: Technology<NormalizedMacvlanConfig> = {
  type: "macvlan",

  normalize(config: NetworkConfig): NormalizedMacvlanConfig {
    const issues = new ConfigIssues();
    rejectUnknownFields(
      issues,
      config,
      ["type", "parent", "mode", "mac_address", "ipv4"],
      "",
      "macvlan configs",
    );
    if (typeof config.parent !== "string" || !/^[^\s/:]{1,15}$/.test(config.parent)) {
      issues.add("parent", config.parent, "must be the name of the parent interface, e.g. eth0");
    }
    const mode = config.mode ?? "bridge";
    if (!MODES.includes(mode as (typeof MODES)[number])) {
      issues.add("mode", config.mode, `must be one of ${MODES.join(", ")}`);
    }
    if (
      config.mac_address !== undefined &&
      (typeof config.mac_address !== "string" ||
        !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(config.mac_address))
    ) {
      issues.add("mac_address", config.mac_address, "must look like 02:00:00:00:00:01");
    }
    issues.throwIfAny();
    return {
      type: "macvlan",
      parent: config.parent as string,
      mode: mode as NormalizedMacvlanConfig["mode"],
      ...(config.mac_address ? { mac_address: (config.mac_address as string).toLowerCase() } : {}),
      // Throws its own ValidationError with paths under "ipv4".
      ipv4: normalizeIPv4(config.ipv4),
    };
  },

  toRawConfig(ifname, config, context) {
    const base = rawConfig(ifname, config, {
      // The macvlan does not exist before bring-up: wait for its parent instead.
      requiredIfnames: [config.parent],
      upCommands: [
        // A leftover of a crash would make "add" fail: remove it first, ignoring errors.
        { runIgnoringErrors: ["ip", "link", "del", ifname] },
        {
          run: [
            "ip",
            "link",
            "add",
            "link",
            config.parent,
            "name",
            ifname,
            // Link attributes come before "type"; what follows it belongs to macvlan.
            ...(config.mac_address ? ["address", config.mac_address] : []),
            "type",
            "macvlan",
            "mode",
            config.mode,
          ],
        },
      ],
    });
    // Link up, addressing, DHCP client or static address, connectivity checker; then, last of
    // all on the way down, delete the link.
    return mergeRawConfig(base, ipv4RawConfig(ifname, config.ipv4, context), {
      downCommands: [{ runIgnoringErrors: ["ip", "link", "del", ifname] }],
    });
  },
};
