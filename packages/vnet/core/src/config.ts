/**
 * Configuration types. A configuration is a plain JSON object whose `type` names the Technology
 * that understands it. Technologies add their types to {@link ConfigTypes} by declaration merging,
 * so `configure()` offers completion for every technology the application has installed:
 *
 * ```ts
 * declare module "@vnet/core" {
 *   interface ConfigTypes {
 *     ethernet: EthernetConfig;
 *   }
 * }
 * ```
 */

/** Any JSON value. Configs, recipes and service options are made of these only. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

export type JsonObject = { readonly [key: string]: JsonValue };

/** What every configuration has: the `type` of the technology that understands it. */
export interface TypedConfig {
  readonly type: string;
}

/** A configuration as input: a technology `type` and any technology-specific fields. */
export interface NetworkConfig extends TypedConfig {
  readonly [field: string]: unknown;
}

/** The `null` technology: the interface is left alone. What `deconfigure()` applies. */
export type NullConfig = {
  readonly type: "null";
  /** Why the interface has no configuration, shown by `info()`. */
  readonly reason?: string;
};

/**
 * Known configuration types by `type` string. Technologies extend this interface (declaration
 * merging) so TypeScript users get completion for their configs.
 */
export interface ConfigTypes {
  null: NullConfig;
}

/** A configuration of any installed technology. */
export type KnownConfig = ConfigTypes[keyof ConfigTypes];

/** `lan`: the link is up and has an address. `internet`: a host beyond the LAN answered. */
export type ConnectionStatus = "disconnected" | "lan" | "internet";

/** Published as `["interface", ifname, "state"]`. */
export type InterfaceState = "configured" | "configuring" | "reconfiguring" | "retrying";

/** One element of `["interface", ifname, "addresses"]`. */
export interface AddressInfo {
  family: "inet" | "inet6";
  /** Canonical text: dotted decimal or RFC 5952. For point-to-point links, the local address. */
  address: string;
  prefix_length: number;
  netmask: string;
  scope: "universe" | "link" | "host" | "site";
}

/** One element of `["name_servers"]`. */
export interface NameServerInfo {
  address: string;
  /** `"global"` for `additionalNameServers`, otherwise interface names, sorted. */
  from: string[];
}
