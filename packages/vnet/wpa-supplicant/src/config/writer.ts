import { fieldPath, ValidationError, type ValidationIssue } from "@runtime/errors";
import { derivePsk, passphraseProblem, RAW_PSK, ssidProblem } from "./psk.js";
import { encodeConfigString, toBytes } from "./strings.js";
import type {
  ConfigText,
  EapMethod,
  KeyMgmt,
  NetworkConfig,
  NetworkMode,
  WpaSupplicantConfig,
} from "./types.js";

// wpa_supplicant 2.10 reads network lines into a 2000-byte buffer and global lines into a 512-byte
// one (fgets: the newline counts); a longer line is cut and the file fails to parse.
const MAX_NETWORK_LINE = 1998;
const MAX_GLOBAL_LINE = 510;
// sockaddr_un.sun_path holds 107 bytes plus NUL; `<dir>/<ifname>` needs room for a 15-byte name.
const MAX_CTRL_DIR = 107 - 1 - 15;

const KEY_MGMT: readonly KeyMgmt[] = [
  "NONE",
  "WPA-PSK",
  "WPA-PSK-SHA256",
  "FT-PSK",
  "SAE",
  "FT-SAE",
  "WPA-EAP",
  "WPA-EAP-SHA256",
  "FT-EAP",
  "IEEE8021X",
  "OWE",
];
const PSK_KEY_MGMT = new Set<KeyMgmt>(["WPA-PSK", "WPA-PSK-SHA256", "FT-PSK"]);
const SAE_KEY_MGMT = new Set<KeyMgmt>(["SAE", "FT-SAE"]);
const EAP_KEY_MGMT = new Set<KeyMgmt>(["WPA-EAP", "WPA-EAP-SHA256", "FT-EAP", "IEEE8021X"]);
const EAP_METHODS: readonly EapMethod[] = [
  "PEAP",
  "TLS",
  "TTLS",
  "PWD",
  "FAST",
  "TEAP",
  "MD5",
  "MSCHAPV2",
  "GTC",
  "OTP",
  "LEAP",
  "SIM",
  "AKA",
  "AKA'",
  "PSK",
];
const MODES: Readonly<Record<NetworkMode, number>> = {
  infrastructure: 0,
  ibss: 1,
  ap: 2,
  p2p_go: 3,
  p2p_group_formation: 4,
  mesh: 5,
};
const PMF: Readonly<Record<string, number>> = { disabled: 0, optional: 1, required: 2 };
const PAIRWISE = ["CCMP", "TKIP", "NONE", "GCMP", "GCMP-256", "CCMP-256"];
const GROUP = [...PAIRWISE, "WEP104", "WEP40", "GTK_NOT_USED"];
const PROTO = ["WPA", "RSN"];

/** Text fields written with {@link encodeConfigString}, in the order they appear in a block. */
const EAP_TEXT_FIELDS = ["identity", "anonymous_identity", "password"] as const;
const CERT_TEXT_FIELDS = [
  "ca_cert",
  "ca_cert2",
  "client_cert",
  "client_cert2",
  "private_key",
  "private_key2",
  "private_key_passwd",
  "private_key2_passwd",
  "domain_suffix_match",
  "domain_match",
] as const;
/** Fields that only mean something for EAP key management. */
const EAP_ONLY_FIELDS = [
  ...EAP_TEXT_FIELDS,
  "eap",
  "eapol_flags",
  "phase1",
  "phase2",
  ...CERT_TEXT_FIELDS,
] as const;

const KNOWN_NETWORK_FIELDS = new Set<string>([
  "ssid",
  "bssid",
  "key_mgmt",
  "scan_ssid",
  "priority",
  "mode",
  "frequency",
  "ieee80211w",
  "psk",
  "sae_password",
  "pairwise",
  "group",
  "proto",
  "id_str",
  "disabled",
  ...EAP_ONLY_FIELDS,
]);
const KNOWN_GLOBAL_FIELDS = new Set<string>([
  "ctrl_interface",
  "ctrl_interface_group",
  "country",
  "wps_cred_processing",
  "bgscan",
  "ap_scan",
  "user_mpm",
  "pmf",
  "eapol_version",
  "fast_reauth",
  "passive_scan",
  "update_config",
  "networks",
]);

