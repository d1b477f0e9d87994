import { ValidationError } from "@runtime/errors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeConfigString,
  derivePsk,
  type NetworkConfig,
  renderWpaSupplicantConfig,
  type WpaSupplicantConfig,
} from "../src/index.js";

const CTRL = "/tmp/vnet/wpa_supplicant";

function render(networks: NetworkConfig[], globals: Partial<WpaSupplicantConfig> = {}): string {
  return renderWpaSupplicantConfig({ ctrl_interface: CTRL, ...globals, networks });
}

function issuesOf(action: () => unknown): ValidationError["issues"] {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error.issues;
    throw error;
  }
  throw new Error("expected a ValidationError");
}

describe("renderWpaSupplicantConfig: exact files", () => {
  it("writes a wired 802.1X PEAP/MSCHAPv2 port", () => {
    expect(
      render(
        [
          {
            key_mgmt: "IEEE8021X",
            eap: "PEAP",
            identity: "alice",
            anonymous_identity: "anonymous",
            password: "correct horse",
            phase2: "auth=MSCHAPV2",
            eapol_flags: 0,
            ca_cert: "/etc/ssl/ca.pem",
            domain_suffix_match: "radius.example.com",
          },
        ],
        { ap_scan: 0 },
      ),
    ).toBe(
      [
        `ctrl_interface=${CTRL}`,
        "ap_scan=0",
        "network={",
        "key_mgmt=IEEE8021X",
        'identity="alice"',
        'anonymous_identity="anonymous"',
        'password="correct horse"',
        "eap=PEAP",
        "eapol_flags=0",
        'phase2="auth=MSCHAPV2"',
        'ca_cert="/etc/ssl/ca.pem"',
        'domain_suffix_match="radius.example.com"',
        "}",
        "",
      ].join("\n"),
    );
  });

  it("writes a wired EAP-TLS port with a key password", () => {
    expect(
      render(
        [
          {
            key_mgmt: "IEEE8021X",
            eap: "TLS",
            identity: "sensor-1",
            ca_cert: "/data/ca.pem",
            client_cert: "/data/client.pem",
            private_key: "/data/client.key",
            private_key_passwd: "s3cret",
            eapol_flags: 0,
          },
        ],
        { ap_scan: 0, eapol_version: 2, fast_reauth: false },
      ),
    ).toBe(
      [
        `ctrl_interface=${CTRL}`,
        "ap_scan=0",
        "eapol_version=2",
        "fast_reauth=0",
        "network={",
        "key_mgmt=IEEE8021X",
        'identity="sensor-1"',
        "eap=TLS",
        "eapol_flags=0",
        'ca_cert="/data/ca.pem"',
        'client_cert="/data/client.pem"',
        'private_key="/data/client.key"',
        'private_key_passwd="s3cret"',
        "}",
        "",
      ].join("\n"),
    );
  });

  it("writes WPA2-PSK with the derived PSK, never the passphrase", () => {
    const text = render([{ ssid: "IEEE", key_mgmt: "WPA-PSK", psk: "password" }], {
      country: "US",
    });
    expect(text).toBe(
      [
        `ctrl_interface=${CTRL}`,
        "country=US",
        "network={",
        'ssid="IEEE"',
        "key_mgmt=WPA-PSK",
        "psk=F42C6FC52DF0EBEF9EBB4B90B38A5F902E83FE1B135A70E23AED762E9710A12E",
        "}",
        "",
      ].join("\n"),
    );
    expect(text).not.toContain("password");
  });

  it("writes WPA2/WPA3 transition mode like VintageNet (reference §9.4)", () => {
    expect(
      render([
        {
          ssid: "testing",
          key_mgmt: ["WPA-PSK", "WPA-PSK-SHA256", "SAE"],
          mode: "infrastructure",
          ieee80211w: "optional",
          psk: "password",
        },
      ]),
    ).toBe(
      [
        `ctrl_interface=${CTRL}`,
        "network={",
        'ssid="testing"',
        "key_mgmt=WPA-PSK WPA-PSK-SHA256 SAE",
        "mode=0",
        "ieee80211w=1",
        `psk=${derivePsk("testing", "password")}`,
        'sae_password="password"',
        "}",
        "",
      ].join("\n"),
    );
  });

  it("writes an open hidden network, an access point and priorities", () => {
    expect(
      render(
        [
          { ssid: "cafe", scan_ssid: true, priority: 10 },
          {
            ssid: "device-setup",
            key_mgmt: "WPA-PSK",
            mode: "ap",
            frequency: 2412,
            psk: "a".repeat(64),
          },
        ],
        { ap_scan: 1, pmf: "optional", wps_cred_processing: 1, bgscan: "simple:30:-45:300" },
      ),
    ).toBe(
      [
        `ctrl_interface=${CTRL}`,
        "wps_cred_processing=1",
        'bgscan="simple:30:-45:300"',
        "ap_scan=1",
        "pmf=1",
        "network={",
        'ssid="cafe"',
        "key_mgmt=NONE",
        "scan_ssid=1",
        "priority=10",
        "}",
        "network={",
        'ssid="device-setup"',
        "key_mgmt=WPA-PSK",
        "mode=2",
        "frequency=2412",
        `psk=${"A".repeat(64)}`,
        "}",
        "",
      ].join("\n"),
    );
  });

  it("hex-encodes SSIDs and identities that are not plain printable ASCII", () => {
    const text = render([
      {
        ssid: 'Café "☕"',
        key_mgmt: "WPA-EAP",
        eap: "TTLS",
        identity: "jöe",
        password: "pw\n",
        phase2: "auth=PAP",
      },
      { ssid: Uint8Array.of(0x68, 0x00, 0x69), key_mgmt: "NONE" },
    ]);
    expect(text).toContain(`ssid=${Buffer.from('Café "☕"').toString("hex")}\n`);
    expect(text).toContain(`identity=${Buffer.from("jöe").toString("hex")}\n`);
    expect(text).toContain("password=70770a\n");
    expect(text).toContain("ssid=680069\n");
  });

  it("writes the control-interface group form", () => {
    expect(render([], { ctrl_interface_group: "netdev" })).toBe(
      `ctrl_interface=DIR=${CTRL} GROUP=netdev\n`,
    );
  });

  it("writes a matrix of combinations (snapshot)", () => {
    const keyMgmts: NetworkConfig[] = [
      { ssid: "open" },
      {
        ssid: "wpa2",
        key_mgmt: "WPA-PSK",
        psk: "passphrase",
        pairwise: "CCMP",
        group: ["CCMP", "TKIP"],
        proto: "RSN",
      },
      { ssid: "wpa3", key_mgmt: "SAE", sae_password: "sae secret", ieee80211w: 2 },
      { ssid: "owe", key_mgmt: "OWE", ieee80211w: "required" },
      {
        ssid: "ent",
        key_mgmt: "WPA-EAP",
        eap: ["PEAP", "TTLS"],
        identity: "u",
        password: "p",
        phase1: "peapver=0",
        phase2: "auth=MSCHAPV2",
      },
      {
        ssid: "ent-tls",
        key_mgmt: ["WPA-EAP", "WPA-EAP-SHA256"],
        eap: "TLS",
        identity: "d",
        client_cert: "/c.pem",
        private_key: "/k.pem",
      },
      { ssid: "mesh", key_mgmt: "SAE", mode: "mesh", frequency: 2437, sae_password: "meshpass" },
      { ssid: "adhoc", mode: "ibss", frequency: 2412 },
      { ssid: "locked", bssid: "AA:BB:CC:DD:EE:FF", priority: 3, id_str: "home", disabled: true },
    ];
    const files = keyMgmts.map((network) => render([network]));
    expect(files.join("----\n")).toMatchSnapshot();
  });
});

