// Wired 802.1X: validating the `ieee8021x` section, the wpa_supplicant.conf it becomes, and its
// part of the recipe. Pure.
import { join } from "node:path";
import { ValidationError, type ValidationIssue } from "@runtime/errors";
import {
  ConfigIssues,
  domainField,
  isPlainObject,
  type PropertyCondition,
  type RawConfigParts,
  rejectUnknownFields,
  type TechnologyContext,
} from "@vnet/core";
import {
  renderWpaSupplicantConfig,
  type NetworkConfig as WpaNetworkConfig,
} from "@vnet/wpa-supplicant";
import type { NormalizedIeee8021xConfig, PeapPhase2, TtlsPhase2 } from "./types.js";

const PEAP_PHASE2: readonly PeapPhase2[] = ["MSCHAPV2", "GTC", "MD5"];
const TTLS_PHASE2: readonly TtlsPhase2[] = [
  "PAP",
  "CHAP",
  "MSCHAP",
  "MSCHAPV2",
  "EAP-MSCHAPV2",
  "EAP-GTC",
  "EAP-MD5",
];
const COMMON_FIELDS = ["eap", "identity", "ca_cert", "domain_suffix_match"];
const FIELDS = {
  PEAP: [...COMMON_FIELDS, "password", "anonymous_identity", "phase2"],
  TTLS: [...COMMON_FIELDS, "password", "anonymous_identity", "phase2"],
  TLS: [...COMMON_FIELDS, "client_cert", "private_key", "private_key_passwd"],
} as const;

/** The name of the service that follows wpa_supplicant and publishes `eap_status`. */
export const IEEE8021X_SERVICE = "ethernet.ieee8021x";

/** Where wpa_supplicant's files for `ifname` live. */
export function ieee8021xPaths(ifname: string, context: TechnologyContext) {
  const ctrlInterface = join(context.tmpDir, "wpa_supplicant");
  return {
    configPath: join(context.tmpDir, `wpa_supplicant.conf.${ifname}`),
    ctrlInterface,
    socketPath: join(ctrlInterface, ifname),
  };
}

/** The `run_while` condition that holds DHCP back until the port is authorized. */
export function authorizedCondition(ifname: string): PropertyCondition {
  return { path: ["interface", ifname, "eap_status"], matches: { authorized: true } };
}

function textField(
  issues: ConfigIssues,
  section: Record<string, unknown>,
  field: string,
  required: boolean,
): string | undefined {
  const value = section[field];
  const path = `ieee8021x.${field}`;
  if (value === undefined) {
    if (required) issues.add(path, undefined, "is required");
    return undefined;
  }
  if (typeof value !== "string" || value === "") {
    return issues.add(path, value, "must be a non-empty string");
  }
  return value;
}