type Issues = ValidationIssue[];

function isText(value: unknown): value is ConfigText {
  return typeof value === "string" || value instanceof Uint8Array;
}

/** A list option: one value or an array of allowed tokens, at least one, no duplicates. */
function tokens(
  issues: Issues,
  path: string,
  value: unknown,
  allowed: readonly string[],
): string[] | undefined {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) {
    issues.push({ path, value, reason: "must name at least one value" });
    return undefined;
  }
  for (const item of list) {
    if (typeof item !== "string" || !allowed.includes(item)) {
      issues.push({ path, value: item, reason: `must be one of ${allowed.join(", ")}` });
      return undefined;
    }
  }
  if (new Set(list).size !== list.length) {
    issues.push({ path, value, reason: "must not repeat a value" });
    return undefined;
  }
  return list as string[];
}

function text(issues: Issues, path: string, value: unknown): string | undefined {
  if (!isText(value)) {
    issues.push({ path, value, reason: "must be a string or bytes" });
    return undefined;
  }
  if (toBytes(value).length === 0) {
    issues.push({ path, value, reason: "must not be empty" });
    return undefined;
  }
  return encodeConfigString(value);
}

function integer(
  issues: Issues,
  path: string,
  value: unknown,
  min: number,
  max: number,
): number | undefined {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    issues.push({ path, value, reason: `must be an integer ${min}..${max}` });
    return undefined;
  }
  return value;
}

function boolean(issues: Issues, path: string, value: unknown): string | undefined {
  if (typeof value !== "boolean") {
    issues.push({ path, value, reason: "must be true or false" });
    return undefined;
  }
  return value ? "1" : "0";
}

function pmfValue(issues: Issues, path: string, value: unknown): number | undefined {
  if (typeof value === "string" && value in PMF) return PMF[value];
  if (value === 0 || value === 1 || value === 2) return value;
  issues.push({ path, value, reason: "must be 0, 1, 2, disabled, optional or required" });
  return undefined;
}

function unknownKeys(
  issues: Issues,
  prefix: string[],
  value: object,
  known: ReadonlySet<string>,
): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      issues.push({
        path: fieldPath(...prefix, key),
        value: (value as Record<string, unknown>)[key],
        reason: "is not a field this writer knows",
      });
    }
  }
}

