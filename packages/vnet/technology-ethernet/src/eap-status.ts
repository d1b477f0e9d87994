// `["interface", ifname, "eap_status"]`: what wpa_supplicant's events and STATUS say about an
// 802.1X authentication, as a pure reducer.
import type { WpaEvent, WpaStatus } from "@vnet/wpa-supplicant";

/** The value of `["interface", ifname, "eap_status"]`. */
export interface EapStatus {
  /**
   * `started`: an authentication is under way (or none has finished since wpa_supplicant
   * started); `success`: the server accepted us; `failure`: it did not (see `reason`).
   */
  status: "started" | "success" | "failure";
  /** The EAP method agreed on (`PEAP`, `TTLS`, `TLS`), once known. */
  method: string | null;
  /** Whether the server's certificate chain checked out against `ca_cert`, once known. */
  remote_certificate_verified: boolean | null;
  /**
   * Whether the port is authorized: the last authentication succeeded and the link has not lost
   * carrier since. A re-authentication under way keeps it; a failure or an unplugged cable ends
   * it. DHCP runs only while it is true.
   */
  authorized: boolean;
  /** Why authentication failed, in words; null otherwise. */
  reason: string | null;
}

/** Before anything is known: wpa_supplicant is starting. */
export function initialEapStatus(): EapStatus {
  return {
    status: "started",
    method: null,
    remote_certificate_verified: null,
    authorized: false,
    reason: null,
  };
}

/** `25 (EAP-PEAP)` → `PEAP`. */
function methodFromSelected(selected: string | undefined): string | null {
  return /\(EAP-([A-Za-z0-9-]+)\)/.exec(selected ?? "")?.[1]?.toUpperCase() ?? null;
}

/**
 * The state STATUS reports (read right after attaching, and after wpa_supplicant restarted):
 * it replaces whatever events said before, since nothing older can be trusted.
 */
export function eapStatusFromWpaStatus(status: WpaStatus, current: EapStatus): EapStatus {
  const eapState = status.eap_state ?? "";
  const authorized = status.supp_port_status === "Authorized";
  const method = methodFromSelected(status.selected_method) ?? current.method;
  if (eapState === "SUCCESS") {
    return { ...current, status: "success", method, authorized, reason: null };
  }
  if (eapState === "FAILURE") {
    return {
      ...current,
      status: "failure",
      method,
      authorized: false,
      reason: current.status === "failure" && current.reason ? current.reason : REJECTED,
    };
  }
  return { ...current, status: "started", authorized };
}

const REJECTED =
  "the authentication server rejected the credentials (EAP-Failure): check identity, password or certificate";

/** The next status after one event; unrelated events leave it as it is (same object). */
export function nextEapStatus(current: EapStatus, event: WpaEvent): EapStatus {
  switch (event.kind) {
    case "eap-started":
      // A new authentication: what the last one found no longer holds, but a re-authentication
      // of an authorized port keeps it authorized until it fails.
      return {
        status: "started",
        method: null,
        remote_certificate_verified: null,
        authorized: current.authorized,
        reason: null,
      };
    case "eap-method":
      return { ...current, method: event.method.toUpperCase() };
    case "eap-status":
      if (event.status === "accept proposed method" && event.parameter) {
        return { ...current, method: event.parameter.toUpperCase() };
      }
      if (event.status === "remote certificate verification") {
        const verified = event.parameter === "success";
        return {
          ...current,
          remote_certificate_verified: verified,
          ...(verified
            ? {}
            : {
                reason:
                  "the server's certificate was not accepted: check ca_cert and domain_suffix_match",
              }),
        };
      }
      return current;
    case "eap-tls-cert-error":
      return {
        ...current,
        remote_certificate_verified: false,
        reason: `the server's certificate was not accepted (${event.reason ?? event.error ?? "certificate error"}): check ca_cert and domain_suffix_match`,
      };
    case "eap-success":
      return { ...current, status: "success", authorized: true, reason: null };
    case "eap-failure":
      return {
        ...current,
        status: "failure",
        authorized: false,
        reason: current.reason ?? REJECTED,
      };
    case "other":
      // MSCHAPv2 tells why: error 691 is a wrong user name or password.
      if (/^EAP-MSCHAPV2/i.test(event.name) || /MSCHAPV2/i.test(event.raw)) {
        const code = /error (\d+)/.exec(event.raw)?.[1];
        if (code === "691") {
          return {
            ...current,
            reason:
              "the authentication server rejected the identity or password (MSCHAPv2 error 691)",
          };
        }
        if (code === "648") {
          return { ...current, reason: "the password has expired (MSCHAPv2 error 648)" };
        }
      }
      return current;
    default:
      return current;
  }
}

/** Carrier lost: a switch de-authorizes the port; the status itself stays for diagnosis. */
export function eapStatusOnCarrierLoss(current: EapStatus): EapStatus {
  return current.authorized ? { ...current, authorized: false } : current;
}
