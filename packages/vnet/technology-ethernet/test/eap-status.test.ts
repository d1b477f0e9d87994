// The eap_status reducer, fed with event texts wpa_supplicant 2.10 sent against hostapd
// (driver=wired, internal EAP server), captured in a namespace.
import { decodeEvent, parseStatus } from "@vnet/wpa-supplicant";
import { describe, expect, it } from "vitest";
import { eapStatusOnCarrierLoss } from "../src/eap-status.js";
import {
  type EapStatus,
  eapStatusFromWpaStatus,
  initialEapStatus,
  nextEapStatus,
} from "../src/index.js";

const started = [
  "<3>CTRL-EVENT-EAP-STARTED EAP authentication started",
  "<3>CTRL-EVENT-EAP-STATUS status='started' parameter=''",
  "<3>CTRL-EVENT-EAP-PROPOSED-METHOD vendor=0 method=25",
  "<3>CTRL-EVENT-EAP-STATUS status='accept proposed method' parameter='PEAP'",
  "<3>CTRL-EVENT-EAP-METHOD EAP vendor 0 method 25 (PEAP) selected",
  "<3>CTRL-EVENT-EAP-PEER-CERT depth=0 subject='/CN=netlab-server' hash=07db3da8",
  "<3>CTRL-EVENT-EAP-STATUS status='remote certificate verification' parameter='success'",
];
const success = [
  ...started,
  "<3>CTRL-EVENT-EAP-STATUS status='completion' parameter='success'",
  "<3>CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully",
  "<3>CTRL-EVENT-CONNECTED - Connection to 01:80:c2:00:00:03 completed [id=0 id_str=]",
];
const wrongPassword = [
  ...started,
  "<3>EAP-MSCHAPV2: failure message: 'FAILED' (retry not allowed, error 691)",
  "<3>CTRL-EVENT-EAP-STATUS status='completion' parameter='failure'",
  "<3>CTRL-EVENT-EAP-FAILURE EAP authentication failed",
];

function replay(texts: readonly string[], from: EapStatus = initialEapStatus()): EapStatus[] {
  const states: EapStatus[] = [];
  let current = from;
  for (const text of texts) {
    current = nextEapStatus(current, decodeEvent(text));
    states.push(current);
  }
  return states;
}

describe("eap_status from wpa_supplicant's events", () => {
  it("starts as started, not authorized", () => {
    expect(initialEapStatus()).toEqual({
      status: "started",
      method: null,
      remote_certificate_verified: null,
      authorized: false,
      reason: null,
    });
  });

  it("a PEAP success: method, verified certificate, success, authorized", () => {
    const states = replay(success);
    expect(states.at(-1)).toEqual({
      status: "success",
      method: "PEAP",
      remote_certificate_verified: true,
      authorized: true,
      reason: null,
    });
    // Not authorized before the success event.
    expect(states.slice(0, -3).every((state) => !state.authorized)).toBe(true);
  });

  it("a wrong password: failure, not authorized, and a reason a person can act on", () => {
    expect(replay(wrongPassword).at(-1)).toEqual({
      status: "failure",
      method: "PEAP",
      remote_certificate_verified: true,
      authorized: false,
      reason: "the authentication server rejected the identity or password (MSCHAPv2 error 691)",
    });
  });

  it("an untrusted server certificate says so", () => {
    const final = replay([
      "<3>CTRL-EVENT-EAP-STARTED EAP authentication started",
      "<3>CTRL-EVENT-EAP-TLS-CERT-ERROR reason=1 depth=0 subject='/CN=evil' err='unable to get local issuer certificate'",
      "<3>CTRL-EVENT-EAP-STATUS status='remote certificate verification' parameter='failure'",
      "<3>CTRL-EVENT-EAP-FAILURE EAP authentication failed",
    ]).at(-1)!;
    expect(final.status).toBe("failure");
    expect(final.remote_certificate_verified).toBe(false);
    expect(final.reason).toMatch(/^the server's certificate was not accepted.*check ca_cert/);
  });

  it("a failure without details still has a reason", () => {
    expect(replay(["<3>CTRL-EVENT-EAP-FAILURE EAP authentication failed"]).at(-1)?.reason).toBe(
      "the authentication server rejected the credentials (EAP-Failure): check identity, password or certificate",
    );
  });

  it("a re-authentication keeps the port authorized until it fails, and forgets the old reason", () => {
    const authorized = replay(success).at(-1)!;
    const again = replay(started, authorized);
    expect(again.every((state) => state.authorized)).toBe(true);
    expect(again[0]).toMatchObject({ status: "started", method: null, reason: null });
    expect(replay(wrongPassword, authorized).at(-1)?.authorized).toBe(false);
    const afterFailure = replay(wrongPassword).at(-1)!;
    expect(replay(success, afterFailure).at(-1)).toMatchObject({ authorized: true, reason: null });
  });

  it("unrelated events change nothing (the same object)", () => {
    const state = initialEapStatus();
    for (const text of [
      "<3>CTRL-EVENT-SCAN-STARTED ",
      "<3>CTRL-EVENT-CONNECTED - Connection to 01:80:c2:00:00:03 completed [id=0 id_str=]",
      "<2>EAP-MSCHAPV2: Authentication succeeded",
      "<3>CTRL-EVENT-EAP-STATUS status='completion' parameter='success'",
    ]) {
      expect(nextEapStatus(state, decodeEvent(text))).toBe(state);
    }
  });

  it("carrier loss ends the authorization, keeping the rest for diagnosis", () => {
    const authorized = replay(success).at(-1)!;
    expect(eapStatusOnCarrierLoss(authorized)).toEqual({ ...authorized, authorized: false });
    const unauthorized = initialEapStatus();
    expect(eapStatusOnCarrierLoss(unauthorized)).toBe(unauthorized);
  });
});

describe("eap_status from STATUS (after attaching, or after wpa_supplicant restarted)", () => {
  const status = (lines: string[]) => parseStatus(lines.join("\n"));

  it("SUCCESS and Authorized", () => {
    expect(
      eapStatusFromWpaStatus(
        status([
          "bssid=01:80:c2:00:00:03",
          "wpa_state=COMPLETED",
          "Supplicant PAE state=AUTHENTICATED",
          "suppPortStatus=Authorized",
          "EAP state=SUCCESS",
          "selectedMethod=25 (EAP-PEAP)",
        ]),
        initialEapStatus(),
      ),
    ).toEqual({
      status: "success",
      method: "PEAP",
      remote_certificate_verified: null,
      authorized: true,
      reason: null,
    });
  });

  it("FAILURE keeps an earlier reason, or gives the generic one", () => {
    const failed = status([
      "wpa_state=ASSOCIATED",
      "suppPortStatus=Unauthorized",
      "EAP state=FAILURE",
    ]);
    expect(eapStatusFromWpaStatus(failed, initialEapStatus())).toMatchObject({
      status: "failure",
      authorized: false,
      reason: expect.stringContaining("rejected the credentials"),
    });
    const known = replay(wrongPassword).at(-1)!;
    expect(eapStatusFromWpaStatus(failed, known).reason).toBe(known.reason);
  });

  it("anything else is started; the port status is taken as it is", () => {
    expect(
      eapStatusFromWpaStatus(
        status(["wpa_state=ASSOCIATED", "suppPortStatus=Unauthorized", "EAP state=IDLE"]),
        replay(success).at(-1)!,
      ),
    ).toMatchObject({ status: "started", authorized: false });
  });
});