describe("renderWpaSupplicantConfig: validation", () => {
  it("names the field, the value and the reason; redacts secrets", () => {
    const issues = issuesOf(() => render([{ ssid: "x", key_mgmt: "WPA-PSK", psk: "short" }]));
    expect(issues).toEqual([
      {
        path: "networks[0].psk",
        value: "****",
        reason: "must be 8..63 characters (a passphrase) or 64 hex digits (a PSK)",
      },
    ]);
  });

  it("reports every problem at once", () => {
    const issues = issuesOf(() =>
      renderWpaSupplicantConfig({
        ctrl_interface: "relative/dir",
        country: "usa",
        ap_scan: 3 as 0,
        networks: [
          { ssid: "x".repeat(33), key_mgmt: "WPA-PSK" },
          { ssid: "ok", key_mgmt: "WPA2" as "WPA-PSK", priority: -1, bssid: "nope" },
          { key_mgmt: "IEEE8021X", eap: "TLS", identity: "" },
          { ssid: "sae", key_mgmt: "SAE", psk: "f".repeat(64) },
          { ssid: "open", password: "x", frequency: 0, scan_ssid: 1 as unknown as boolean },
        ],
      }),
    );
    expect(issues.map((issue) => [issue.path, issue.reason])).toEqual([
      ["ctrl_interface", "must be an absolute path of letters, digits and . _ / + -"],
      ["country", "must be an ISO 3166 alpha-2 code in capitals (e.g. US) or 00"],
      ["ap_scan", "must be an integer 0..2"],
      ["networks[0].ssid", "must be 1..32 bytes (got 33)"],
      ["networks[0].psk", "is required for WPA-PSK key management"],
      [
        "networks[1].key_mgmt",
        "must be one of NONE, WPA-PSK, WPA-PSK-SHA256, FT-PSK, SAE, FT-SAE, WPA-EAP, WPA-EAP-SHA256, FT-EAP, IEEE8021X, OWE",
      ],
      ["networks[1].bssid", "must be a MAC address aa:bb:cc:dd:ee:ff"],
      ["networks[1].priority", "must be an integer 0..2147483647"],
      ["networks[2].ssid", "is required (only a wired port with ap_scan=0 has no SSID)"],
      ["networks[2].client_cert", "is required for EAP-TLS"],
      ["networks[2].private_key", "is required for EAP-TLS"],
      ["networks[2].identity", "must not be empty"],
      [
        "networks[3].sae_password",
        "is required for SAE when psk is a raw 64-hex PSK (SAE needs the password itself)",
      ],
      ["networks[4].scan_ssid", "must be true or false"],
      ["networks[4].frequency", "must be an integer 1..70200"],
      [
        "networks[4].password",
        "is used only with WPA-EAP, WPA-EAP-SHA256, FT-EAP or IEEE8021X key management",
      ],
    ]);
  });

  it("rejects unknown fields instead of dropping them silently", () => {
    const issues = issuesOf(() =>
      renderWpaSupplicantConfig({
        ctrl_interface: CTRL,
        colour: "red",
        networks: [{ ssid: "a", pskk: "x" }],
      } as never),
    );
    expect(issues.map((issue) => issue.path)).toEqual(["colour", "networks[0].pskk"]);
  });

  it("rejects a control directory too long for a Unix socket address", () => {
    const issues = issuesOf(() =>
      renderWpaSupplicantConfig({ ctrl_interface: `/${"d".repeat(100)}` }),
    );
    expect(issues[0]?.reason).toMatch(/fits a Unix socket address/);
  });

  it("rejects lines wpa_supplicant would cut (2000-byte line buffer)", () => {
    const issues = issuesOf(() =>
      render([{ key_mgmt: "IEEE8021X", eap: "PEAP", identity: "é".repeat(500), password: "p" }], {
        ap_scan: 0,
      }),
    );
    expect(issues[0]).toMatchObject({ path: "networks[0].identity" });
    expect(issues[0]?.reason).toMatch(/2009-character line; wpa_supplicant reads at most 1998/);
  });

  it("needs the SSID to derive a PSK", () => {
    const issues = issuesOf(() =>
      render([{ key_mgmt: "WPA-PSK", psk: "password" }], { ap_scan: 0 }),
    );
    expect(issues).toEqual([
      {
        path: "networks[0].ssid",
        value: undefined,
        reason: "is required to turn the psk passphrase into a PSK",
      },
    ]);
  });

  it("throws only ValidationError, whatever it is given", () => {
    fc.assert(
      fc.property(
        fc.anything(),
        fc.array(
          fc.dictionary(
            fc.constantFrom("ssid", "psk", "key_mgmt", "eap", "identity", "priority", "mode"),
            fc.anything(),
          ),
          { maxLength: 3 },
        ),
        (globals, networks) => {
          try {
            renderWpaSupplicantConfig({
              ...(typeof globals === "object" ? globals : {}),
              ctrl_interface: CTRL,
              networks,
            } as WpaSupplicantConfig);
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError);
          }
        },
      ),
    );
  });
});

