import { ValidationError } from "@runtime/errors";
import { checkRawConfig, createTechnologyContext, type NetworkConfig } from "@vnet/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ethernetTechnology } from "../src/index.js";

const normalize = (config: unknown) => ethernetTechnology.normalize(config as NetworkConfig);

function issuesOf(config: unknown): Array<{ path: string; value: unknown; reason: string }> {
  try {
    normalize(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues.map(({ path, value, reason }) => ({
      path,
      value,
      reason,
    }));
  }
  throw new Error("expected a ValidationError");
}

const staticIPv4 = {
  method: "static",
  address: "192.168.24.1",
  netmask: "255.255.255.0",
} as const;

const peap = { eap: "PEAP", identity: "alice", password: "correct horse" } as const;

describe("normalize: defaults and canonical forms", () => {
  it("an empty config is DHCP and SLAAC (VintageNet's default, IPv6 stated)", () => {
    expect(normalize({ type: "ethernet" })).toEqual({
      type: "ethernet",
      ipv4: { method: "dhcp" },
      ipv6: { method: "slaac" },
    });
  });

  it("static IPv4 from core's normalizer; hostname; MAC lower case with colons", () => {
    expect(
      normalize({
        type: "ethernet",
        ipv4: { ...staticIPv4, gateway: "192.168.24.254", name_servers: "192.168.24.254" },
        hostname: "sensor-7",
        mac_address: "02-AB-CD-EF-00-01",
      }),
    ).toEqual({
      type: "ethernet",
      ipv4: {
        method: "static",
        address: "192.168.24.1",
        prefix_length: 24,
        gateway: "192.168.24.254",
        name_servers: ["192.168.24.254"],
      },
      ipv6: { method: "slaac" },
      mac_address: "02:ab:cd:ef:00:01",
      hostname: "sensor-7",
    });
  });

  it("a DHCP server with static IPv4: the pool on the subnet, the subnet mask handed out by default", () => {
    expect(
      normalize({
        type: "ethernet",
        ipv4: staticIPv4,
        dhcpd: { start: "192.168.24.10", end: "192.168.24.20" },
      }).dhcpd,
    ).toEqual({
      start: "192.168.24.10",
      end: "192.168.24.20",
      auto_time: 10,
      // udhcpd sends no mask unless told; clients would take a /32 (found by the integration test).
      options: { subnet: "255.255.255.0" },
    });
    // A mask given is kept as it is.
    expect(
      normalize({
        type: "ethernet",
        ipv4: staticIPv4,
        dhcpd: {
          start: "192.168.24.10",
          end: "192.168.24.20",
          options: { netmask: "255.255.0.0" },
        },
      }).dhcpd?.options,
    ).toEqual({ subnet: "255.255.0.0" });
  });

  it("direct: no ipv4 (derived later), the subnet canonical", () => {
    expect(normalize({ type: "ethernet", direct: {} })).toEqual({
      type: "ethernet",
      ipv6: { method: "slaac" },
      direct: {},
    });
    expect(normalize({ type: "ethernet", direct: { subnet: " 192.168.7.1/24" } }).direct).toEqual({
      subnet: "192.168.7.0/24",
    });
    expect(normalize({ type: "ethernet", direct: { hostname: "nerves-1234" } }).direct).toEqual({
      hostname: "nerves-1234",
    });
  });

  it("802.1X: method upper case, phase 2 filled in, only the method's fields", () => {
    expect(
      normalize({ type: "ethernet", ieee8021x: { ...peap, eap: "peap", ca_cert: "/data/ca.pem" } })
        .ieee8021x,
    ).toEqual({ ...peap, ca_cert: "/data/ca.pem", phase2: "MSCHAPV2" });
    expect(
      normalize({
        type: "ethernet",
        ieee8021x: {
          eap: "TTLS",
          identity: "bob",
          password: "pw",
          anonymous_identity: "anonymous@example.com",
          phase2: "eap-mschapv2",
          domain_suffix_match: "radius.example.com",
        },
      }).ieee8021x,
    ).toEqual({
      eap: "TTLS",
      identity: "bob",
      password: "pw",
      anonymous_identity: "anonymous@example.com",
      phase2: "EAP-MSCHAPV2",
      domain_suffix_match: "radius.example.com",
    });
    expect(
      normalize({
        type: "ethernet",
        ieee8021x: {
          eap: "TLS",
          identity: "sensor-1",
          client_cert: "/data/sensor.pem",
          private_key: "/data/sensor.key",
          private_key_passwd: "unlock",
        },
      }).ieee8021x,
    ).toEqual({
      eap: "TLS",
      identity: "sensor-1",
      client_cert: "/data/sensor.pem",
      private_key: "/data/sensor.key",
      private_key_passwd: "unlock",
    });
  });

  it("IPv6 from core's normalizer", () => {
    expect(
      normalize({ type: "ethernet", ipv6: { method: "static", address: "FD00::5/64" } }).ipv6,
    ).toEqual({ method: "static", address: "fd00::5", prefix_length: 64, name_servers: [] });
  });
});

describe("normalize: errors name the field, the value and the reason", () => {
  it("the type and unknown fields", () => {
    expect(issuesOf({ type: "ethernet", ipv5: {} })).toEqual([
      {
        path: "ipv5",
        value: {},
        reason:
          "is not a field of ethernet configs (expected one of: type, ipv4, ipv6, dhcpd, direct, mac_address, hostname, ieee8021x)",
      },
    ]);
    expect(issuesOf({ type: "wifi" })[0]).toEqual({
      path: "type",
      value: "wifi",
      reason: 'must be "ethernet"',
    });
    expect(issuesOf([1, 2])[0]?.reason).toBe("must be an object with type ethernet");
  });

  it("every section's issues at once, with their own paths", () => {
    expect(
      issuesOf({
        type: "ethernet",
        ipv4: { method: "static", address: "10.0.0.300" },
        ipv6: { method: "static" },
        mac_address: "01:00:5e:00:00:01",
        hostname: "not a hostname",
      }).map((issue) => issue.path),
    ).toEqual(["ipv4.address", "ipv4.prefix_length", "ipv6.address", "mac_address", "hostname"]);
  });

  it("MAC addresses", () => {
    expect(issuesOf({ type: "ethernet", mac_address: "02:00:00:00:00" })).toEqual([
      {
        path: "mac_address",
        value: "02:00:00:00:00",
        reason: "must be a MAC address such as 02:00:00:00:00:01",
      },
    ]);
    expect(issuesOf({ type: "ethernet", mac_address: "FF:FF:FF:FF:FF:FF" })[0]?.reason).toBe(
      "is a multicast address (the first octet is odd)",
    );
    expect(issuesOf({ type: "ethernet", mac_address: "00:00:00:00:00:00" })[0]?.reason).toBe(
      "is all zeros",
    );
    expect(issuesOf({ type: "ethernet", mac_address: 42 })[0]?.value).toBe(42);
  });

  it("DHCP server: static IPv4 needed, pool on the subnet and without the own address", () => {
    expect(issuesOf({ type: "ethernet", dhcpd: { start: "10.0.0.2", end: "10.0.0.9" } })).toEqual([
      {
        path: "dhcpd",
        value: { start: "10.0.0.2", end: "10.0.0.9" },
        reason: "needs static IPv4 addressing (ipv4.method static)",
      },
    ]);
    expect(issuesOf({ type: "ethernet", ipv4: staticIPv4, dhcpd: {} })).toEqual([
      {
        path: "dhcpd.start",
        value: "192.168.0.20",
        reason:
          "is not on the interface's subnet 192.168.24.0/24 (it is the default; give start and end)",
      },
      {
        path: "dhcpd.end",
        value: "192.168.0.254",
        reason:
          "is not on the interface's subnet 192.168.24.0/24 (it is the default; give start and end)",
      },
    ]);
    expect(
      issuesOf({
        type: "ethernet",
        ipv4: staticIPv4,
        dhcpd: { start: "192.168.24.1", end: "192.168.24.9" },
      }),
    ).toEqual([
      {
        path: "dhcpd.start",
        value: "192.168.24.1",
        reason:
          "makes the pool 192.168.24.1-192.168.24.9 include the interface's own address 192.168.24.1",
      },
    ]);
    expect(issuesOf({ type: "ethernet", ipv4: staticIPv4, dhcpd: { start: "x" } })[0]?.path).toBe(
      "dhcpd.start",
    );
  });

  it("direct: no ipv4 or dhcpd next to it; subnet /16 to /30; hostname only when derived", () => {
    expect(issuesOf({ type: "ethernet", direct: {}, ipv4: { method: "dhcp" }, dhcpd: {} })).toEqual(
      [
        {
          path: "ipv4",
          value: { method: "dhcp" },
          reason: "cannot be combined with direct, which derives it",
        },
        { path: "dhcpd", value: {}, reason: "cannot be combined with direct, which derives it" },
      ],
    );
    for (const subnet of ["192.168.7.0/31", "192.168.7.0/8", "192.168.7.0", "fd00::/64", 7]) {
      expect(issuesOf({ type: "ethernet", direct: { subnet } })).toEqual([
        {
          path: "direct.subnet",
          value: subnet,
          reason: "must be an IPv4 subnet from /16 to /30 in CIDR form, e.g. 192.168.7.0/24",
        },
      ]);
    }
    expect(
      issuesOf({ type: "ethernet", direct: { subnet: "192.168.7.0/24", hostname: "box" } })[0]
        ?.path,
    ).toBe("direct.hostname");
    expect(issuesOf({ type: "ethernet", direct: true })[0]?.path).toBe("direct");
    expect(issuesOf({ type: "ethernet", direct: { prefix: 24 } })[0]?.path).toBe("direct.prefix");
  });

  it("802.1X: method, required fields per method, file paths, phase 2", () => {
    expect(issuesOf({ type: "ethernet", ieee8021x: { eap: "LEAP", identity: "a" } })).toEqual([
      { path: "ieee8021x.eap", value: "LEAP", reason: "must be one of PEAP, TTLS, TLS" },
    ]);
    expect(issuesOf({ type: "ethernet", ieee8021x: { eap: "PEAP" } })).toEqual([
      { path: "ieee8021x.identity", value: undefined, reason: "is required" },
      { path: "ieee8021x.password", value: "****", reason: "is required" },
    ]);
    expect(issuesOf({ type: "ethernet", ieee8021x: { ...peap, ca_cert: "certs/ca.pem" } })).toEqual(
      [
        {
          path: "ieee8021x.ca_cert",
          value: "certs/ca.pem",
          reason:
            'must be an absolute file path (without quotes or line breaks), e.g. "/data/certs/ca.pem"',
        },
      ],
    );
    expect(issuesOf({ type: "ethernet", ieee8021x: { ...peap, phase2: "PAP" } })).toEqual([
      { path: "ieee8021x.phase2", value: "PAP", reason: "must be one of MSCHAPV2, GTC, MD5" },
    ]);
    expect(
      issuesOf({
        type: "ethernet",
        ieee8021x: { eap: "TLS", identity: "x", password: "pw", client_cert: "/c" },
      }).map((issue) => issue.path),
    ).toEqual(["ieee8021x.password", "ieee8021x.private_key"]);
    expect(issuesOf({ type: "ethernet", ieee8021x: "PEAP" })[0]?.path).toBe("ieee8021x");
  });

  it("what wpa_supplicant could not parse is caught here, under ieee8021x", () => {
    const issues = issuesOf({
      type: "ethernet",
      ieee8021x: { ...peap, identity: "a".repeat(3_000) },
    });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe("ieee8021x.identity");
  });

  it("never shows a secret: the value is redacted and absent from the message", () => {
    for (const config of [
      { type: "ethernet", ieee8021x: { eap: "TLS", identity: "x", password: "hunter2hunter2" } },
      { type: "ethernet", ieee8021x: { ...peap, password: 12345 } },
      {
        type: "ethernet",
        ieee8021x: {
          eap: "TLS",
          identity: "x",
          client_cert: "/c",
          private_key: "/k",
          private_key_passwd: "",
        },
      },
    ]) {
      try {
        normalize(config);
        throw new Error("expected a ValidationError");
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        const validation = error as ValidationError;
        const secrets = validation.issues.filter((issue) => /passw(or)?d$/.test(issue.path));
        expect(secrets.length).toBeGreaterThan(0);
        expect(secrets.every((issue) => issue.value === "****")).toBe(true);
        expect(`${validation.message} ${JSON.stringify(validation.issues)}`).not.toMatch(
          /hunter2|12345/,
        );
      }
    }
  });
});

describe("normalize: properties", () => {
  const context = createTechnologyContext({ hostname: "device" });
  const text = fc.oneof(fc.string(), fc.constantFrom("alice", "/data/ca.pem", "", "x\ny"));
  const arbitraryConfig = fc.record(
    {
      type: fc.oneof(fc.constant("ethernet"), fc.anything()),
      ipv4: fc.oneof(
        fc.constant({ method: "dhcp" }),
        fc.constant({ method: "disabled" }),
        fc.record({
          method: fc.constant("static"),
          address: fc.oneof(fc.ipV4(), fc.constant("192.168.24.1")),
          prefix_length: fc.integer({ min: 0, max: 33 }),
          gateway: fc.oneof(fc.ipV4(), fc.constant("192.168.24.254")),
        }),
        fc.anything(),
      ),
      ipv6: fc.oneof(
        fc.constantFrom({ method: "slaac" }, { method: "dhcpv6" }, { method: "disabled" }),
        fc.record({ method: fc.constant("static"), address: fc.ipV6() }),
        fc.anything(),
      ),
      dhcpd: fc.oneof(
        fc.record({
          start: fc.oneof(fc.ipV4(), fc.constant("192.168.24.10")),
          end: fc.oneof(fc.ipV4(), fc.constant("192.168.24.20")),
        }),
        fc.anything(),
      ),
      direct: fc.oneof(
        fc.constant({}),
        fc.record({ subnet: fc.oneof(fc.string(), fc.constant("10.1.2.0/24")) }),
        fc.record({ hostname: fc.string() }),
        fc.anything(),
      ),
      mac_address: fc.oneof(
        fc
          .array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 })
          .map((bytes) => bytes.map((byte) => byte.toString(16).padStart(2, "0")).join(":")),
        fc.string(),
        fc.anything(),
      ),
      hostname: fc.oneof(fc.domain(), fc.string()),
      ieee8021x: fc.oneof(
        fc.record(
          {
            eap: fc.constantFrom("PEAP", "TTLS", "TLS", "tls", "MD5"),
            identity: text,
            password: text,
            phase2: fc.constantFrom("MSCHAPV2", "PAP", "EAP-GTC", "bogus"),
            ca_cert: text,
            client_cert: text,
            private_key: text,
            private_key_passwd: text,
            anonymous_identity: text,
            domain_suffix_match: fc.oneof(fc.domain(), fc.string()),
          },
          { requiredKeys: ["eap"] },
        ),
        fc.anything(),
      ),
    },
    { requiredKeys: ["type"] },
  );

  it("throws only ValidationError; its output is a fixed point, JSON, and makes a valid recipe", () => {
    fc.assert(
      fc.property(fc.oneof(arbitraryConfig, fc.anything()), (config) => {
        let normalized: ReturnType<typeof normalize>;
        try {
          normalized = normalize(config);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          return;
        }
        expect(normalize(normalized)).toEqual(normalized);
        expect(JSON.parse(JSON.stringify(normalized))).toEqual(normalized);
        const recipe = ethernetTechnology.toRawConfig("eth0", normalized, context);
        checkRawConfig(recipe);
        expect(JSON.parse(JSON.stringify(recipe))).toEqual(recipe);
      }),
      { numRuns: 3_000 },
    );
  });
});
