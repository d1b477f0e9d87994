import { describe, expect, it } from "vitest";
import {
  parseListNetworks,
  parseScanResults,
  parseStatus,
  redactCommand,
  WpaControlError,
} from "../src/index.js";

describe("parseStatus", () => {
  it("parses a wired 802.1X STATUS answer (wpa_supplicant 2.10)", () => {
    const status = parseStatus(
      [
        "bssid=01:80:c2:00:00:03",
        "freq=0",
        "ssid=",
        "id=0",
        "mode=station",
        "pairwise_cipher=NONE",
        "group_cipher=NONE",
        "key_mgmt=IEEE 802.1X (no WPA)",
        "wpa_state=COMPLETED",
        "address=d6:7e:39:df:ce:b4",
        "Supplicant PAE state=AUTHENTICATED",
        "suppPortStatus=Authorized",
        "EAP state=SUCCESS",
        "selectedMethod=25 (EAP-PEAP)",
        "eap_session_id=19ab",
        "uuid=13f77f20-daf3-5c22-a624-53488ba97821",
        "",
      ].join("\n"),
    );
    expect(status).toMatchObject({
      wpa_state: "COMPLETED",
      eap_state: "SUCCESS",
      supp_port_status: "Authorized",
      selected_method: "25 (EAP-PEAP)",
      bssid: "01:80:c2:00:00:03",
      id: 0,
      key_mgmt: "IEEE 802.1X (no WPA)",
      address: "d6:7e:39:df:ce:b4",
    });
    expect(status.raw["Supplicant PAE state"]).toBe("AUTHENTICATED");
  });

  it("decodes an escaped SSID and keeps values holding '='", () => {
    const status = parseStatus(
      'wpa_state=SCANNING\nssid=caf\\xc3\\xa9 \\"x\\"\nip_address=10.0.0.2\nextra=a=b\n',
    );
    expect(status).toMatchObject({
      wpa_state: "SCANNING",
      ssid: 'café "x"',
      ip_address: "10.0.0.2",
    });
    expect(status.raw["extra"]).toBe("a=b");
  });

  it("says UNKNOWN when there is no wpa_state", () => {
    expect(parseStatus("").wpa_state).toBe("UNKNOWN");
  });
});

describe("parseListNetworks", () => {
  it("parses rows, decoding SSIDs and flags", () => {
    expect(
      parseListNetworks(
        'network id / ssid / bssid / flags\n0\thello \\\\\\"wo\\\\\\\\rld\tany\t[CURRENT]\n1\thello\\x00\tany\t\n2\tcorp\t00:11:22:33:44:55\t[DISABLED][TEMP-DISABLED]\n',
      ),
    ).toEqual([
      { id: 0, ssid: 'hello \\"wo\\\\rld', bssid: "any", flags: ["CURRENT"] },
      { id: 1, ssid: "hello\u0000", bssid: "any", flags: [] },
      { id: 2, ssid: "corp", bssid: "00:11:22:33:44:55", flags: ["DISABLED", "TEMP-DISABLED"] },
    ]);
  });

  it("rejects an answer without the header", () => {
    expect(() => parseListNetworks("FAIL\n")).toThrow(WpaControlError);
  });
});

describe("parseScanResults", () => {
  it("parses rows", () => {
    expect(
      parseScanResults(
        "bssid / frequency / signal level / flags / ssid\n00:11:22:33:44:55\t2412\t-45\t[WPA2-PSK-CCMP][ESS]\thome\n66:77:88:99:aa:bb\t5180\t-70\t[ESS]\t\n",
      ),
    ).toEqual([
      {
        bssid: "00:11:22:33:44:55",
        frequency: 2412,
        signal: -45,
        flags: ["WPA2-PSK-CCMP", "ESS"],
        ssid: "home",
      },
      { bssid: "66:77:88:99:aa:bb", frequency: 5180, signal: -70, flags: ["ESS"], ssid: "" },
    ]);
  });
});

describe("redactCommand", () => {
  it.each([
    ['SET_NETWORK 0 psk "secretpass"', "SET_NETWORK 0 psk ****"],
    ['SET_NETWORK 3 password "x y"', "SET_NETWORK 3 password ****"],
    ['SET_NETWORK 0 sae_password "x"', "SET_NETWORK 0 sae_password ****"],
    ['SET_NETWORK 0 private_key_passwd "x"', "SET_NETWORK 0 private_key_passwd ****"],
    ["SET_NETWORK 0 wep_key0 0102030405", "SET_NETWORK 0 wep_key0 ****"],
    ['SET_CRED 1 password "x"', "SET_CRED 1 password ****"],
    ["CTRL-RSP-PASSWORD-0:hunter2", "CTRL-RSP-PASSWORD-0:****"],
    ["WPS_PIN any 12345670", "WPS_PIN ****"],
    ['SET_NETWORK 0 identity "alice"', 'SET_NETWORK 0 identity "alice"'],
    ["SET_NETWORK 0 key_mgmt WPA-PSK", "SET_NETWORK 0 key_mgmt WPA-PSK"],
    ["STATUS", "STATUS"],
  ])("%s → %s", (command, redacted) => {
    expect(redactCommand(command)).toBe(redacted);
  });
});