function fileField(
  issues: ConfigIssues,
  section: Record<string, unknown>,
  field: string,
  required: boolean,
): string | undefined {
  const value = textField(issues, section, field, required);
  if (value === undefined) return undefined;
  if (!value.startsWith("/") || /[\n\r\0"]/.test(value)) {
    return issues.add(
      `ieee8021x.${field}`,
      value,
      'must be an absolute file path (without quotes or line breaks), e.g. "/data/certs/ca.pem"',
    );
  }
  return value;
}

/** The phase2 line wpa_supplicant wants for an inner method. */
function phase2Text(config: NormalizedIeee8021xConfig): string | undefined {
  if (config.eap === "TLS") return undefined;
  return config.phase2.startsWith("EAP-")
    ? `autheap=${config.phase2.slice(4)}`
    : `auth=${config.phase2}`;
}

/** The network block: wired 802.1X (no SSID), disabled until the service has attached. */
function wpaNetwork(config: NormalizedIeee8021xConfig): WpaNetworkConfig {
  const phase2 = phase2Text(config);
  return {
    key_mgmt: "IEEE8021X",
    eap: config.eap,
    identity: config.identity,
    ...(config.eap !== "TLS" && config.anonymous_identity
      ? { anonymous_identity: config.anonymous_identity }
      : {}),
    ...(config.eap !== "TLS" ? { password: config.password } : {}),
    ...(phase2 ? { phase2 } : {}),
    ...(config.ca_cert ? { ca_cert: config.ca_cert } : {}),
    ...(config.eap === "TLS"
      ? {
          client_cert: config.client_cert,
          private_key: config.private_key,
          ...(config.private_key_passwd ? { private_key_passwd: config.private_key_passwd } : {}),
        }
      : {}),
    ...(config.domain_suffix_match ? { domain_suffix_match: config.domain_suffix_match } : {}),
    // A switch sends no EAPOL-Key frames: do not wait for them after EAP success.
    eapol_flags: 0,
    // The service enables it once it follows the events, so it sees the whole authentication.
    disabled: true,
  };
}

/** The wpa_supplicant.conf text (holds the password or key passphrase: write it 0600). */
export function wpaSupplicantConf(
  config: NormalizedIeee8021xConfig,
  ctrlInterface: string,
): string {
  return renderWpaSupplicantConfig({
    ctrl_interface: ctrlInterface,
    // Wired: the driver "associates"; wpa_supplicant never scans.
    ap_scan: 0,
    networks: [wpaNetwork(config)],
  });
}

/**
 * Validates and canonicalizes an `ieee8021x` section. Everything wpa_supplicant would reject
 * (a line too long for its parser, say) is reported here too, with `ieee8021x.<field>` paths.
 */
export function normalizeIeee8021x(input: unknown): NormalizedIeee8021xConfig {
  const issues = new ConfigIssues();
  if (!isPlainObject(input)) {
    issues.add("ieee8021x", input, "must be an object with eap (PEAP, TTLS or TLS) and identity");
    issues.throwIfAny();
  }
  const section = input as Record<string, unknown>;
  const eap = typeof section.eap === "string" ? section.eap.toUpperCase() : section.eap;
  if (eap !== "PEAP" && eap !== "TTLS" && eap !== "TLS") {
    issues.add("ieee8021x.eap", section.eap, "must be one of PEAP, TTLS, TLS");
    issues.throwIfAny();
  }
  const method = eap as "PEAP" | "TTLS" | "TLS";
  rejectUnknownFields(issues, section, FIELDS[method], "ieee8021x", `${method} ieee8021x configs`);
  const identity = textField(issues, section, "identity", true);
  const caCert = fileField(issues, section, "ca_cert", false);
  let domainSuffix: string | undefined;
  if (section.domain_suffix_match !== undefined) {
    domainSuffix = domainField(
      issues,
      section.domain_suffix_match,
      "ieee8021x.domain_suffix_match",
    );
  }
  const common = {
    identity: identity!,
    ...(caCert ? { ca_cert: caCert } : {}),
    ...(domainSuffix ? { domain_suffix_match: domainSuffix } : {}),
  };
  let normalized: NormalizedIeee8021xConfig;
  if (method === "TLS") {
    const clientCert = fileField(issues, section, "client_cert", true);
    const privateKey = fileField(issues, section, "private_key", true);
    const passphrase = textField(issues, section, "private_key_passwd", false);
    normalized = {
      eap: "TLS",
      ...common,
      client_cert: clientCert!,
      private_key: privateKey!,
      ...(passphrase ? { private_key_passwd: passphrase } : {}),
    };
  } else {
    const password = textField(issues, section, "password", true);
    const anonymous = textField(issues, section, "anonymous_identity", false);
    const allowed: readonly string[] = method === "PEAP" ? PEAP_PHASE2 : TTLS_PHASE2;
    const phase2Input =
      typeof section.phase2 === "string" ? section.phase2.toUpperCase() : section.phase2;
    let phase2 = "MSCHAPV2";
    if (phase2Input !== undefined) {
      if (typeof phase2Input !== "string" || !allowed.includes(phase2Input)) {
        issues.add("ieee8021x.phase2", section.phase2, `must be one of ${allowed.join(", ")}`);
      } else {
        phase2 = phase2Input;
      }
    }
    normalized = {
      eap: method,
      ...common,
      password: password!,
      ...(anonymous ? { anonymous_identity: anonymous } : {}),
      phase2,
    } as NormalizedIeee8021xConfig;
  }
  issues.throwIfAny();
  // The writer's own rules (lengths its parser accepts, text it can encode), mapped to our paths.
  try {
    wpaSupplicantConf(normalized, "/tmp/vnet/wpa_supplicant");
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(
      error.issues.map(
        (issue): ValidationIssue => ({
          ...issue,
          path: issue.path.replace(/^networks\[0\]\./, "ieee8021x."),
        }),
      ),
    );
  }
  return normalized;
}

/**
 * The 802.1X part of the recipe: the wpa_supplicant.conf (0600), a stale control socket
 * removed, `wpa_supplicant -D wired` supervised, and the service that follows it and publishes
 * `["interface", ifname, "eap_status"]`.
 */
export function ieee8021xRawConfig(
  ifname: string,
  config: NormalizedIeee8021xConfig,
  context: TechnologyContext,
): RawConfigParts {
  const paths = ieee8021xPaths(ifname, context);
  return {
    files: [
      {
        path: paths.configPath,
        content: wpaSupplicantConf(config, paths.ctrlInterface),
        mode: 0o600,
      },
    ],
    cleanupFiles: [paths.socketPath],
    daemons: [
      {
        id: "wpa_supplicant",
        argv: ["wpa_supplicant", "-D", "wired", "-i", ifname, "-c", paths.configPath],
        restart: { initialDelayMs: 1_000, maxDelayMs: 30_000 },
      },
    ],
    services: [
      {
        service: IEEE8021X_SERVICE,
        options: { ctrl_interface: paths.ctrlInterface, client_dir: context.tmpDir },
      },
    ],
  };
}