function renderNetwork(
  network: NetworkConfig,
  index: number,
  apScan: number | undefined,
  issues: Issues,
): string[] {
  const at = (...segments: Array<string | number>) => fieldPath("networks", index, ...segments);
  const before = issues.length;
  if (network === null || typeof network !== "object") {
    issues.push({ path: at(), value: network, reason: "must be an object" });
    return [];
  }
  for (const key of Object.keys(network)) {
    if (!KNOWN_NETWORK_FIELDS.has(key)) {
      issues.push({
        path: at(key),
        value: (network as Record<string, unknown>)[key],
        reason: "is not a network field this writer knows",
      });
    }
  }
  const lines: Array<[string, string | number | undefined]> = [];
  const put = (key: string, value: string | number | undefined) => {
    if (value !== undefined) lines.push([key, value]);
  };

  const keyMgmt = (tokens(issues, at("key_mgmt"), network.key_mgmt ?? "NONE", KEY_MGMT) ??
    []) as KeyMgmt[];
  const usesPsk = keyMgmt.some((suite) => PSK_KEY_MGMT.has(suite));
  const usesSae = keyMgmt.some((suite) => SAE_KEY_MGMT.has(suite));
  const usesEap = keyMgmt.some((suite) => EAP_KEY_MGMT.has(suite));

  // ssid
  if (network.ssid === undefined) {
    if (apScan !== 0) {
      issues.push({
        path: at("ssid"),
        value: undefined,
        reason: "is required (only a wired port with ap_scan=0 has no SSID)",
      });
    }
  } else if (!isText(network.ssid)) {
    issues.push({ path: at("ssid"), value: network.ssid, reason: "must be a string or bytes" });
  } else {
    const problem = ssidProblem(network.ssid);
    if (problem) issues.push({ path: at("ssid"), value: network.ssid, reason: problem });
    else put("ssid", encodeConfigString(network.ssid));
  }

  if (network.bssid !== undefined) {
    if (
      typeof network.bssid === "string" &&
      /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(network.bssid)
    ) {
      put("bssid", network.bssid.toLowerCase());
    } else {
      issues.push({
        path: at("bssid"),
        value: network.bssid,
        reason: "must be a MAC address aa:bb:cc:dd:ee:ff",
      });
    }
  }
  if (keyMgmt.length > 0) put("key_mgmt", keyMgmt.join(" "));
  if (network.scan_ssid !== undefined)
    put("scan_ssid", boolean(issues, at("scan_ssid"), network.scan_ssid));
  if (network.priority !== undefined) {
    put("priority", integer(issues, at("priority"), network.priority, 0, 2_147_483_647));
  }
  if (network.mode !== undefined) {
    const mode = MODES[network.mode as NetworkMode];
    if (mode === undefined || !Object.hasOwn(MODES, network.mode)) {
      issues.push({
        path: at("mode"),
        value: network.mode,
        reason: `must be one of ${Object.keys(MODES).join(", ")}`,
      });
    } else {
      if (network.mode === "mesh" && keyMgmt.some((suite) => suite !== "NONE" && suite !== "SAE")) {
        issues.push({
          path: at("key_mgmt"),
          value: network.key_mgmt,
          reason: "a mesh network uses NONE or SAE",
        });
      }
      put("mode", mode);
    }
  }
  if (network.frequency !== undefined) {
    put("frequency", integer(issues, at("frequency"), network.frequency, 1, 70_200));
  }
  if (network.ieee80211w !== undefined)
    put("ieee80211w", pmfValue(issues, at("ieee80211w"), network.ieee80211w));

  // psk and sae_password
  let saePassword: string | undefined;
  if (network.psk !== undefined) {
    if (!usesPsk && !usesSae) {
      issues.push({
        path: at("psk"),
        value: network.psk,
        reason: "is used only with WPA-PSK, WPA-PSK-SHA256, FT-PSK, SAE or FT-SAE key management",
      });
    } else if (typeof network.psk !== "string") {
      issues.push({ path: at("psk"), value: network.psk, reason: "must be a string" });
    } else {
      const problem = passphraseProblem(network.psk);
      if (problem) issues.push({ path: at("psk"), value: network.psk, reason: problem });
      else {
        const raw = RAW_PSK.test(network.psk);
        if (usesPsk) {
          if (raw) put("psk", network.psk.toUpperCase());
          else if (
            network.ssid === undefined ||
            !isText(network.ssid) ||
            ssidProblem(network.ssid)
          ) {
            if (network.ssid === undefined) {
              issues.push({
                path: at("ssid"),
                value: undefined,
                reason: "is required to turn the psk passphrase into a PSK",
              });
            }
          } else put("psk", derivePsk(network.ssid, network.psk));
        }
        if (usesSae && network.sae_password === undefined) {
          if (raw) {
            issues.push({
              path: at("sae_password"),
              value: undefined,
              reason:
                "is required for SAE when psk is a raw 64-hex PSK (SAE needs the password itself)",
            });
          } else saePassword = encodeConfigString(network.psk);
        }
      }
    }
  } else if (usesPsk) {
    issues.push({
      path: at("psk"),
      value: undefined,
      reason: "is required for WPA-PSK key management",
    });
  }
  if (network.sae_password !== undefined) {
    if (!usesSae) {
      issues.push({
        path: at("sae_password"),
        value: network.sae_password,
        reason: "is used only with SAE or FT-SAE key management",
      });
    } else saePassword = text(issues, at("sae_password"), network.sae_password);
  } else if (usesSae && network.psk === undefined) {
    issues.push({
      path: at("sae_password"),
      value: undefined,
      reason: "is required for SAE (or give a psk passphrase)",
    });
  }

  // EAP
  if (!usesEap) {
    for (const field of EAP_ONLY_FIELDS) {
      if (network[field] !== undefined) {
        issues.push({
          path: at(field),
          value: network[field],
          reason: "is used only with WPA-EAP, WPA-EAP-SHA256, FT-EAP or IEEE8021X key management",
        });
      }
    }
  }
  const methods =
    network.eap === undefined ? [] : (tokens(issues, at("eap"), network.eap, EAP_METHODS) ?? []);
  if (usesEap) {
    if (methods.length > 0 && network.identity === undefined) {
      issues.push({
        path: at("identity"),
        value: undefined,
        reason: `is required for EAP (${methods.join(" ")})`,
      });
    }
    if ((methods.includes("PEAP") || methods.includes("TTLS")) && network.password === undefined) {
      issues.push({
        path: at("password"),
        value: undefined,
        reason: "is required for PEAP and TTLS",
      });
    }
    if (methods.includes("TLS")) {
      for (const field of ["client_cert", "private_key"] as const) {
        if (network[field] === undefined) {
          issues.push({ path: at(field), value: undefined, reason: "is required for EAP-TLS" });
        }
      }
    }
  }
  for (const field of EAP_TEXT_FIELDS) {
    if (usesEap && network[field] !== undefined)
      put(field, text(issues, at(field), network[field]));
  }
  if (network.pairwise !== undefined) {
    put("pairwise", tokens(issues, at("pairwise"), network.pairwise, PAIRWISE)?.join(" "));
  }
  if (network.group !== undefined)
    put("group", tokens(issues, at("group"), network.group, GROUP)?.join(" "));
  if (network.proto !== undefined)
    put("proto", tokens(issues, at("proto"), network.proto, PROTO)?.join(" "));
  if (usesEap && methods.length > 0) put("eap", methods.join(" "));
  if (usesEap && network.eapol_flags !== undefined) {
    put("eapol_flags", integer(issues, at("eapol_flags"), network.eapol_flags, 0, 3));
  }
  if (usesEap && network.phase1 !== undefined)
    put("phase1", text(issues, at("phase1"), network.phase1));
  if (usesEap && network.phase2 !== undefined)
    put("phase2", text(issues, at("phase2"), network.phase2));
  put("sae_password", saePassword);
  for (const field of CERT_TEXT_FIELDS) {
    if (usesEap && network[field] !== undefined)
      put(field, text(issues, at(field), network[field]));
  }
  if (network.id_str !== undefined) put("id_str", text(issues, at("id_str"), network.id_str));
  if (network.disabled !== undefined)
    put("disabled", boolean(issues, at("disabled"), network.disabled));

  // Insertion order above is the reference's field order (§9.4): ssid, bssid, key_mgmt, ...,
  // psk, identity, anonymous_identity, password, pairwise, group, eap, ..., sae_password, certs.
  for (const [key, value] of lines) {
    const line = `${key}=${value}`;
    if (line.length > MAX_NETWORK_LINE) {
      issues.push({
        path: at(key),
        value: (network as Record<string, unknown>)[key],
        reason: `makes a ${line.length}-character line; wpa_supplicant reads at most ${MAX_NETWORK_LINE}`,
      });
    }
  }
  if (issues.length > before) return [];
  return ["network={", ...lines.map(([key, value]) => `${key}=${value}`), "}"];
}

