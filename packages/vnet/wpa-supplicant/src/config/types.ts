/** Key management suites, spelled as wpa_supplicant spells them. */
export type KeyMgmt =
  | "NONE"
  | "WPA-PSK"
  | "WPA-PSK-SHA256"
  | "FT-PSK"
  | "SAE"
  | "FT-SAE"
  | "WPA-EAP"
  | "WPA-EAP-SHA256"
  | "FT-EAP"
  | "IEEE8021X"
  | "OWE";

/** EAP methods wpa_supplicant knows (outer methods and phase-2 methods). */
export type EapMethod =
  | "PEAP"
  | "TLS"
  | "TTLS"
  | "PWD"
  | "FAST"
  | "TEAP"
  | "MD5"
  | "MSCHAPV2"
  | "GTC"
  | "OTP"
  | "LEAP"
  | "SIM"
  | "AKA"
  | "AKA'"
  | "PSK";

/** `mode=`: written as 0..5. */
export type NetworkMode =
  | "infrastructure"
  | "ibss"
  | "ap"
  | "p2p_go"
  | "p2p_group_formation"
  | "mesh";

/** Management frame protection: 0/`disabled`, 1/`optional`, 2/`required`. */
export type Ieee80211w = 0 | 1 | 2 | "disabled" | "optional" | "required";

export type PairwiseCipher = "CCMP" | "TKIP" | "NONE" | "GCMP" | "GCMP-256" | "CCMP-256";
export type GroupCipher = PairwiseCipher | "WEP104" | "WEP40" | "GTK_NOT_USED";
export type Proto = "WPA" | "RSN";

/** A text value: a string (written as UTF-8) or raw bytes (SSIDs may hold any bytes). */
export type ConfigText = string | Uint8Array;

/**
 * One `network={...}` block. Keys are wpa_supplicant's own field names, so its documentation
 * applies unchanged. Only the keys listed here can be written; every value is validated.
 */
export interface NetworkConfig {
  /** 1..32 bytes. Required unless the global `ap_scan` is 0 (wired 802.1X has no SSID). */
  ssid?: ConfigText;
  /** Lock to one access point: `aa:bb:cc:dd:ee:ff`. */
  bssid?: string;
  /** One suite or several (space separated in the file). Default `NONE`. */
  key_mgmt?: KeyMgmt | readonly KeyMgmt[];
  /** Probe for this SSID specifically: needed for hidden networks. */
  scan_ssid?: boolean;
  /** Higher is preferred. Non-negative integer. */
  priority?: number;
  /** Default `infrastructure` (written only when given). */
  mode?: NetworkMode;
  /** MHz, for `ap`, `ibss` and `mesh` (2412 = channel 1, 5180 = channel 36). */
  frequency?: number;
  ieee80211w?: Ieee80211w;
  /**
   * WPA-PSK: a passphrase (8..63 printable ASCII characters) or a raw PSK (64 hex digits). A
   * passphrase is turned into the PSK (PBKDF2 with the SSID), so the file never holds it; with
   * `SAE` in `key_mgmt` and no `sae_password`, the passphrase is also the SAE password.
   */
  psk?: string;
  /** WPA3-Personal password (not hashed). */
  sae_password?: ConfigText;
  /** EAP identity (user name, or the certificate's name for EAP-TLS). */
  identity?: ConfigText;
  /** Outer identity sent in clear for PEAP/TTLS. */
  anonymous_identity?: ConfigText;
  /** EAP password (PEAP/TTLS phase 2, PWD, ...). */
  password?: ConfigText;
  pairwise?: PairwiseCipher | readonly PairwiseCipher[];
  group?: GroupCipher | readonly GroupCipher[];
  proto?: Proto | readonly Proto[];
  /** Allowed EAP methods; default: any the build supports. */
  eap?: EapMethod | readonly EapMethod[];
  /** 0..3. Wired 802.1X uses 0: a switch sends no EAPOL-Key frames. */
  eapol_flags?: number;
  /** Phase-1 parameters, e.g. `peapver=0` or `tls_disable_tlsv1_0=1`. */
  phase1?: ConfigText;
  /** Phase-2 parameters, e.g. `auth=MSCHAPV2`. */
  phase2?: ConfigText;
  /** CA certificate file that must have signed the server's certificate. */
  ca_cert?: ConfigText;
  ca_cert2?: ConfigText;
  /** Client certificate file (EAP-TLS). */
  client_cert?: ConfigText;
  client_cert2?: ConfigText;
  /** Client private key file (EAP-TLS). */
  private_key?: ConfigText;
  private_key2?: ConfigText;
  private_key_passwd?: ConfigText;
  private_key2_passwd?: ConfigText;
  /** Accept only a server whose certificate names this domain or a subdomain. */
  domain_suffix_match?: ConfigText;
  /** Accept only a server whose certificate names exactly this domain. */
  domain_match?: ConfigText;
  /** An application label returned in events and LIST_NETWORKS. */
  id_str?: ConfigText;
  /** Start disabled (enable later with ENABLE_NETWORK). */
  disabled?: boolean;
}

/** The whole file: global options and networks. Keys are wpa_supplicant's own names. */
export interface WpaSupplicantConfig {
  /**
   * Directory of the control sockets (`<dir>/<ifname>`). Absolute; at most 91 bytes so that
   * `<dir>/<ifname>` fits a Unix socket address.
   */
  ctrl_interface: string;
  /** Group (name or number) allowed to use the control sockets. */
  ctrl_interface_group?: string;
  /** ISO 3166 country code or `00` (world). */
  country?: string;
  /** 0..2: WPS credential handling (`1` passes credentials to the control interface). */
  wps_cred_processing?: 0 | 1 | 2;
  /** Background scan module, e.g. `simple:30:-45:300` or `learn`. */
  bgscan?: string;
  /** 1: wpa_supplicant scans and selects (WiFi); 0: the driver does (wired); 2: by SSID. */
  ap_scan?: 0 | 1 | 2;
  /** Mesh: 1 = user-space peering. */
  user_mpm?: 0 | 1;
  /** Default management frame protection for networks without `ieee80211w`. */
  pmf?: Ieee80211w;
  /** EAPOL version in frames we send; 1 suits old switches and APs. */
  eapol_version?: 1 | 2;
  /** EAP fast re-authentication (session resumption). */
  fast_reauth?: boolean;
  /** Only passive scans (no probe requests). */
  passive_scan?: boolean;
  /** Let wpa_supplicant rewrite this file on SAVE_CONFIG. */
  update_config?: boolean;
  networks?: readonly NetworkConfig[];
}
