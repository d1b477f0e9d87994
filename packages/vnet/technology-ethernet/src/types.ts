import type {
  DhcpdConfig,
  IPv4Config,
  IPv6Config,
  NormalizedDhcpdConfig,
  NormalizedIPv4Config,
  NormalizedIPv6Config,
} from "@vnet/core";

/**
 * A zero-configuration point-to-point link (USB gadget Ethernet, a cable to a laptop): the
 * device takes the first address of the link's subnet and a DHCP server hands the peer the
 * rest. Without `subnet`, a /30 in 172.31.0.0/16 is derived from the hostname and the interface
 * name (VintageNetDirect's rule): stable across reboots, different per interface and per device.
 */
export type DirectConfig = {
  /**
   * The link's subnet in CIDR form, /16 to /30, e.g. `"192.168.7.0/24"` (the device is .1, the
   * peer gets .2 to .254). Default: derived.
   */
  readonly subnet?: string;
  /** The name the derived subnet is computed from. Default: the engine's hostname. */
  readonly hostname?: string;
};

/** Inner (phase 2) methods of PEAP. */
export type PeapPhase2 = "MSCHAPV2" | "GTC" | "MD5";
/** Inner (phase 2) methods of TTLS: non-EAP ones, or EAP ones (`EAP-…`). */
export type TtlsPhase2 =
  | "PAP"
  | "CHAP"
  | "MSCHAP"
  | "MSCHAPV2"
  | "EAP-MSCHAPV2"
  | "EAP-GTC"
  | "EAP-MD5";

/** What every 802.1X method has. */
type Ieee8021xCommon = {
  /** The user name (EAP-TLS: usually the certificate's name). */
  readonly identity: string;
  /**
   * PEM file of the CA that must have signed the authentication server's certificate. Without
   * it the server is not authenticated: anyone on the cable could collect your credentials.
   */
  readonly ca_cert?: string;
  /** Accept only a server whose certificate names this domain or a subdomain. */
  readonly domain_suffix_match?: string;
};

/** PEAP (usually with MSCHAPv2 inside): user name and password. */
export type Ieee8021xPeapConfig = Ieee8021xCommon & {
  readonly eap: "PEAP";
  readonly password: string;
  /** Outer identity sent in clear (e.g. `anonymous@example.com`). */
  readonly anonymous_identity?: string;
  /** Default `MSCHAPV2`. */
  readonly phase2?: PeapPhase2;
};

/** TTLS: user name and password inside a TLS tunnel. */
export type Ieee8021xTtlsConfig = Ieee8021xCommon & {
  readonly eap: "TTLS";
  readonly password: string;
  readonly anonymous_identity?: string;
  /** Default `MSCHAPV2`. */
  readonly phase2?: TtlsPhase2;
};

/** EAP-TLS: a client certificate and its key. */
export type Ieee8021xTlsConfig = Ieee8021xCommon & {
  readonly eap: "TLS";
  /** PEM file of the device's certificate. */
  readonly client_cert: string;
  /** PEM file of the device's private key. */
  readonly private_key: string;
  /** The key file's passphrase, if it is encrypted. */
  readonly private_key_passwd?: string;
};

/** Wired 802.1X (port-based network access control), run by `wpa_supplicant -D wired`. */
export type Ieee8021xConfig = Ieee8021xPeapConfig | Ieee8021xTtlsConfig | Ieee8021xTlsConfig;

/** An `ethernet` configuration as users write it. */
export type EthernetConfig = {
  readonly type: "ethernet";
  /** IPv4 addressing; default DHCP. Not with `direct`. */
  readonly ipv4?: IPv4Config;
  /** IPv6 addressing; default SLAAC. */
  readonly ipv6?: IPv6Config;
  /** A DHCP server on the interface (needs static IPv4). Not with `direct`. */
  readonly dhcpd?: DhcpdConfig;
  /** A zero-configuration point-to-point link: derives static IPv4 and a DHCP server. */
  readonly direct?: DirectConfig;
  /** A fixed MAC address, `02:00:00:00:00:01` (unicast). Default: the hardware's. */
  readonly mac_address?: string;
  /** The name sent to DHCP servers (IPv4 option 12, DHCPv6 FQDN). Default: the engine's. */
  readonly hostname?: string;
  /** Wired 802.1X authentication before any addressing. */
  readonly ieee8021x?: Ieee8021xConfig;
};

/** `direct` after normalization (subnet canonical: the network address and prefix). */
export type NormalizedDirectConfig = {
  readonly subnet?: string;
  readonly hostname?: string;
};

/** `ieee8021x` after normalization: method upper case, `phase2` filled in. */
export type NormalizedIeee8021xConfig =
  | (Omit<Ieee8021xPeapConfig, "phase2"> & { readonly phase2: PeapPhase2 })
  | (Omit<Ieee8021xTtlsConfig, "phase2"> & { readonly phase2: TtlsPhase2 })
  | Ieee8021xTlsConfig;

/** What `normalize` returns: every default filled in, every value canonical. */
export type NormalizedEthernetConfig = {
  readonly type: "ethernet";
  /** Absent exactly when `direct` is set (the direct link derives its own). */
  readonly ipv4?: NormalizedIPv4Config;
  readonly ipv6: NormalizedIPv6Config;
  readonly dhcpd?: NormalizedDhcpdConfig;
  readonly direct?: NormalizedDirectConfig;
  /** Lower case, colon separated. */
  readonly mac_address?: string;
  readonly hostname?: string;
  readonly ieee8021x?: NormalizedIeee8021xConfig;
};

// TypeScript users get completion and type errors for { type: "ethernet", ... } in configure().
declare module "@vnet/core" {
  interface ConfigTypes {
    ethernet: EthernetConfig;
  }
}