/**
 * Validates a configuration and renders the exact text of wpa_supplicant.conf. Pure. Throws one
 * ValidationError listing every problem (field path such as `networks[0].psk`, the value with
 * secrets redacted, and the reason); nothing is written by this function.
 */
export function renderWpaSupplicantConfig(config: WpaSupplicantConfig): string {
  const issues: Issues = [];
  if (config === null || typeof config !== "object") {
    throw new ValidationError({ path: "", value: config, reason: "must be an object" });
  }
  unknownKeys(issues, [], config, KNOWN_GLOBAL_FIELDS);
  const globals: string[] = [];

  const dir = config.ctrl_interface;
  if (typeof dir !== "string" || !/^\/[A-Za-z0-9._/+-]*$/.test(dir) || dir.includes("//")) {
    issues.push({
      path: "ctrl_interface",
      value: dir,
      reason: "must be an absolute path of letters, digits and . _ / + -",
    });
  } else if (Buffer.byteLength(dir) > MAX_CTRL_DIR) {
    issues.push({
      path: "ctrl_interface",
      value: dir,
      reason: `must be at most ${MAX_CTRL_DIR} bytes so that <dir>/<ifname> fits a Unix socket address`,
    });
  } else if (config.ctrl_interface_group !== undefined) {
    const group = config.ctrl_interface_group;
    if (typeof group !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(group)) {
      issues.push({
        path: "ctrl_interface_group",
        value: group,
        reason: "must be a group name or number",
      });
    } else globals.push(`ctrl_interface=DIR=${dir} GROUP=${group}`);
  } else globals.push(`ctrl_interface=${dir}`);

  if (config.country !== undefined) {
    if (typeof config.country === "string" && /^([A-Z]{2}|00)$/.test(config.country)) {
      globals.push(`country=${config.country}`);
    } else {
      issues.push({
        path: "country",
        value: config.country,
        reason: "must be an ISO 3166 alpha-2 code in capitals (e.g. US) or 00",
      });
    }
  }
  const globalInteger = (key: keyof WpaSupplicantConfig, min: number, max: number) => {
    if (config[key] !== undefined) {
      const value = integer(issues, key, config[key], min, max);
      if (value !== undefined) globals.push(`${key}=${value}`);
    }
  };
  const globalBoolean = (key: keyof WpaSupplicantConfig) => {
    if (config[key] !== undefined) {
      const value = boolean(issues, key, config[key]);
      if (value !== undefined) globals.push(`${key}=${value}`);
    }
  };
  globalInteger("wps_cred_processing", 0, 2);
  if (config.bgscan !== undefined) {
    if (typeof config.bgscan === "string" && /^[A-Za-z0-9_:.-]+$/.test(config.bgscan)) {
      globals.push(`bgscan="${config.bgscan}"`);
    } else {
      issues.push({
        path: "bgscan",
        value: config.bgscan,
        reason: "must be a module and its parameters, e.g. simple:30:-45:300",
      });
    }
  }
  globalInteger("ap_scan", 0, 2);
  globalInteger("user_mpm", 0, 1);
  if (config.pmf !== undefined) {
    const value = pmfValue(issues, "pmf", config.pmf);
    if (value !== undefined) globals.push(`pmf=${value}`);
  }
  globalInteger("eapol_version", 1, 2);
  globalBoolean("fast_reauth");
  globalBoolean("passive_scan");
  globalBoolean("update_config");
  for (const line of globals) {
    if (line.length > MAX_GLOBAL_LINE) {
      issues.push({
        path: line.slice(0, line.indexOf("=")),
        value: line,
        reason: `makes a ${line.length}-character line; wpa_supplicant reads at most ${MAX_GLOBAL_LINE}`,
      });
    }
  }

  const blocks: string[] = [];
  if (config.networks !== undefined && !Array.isArray(config.networks)) {
    issues.push({ path: "networks", value: config.networks, reason: "must be an array" });
  } else {
    const apScan = typeof config.ap_scan === "number" ? config.ap_scan : undefined;
    (config.networks ?? []).forEach((network, index) => {
      blocks.push(...renderNetwork(network, index, apScan, issues));
    });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return `${[...globals, ...blocks].join("\n")}\n`;
}