/** Any valid text value: printable ASCII, UTF-8, control characters, quotes. */
const textValue = (minLength: number, maxBytes: number) =>
  fc
    .string({
      unit: fc.oneof(
        fc.constantFrom('"', "\\", "#", " ", "\n", "\u0000", "é", "☕"),
        fc.string({ minLength: 1, maxLength: 1 }),
      ),
      minLength,
      maxLength: maxBytes,
    })
    .filter(
      (value) => Buffer.byteLength(value) >= minLength && Buffer.byteLength(value) <= maxBytes,
    );

describe("renderWpaSupplicantConfig: properties", () => {
  it("every valid SSID, identity and password comes back byte for byte from its line", () => {
    fc.assert(
      fc.property(
        textValue(1, 32),
        textValue(1, 64),
        textValue(1, 64),
        (ssid, identity, password) => {
          const text = render([{ ssid, key_mgmt: "WPA-EAP", eap: "PEAP", identity, password }]);
          const value = (key: string) => {
            const line = text.split("\n").find((candidate) => candidate.startsWith(`${key}=`));
            return Buffer.from(decodeConfigString(line!.slice(key.length + 1))!).toString("utf8");
          };
          expect(value("ssid")).toBe(ssid);
          expect(value("identity")).toBe(identity);
          expect(value("password")).toBe(password);
          // One line per field: nothing a value holds can start a new line or close the block.
          expect(text.split("\n")).toHaveLength(9);
        },
      ),
    );
  });
});
