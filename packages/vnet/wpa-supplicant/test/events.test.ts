import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEvent } from "../src/index.js";

// Texts captured from wpa_supplicant 2.10 (-D wired, PEAP against hostapd) unless noted.
describe("decodeEvent", () => {
  it.each([
    ["<3>CTRL-EVENT-EAP-STARTED EAP authentication started", { kind: "eap-started" }],
    [
      "<3>CTRL-EVENT-EAP-STATUS status='started' parameter=''",
      { kind: "eap-status", status: "started", parameter: "" },
    ],
    [
      "<3>CTRL-EVENT-EAP-STATUS status='accept proposed method' parameter='PEAP'",
      { kind: "eap-status", status: "accept proposed method", parameter: "PEAP" },
    ],
    [
      "<3>CTRL-EVENT-EAP-STATUS status='remote certificate verification' parameter='success'",
      { kind: "eap-status", status: "remote certificate verification", parameter: "success" },
    ],
    [
      "<3>CTRL-EVENT-EAP-STATUS status='completion' parameter='failure'",
      { kind: "eap-status", status: "completion", parameter: "failure" },
    ],
    [
      "<3>CTRL-EVENT-EAP-PROPOSED-METHOD vendor=0 method=25",
      { kind: "eap-proposed-method", vendor: 0, method: 25 },
    ],
    [
      "<3>CTRL-EVENT-EAP-METHOD EAP vendor 0 method 25 (PEAP) selected",
      { kind: "eap-method", method: "PEAP" },
    ],
    [
      "<3>CTRL-EVENT-EAP-PEER-CERT depth=1 subject='/CN=test CA' hash=6b54acad",
      { kind: "eap-peer-cert", depth: 1, subject: "/CN=test CA", hash: "6b54acad" },
    ],
    [
      "<3>CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully",
      { kind: "eap-success" },
    ],
    ["<4>CTRL-EVENT-EAP-FAILURE EAP authentication failed", { kind: "eap-failure", priority: 4 }],
    [
      "<3>CTRL-EVENT-CONNECTED - Connection to 01:80:c2:00:00:03 completed [id=0 id_str=]",
      { kind: "connected", bssid: "01:80:c2:00:00:03", networkId: 0 },
    ],
    [
      "<3>CTRL-EVENT-CONNECTED - Connection to 00:11:22:33:44:55 completed [id=2 id_str=home]",
      { kind: "connected", bssid: "00:11:22:33:44:55", networkId: 2, idStr: "home" },
    ],
    [
      "<3>CTRL-EVENT-DISCONNECTED bssid=01:80:c2:00:00:03 reason=3 locally_generated=1",
      { kind: "disconnected", bssid: "01:80:c2:00:00:03", reason: 3, locallyGenerated: true },
    ],
    [
      '<3>CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="hello \\\\\\"wo\\\\\\\\rld" auth_failures=1 duration=10 reason=AUTH_FAILED',
      {
        kind: "ssid-temp-disabled",
        networkId: 0,
        ssid: 'hello \\"wo\\\\rld',
        authFailures: 1,
        duration: 10,
        reason: "AUTH_FAILED",
      },
    ],
    [
      '<3>CTRL-EVENT-SSID-REENABLED id=1 ssid="cafe"',
      { kind: "ssid-reenabled", networkId: 1, ssid: "cafe" },
    ],
    [
      "<3>CTRL-EVENT-ASSOC-REJECT bssid=00:11:22:33:44:55 status_code=16",
      { kind: "assoc-reject", bssid: "00:11:22:33:44:55", statusCode: 16 },
    ],
    [
      "<3>CTRL-EVENT-BSS-ADDED 34 00:11:22:33:44:55",
      { kind: "bss-added", id: 34, bssid: "00:11:22:33:44:55" },
    ],
    [
      "<3>CTRL-EVENT-BSS-REMOVED 34 00:11:22:33:44:55",
      { kind: "bss-removed", id: 34, bssid: "00:11:22:33:44:55" },
    ],
    ["<3>CTRL-EVENT-SCAN-STARTED ", { kind: "scan-started" }],
    ["<3>CTRL-EVENT-SCAN-RESULTS ", { kind: "scan-results" }],
    ["<3>CTRL-EVENT-NETWORK-NOT-FOUND ", { kind: "network-not-found" }],
    ["<3>CTRL-EVENT-TERMINATING ", { kind: "terminating" }],
    [
      "<3>CTRL-REQ-PASSWORD-0:Password needed for SSID corp",
      {
        kind: "credential-request",
        field: "PASSWORD",
        networkId: 0,
        prompt: "Password needed for SSID corp",
      },
    ],
    [
      "<3>CTRL-EVENT-SUBNET-STATUS-UPDATE status=0",
      { kind: "other", name: "CTRL-EVENT-SUBNET-STATUS-UPDATE", fields: { status: "0" } },
    ],
    ["<2>WPS-PBC-ACTIVE", { kind: "other", name: "WPS-PBC-ACTIVE", priority: 2, message: "" }],
    ["IFNAME=wlan0 <3>CTRL-EVENT-SCAN-RESULTS ", { kind: "other" }],
  ])("decodes %s", (message, expected) => {
    expect(decodeEvent(message)).toMatchObject(expected);
  });

  it("keeps the raw text and priority of every event", () => {
    const event = decodeEvent(
      "<3>CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully",
    );
    expect(event).toMatchObject({
      name: "CTRL-EVENT-EAP-SUCCESS",
      priority: 3,
      message: "EAP authentication completed successfully",
      raw: "CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully",
    });
  });

  it("never throws, and always names the first word", () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(9), (text, priority) => {
        const event = decodeEvent(`<${priority}>${text}`);
        expect(event.priority).toBe(priority);
        expect(typeof event.kind).toBe("string");
        expect(text.startsWith(event.name) || text.startsWith(`IFNAME=`)).toBe(true);
      }),
    );
  });
});
