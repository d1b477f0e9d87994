import { ValidationError } from "@runtime/errors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dhclient6Conf, ipv6RawConfig, normalizeIPv6 } from "../src/ipv6/ipv6-config.js";
import { createTechnologyContext } from "../src/technology-context.js";

const context = createTechnologyContext({ hostname: "box" });

function issuesOf(input: unknown): Array<{ path: string; value: unknown; reason: string }> {
  try {
    normalizeIPv6(input);
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

describe("normalizeIPv6", () => {
  it("defaults to SLAAC; slaac, dhcpv6 and disabled take no fields", () => {
    expect(normalizeIPv6(undefined)).toEqual({ method: "slaac" });
    for (const method of ["slaac", "dhcpv6", "disabled"]) {
      expect(normalizeIPv6({ method })).toEqual({ method });
    }
    expect(issuesOf({ method: "slaac", address: "fd00::1" })).toEqual([
      {
        path: "ipv6.address",
        value: "fd00::1",
        reason: "is not a field of slaac ipv6 configs (expected one of: method)",
      },
    ]);
  });

  it("static: canonical address, prefix from the address or the field (default 64), server list", () => {
    expect(normalizeIPv6({ method: "static", address: "FD00:0:0:0::5" })).toEqual({
      method: "static",
      address: "fd00::5",
      prefix_length: 64,
      name_servers: [],
    });
    expect(
      normalizeIPv6({
        method: "static",
        address: "fd00:1::5/48",
        gateway: "fd00:1::1",
        name_servers: "fd00:1::53",
      }),
    ).toEqual({
      method: "static",
      address: "fd00:1::5",
      prefix_length: 48,
      gateway: "fd00:1::1",
      name_servers: ["fd00:1::53"],
    });
    // A link-local gateway is fine whatever the prefix (routers often advertise fe80::1).
    expect(
      normalizeIPv6({
        method: "static",
        address: "2001:db8::5",
        prefix_length: 64,
        gateway: "FE80::1",
      }),
    ).toMatchObject({ gateway: "fe80::1", prefix_length: 64 });
  });

  it("names every bad field with its value and the reason", () => {
    expect(issuesOf({ method: "auto" })).toEqual([
      {
        path: "ipv6.method",
        value: "auto",
        reason: "must be one of slaac, dhcpv6, static, disabled",
      },
    ]);
    expect(issuesOf("slaac")).toEqual([
      {
        path: "ipv6",
        value: "slaac",
        reason: "must be an object with a method (slaac, dhcpv6, static, disabled)",
      },
    ]);
    expect(issuesOf({ method: "static" })).toEqual([
      { path: "ipv6.address", value: undefined, reason: "is required for static addressing" },
    ]);
    expect(issuesOf({ method: "static", address: "192.168.1.5" })).toEqual([
      {
        path: "ipv6.address",
        value: "192.168.1.5",
        reason: "must be an IPv6 address such as fd00::5",
      },
    ]);
    expect(issuesOf({ method: "static", address: "ff02::1" })[0]?.reason).toBe(
      "is a multicast address",
    );
    expect(issuesOf({ method: "static", address: "::" })[0]?.reason).toBe(
      "is the unspecified address",
    );
    expect(issuesOf({ method: "static", address: "::1" })[0]?.reason).toBe("is loopback");
    expect(issuesOf({ method: "static", address: "::ffff:10.0.0.1" })[0]?.reason).toBe(
      "is an IPv4-mapped address; use the ipv4 section",
    );
    expect(issuesOf({ method: "static", address: "fd00::5/200" })[0]).toMatchObject({
      path: "ipv6.address",
      value: "fd00::5/200",
    });
    expect(issuesOf({ method: "static", address: "fd00::5/64", prefix_length: 56 })).toEqual([
      {
        path: "ipv6.prefix_length",
        value: 56,
        reason: "disagrees with the /64 in address; give one of them",
      },
    ]);
    expect(issuesOf({ method: "static", address: "fd00::5", prefix_length: 0 })[0]).toMatchObject({
      path: "ipv6.prefix_length",
      reason: "is out of range (1 to 128)",
    });
    expect(issuesOf({ method: "static", address: "fd00::5", gateway: "fd01::1" })).toEqual([
      { path: "ipv6.gateway", value: "fd01::1", reason: "is neither link-local nor on fd00::5/64" },
    ]);
    expect(issuesOf({ method: "static", address: "fd00::5", gateway: "fd00::5" })[0]?.reason).toBe(
      "is the interface's own address",
    );
    expect(
      issuesOf({ method: "static", address: "fd00::5", name_servers: ["fd00::53", "x"] }),
    ).toEqual([
      { path: "ipv6.name_servers[1]", value: "x", reason: "must be an IPv4 or IPv6 address" },
    ]);
    expect(issuesOf({ method: "static", address: "fd00::5", netmask: "ffff::" })[0]?.path).toBe(
      "ipv6.netmask",
    );
  });

  it("throws nothing but ValidationError, and its output is a fixed point that survives JSON", () => {
    const address = fc.oneof(
      fc.ipV6(),
      fc.ipV6().map((text) => `${text}/64`),
      fc.constantFrom("fd00::5", "fd00::5/48", "fe80::1", "ff02::1", "::", "1.2.3.4", ""),
      fc.anything(),
    );
    const input = fc.oneof(
      fc.record(
        {
          method: fc.constantFrom("slaac", "dhcpv6", "static", "disabled", "bogus"),
          address,
          prefix_length: fc.oneof(fc.integer({ min: -1, max: 130 }), fc.anything()),
          gateway: fc.oneof(fc.ipV6(), fc.constant("fe80::1"), fc.anything()),
          name_servers: fc.oneof(
            fc.ipV6(),
            fc.array(fc.oneof(fc.ipV6(), fc.ipV4())),
            fc.anything(),
          ),
        },
        { requiredKeys: ["method"] },
      ),
      fc.anything(),
    );
    fc.assert(
      fc.property(input, (value) => {
        let normalized: ReturnType<typeof normalizeIPv6>;
        try {
          normalized = normalizeIPv6(value);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          return;
        }
        expect(normalizeIPv6(normalized)).toEqual(normalized);
        expect(JSON.parse(JSON.stringify(normalized))).toEqual(normalized);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe("ipv6RawConfig", () => {
  const sysctl = (settings: string) => [
    "sysctl",
    "-w",
    ...settings.split(" ").map((setting) => `net/ipv6/conf/eth0.7/${setting}`),
  ];
  const downWhileUp = [
    { step: "dns.clear", ifname: "eth0.7", source: "ipv6" },
    { runIgnoringErrors: ["ip", "-6", "addr", "flush", "dev", "eth0.7", "scope", "global"] },
  ];

  it("slaac: sysctls before link up (errors ignored: it is the default), nothing after", () => {
    expect(ipv6RawConfig("eth0.7", { method: "slaac" }, context)).toEqual({
      beforeLinkUp: {
        upCommands: [{ runIgnoringErrors: sysctl("accept_ra=2 autoconf=1 disable_ipv6=0") }],
        downCommands: downWhileUp,
      },
      afterLinkUp: { services: [] },
    });
    expect(
      ipv6RawConfig("eth0.7", { method: "slaac" }, context, { connectivityChecker: true })
        .afterLinkUp,
    ).toEqual({ services: [{ service: "internet-checker" }] });
  });

  it("disabled: disable_ipv6=1 only", () => {
    expect(ipv6RawConfig("eth0.7", { method: "disabled" }, context)).toEqual({
      beforeLinkUp: { upCommands: [{ runIgnoringErrors: sysctl("disable_ipv6=1") }] },
      afterLinkUp: {},
    });
  });

  it("static: no advertisements; address, route with the interface's metric, name servers", () => {
    const config = normalizeIPv6({
      method: "static",
      address: "fd00::5/64",
      gateway: "fd00::1",
      name_servers: ["fd00::53"],
    });
    // eth0.7: wired, interface number 7 (VintageNet's metric for an Internet-connected eth7).
    const route = ["default", "via", "fd00::1", "dev", "eth0.7", "metric", "17"];
    expect(ipv6RawConfig("eth0.7", config, context)).toEqual({
      beforeLinkUp: {
        upCommands: [{ run: sysctl("accept_ra=0 autoconf=0 disable_ipv6=0") }],
        downCommands: [
          { runIgnoringErrors: ["ip", "-6", "route", "del", ...route] },
          ...downWhileUp,
        ],
      },
      afterLinkUp: {
        upCommands: [
          { runIgnoringErrors: ["ip", "-6", "addr", "flush", "dev", "eth0.7", "scope", "global"] },
          { run: ["ip", "-6", "addr", "add", "fd00::5/64", "dev", "eth0.7"] },
          { run: ["ip", "-6", "route", "replace", ...route] },
          {
            step: "dns.set",
            ifname: "eth0.7",
            domain: null,
            name_servers: ["fd00::53"],
            source: "ipv6",
          },
        ],
        services: [],
      },
    });
    const lanOnly = ipv6RawConfig(
      "eth0.7",
      normalizeIPv6({ method: "static", address: "fd00::5" }),
      context,
      { connectivityChecker: true },
    );
    expect(lanOnly.afterLinkUp.upCommands).toHaveLength(2);
    expect(lanOnly.afterLinkUp.services).toEqual([{ service: "lan-checker" }]);
    expect(lanOnly.beforeLinkUp.downCommands).toEqual(downWhileUp);
  });

  it("dhcpv6: advertisements on, dhclient config file, the dhcpv6-client service", () => {
    const runWhile = { path: ["interface", "eth0.7", "eap_status"], matches: { authorized: true } };
    expect(ipv6RawConfig("eth0.7", { method: "dhcpv6" }, context, { runWhile })).toEqual({
      beforeLinkUp: {
        upCommands: [{ run: sysctl("accept_ra=2 autoconf=1 disable_ipv6=0") }],
        downCommands: downWhileUp,
      },
      afterLinkUp: {
        files: [
          {
            path: "/tmp/vnet/dhclient6.conf.eth0.7",
            content:
              '# Generated by @vnet/core for eth0.7. Do not edit.\nrequest dhcp6.name-servers, dhcp6.domain-search;\nsend fqdn.fqdn "box";\n',
          },
        ],
        cleanupFiles: ["/tmp/vnet/dhclient6.eth0.7.leases", "/tmp/vnet/dhclient6.eth0.7.pid"],
        services: [
          {
            service: "dhcpv6-client",
            options: {
              config_path: "/tmp/vnet/dhclient6.conf.eth0.7",
              lease_file: "/tmp/vnet/dhclient6.eth0.7.leases",
              pid_file: "/tmp/vnet/dhclient6.eth0.7.pid",
              run_while: runWhile,
            },
          },
        ],
      },
    });
  });

  it("dhclient6Conf sends the hostname only when it is a plain DNS name", () => {
    expect(dhclient6Conf("eth0", "box.example")).toContain('send fqdn.fqdn "box.example";');
    expect(dhclient6Conf("eth0", 'evil";\nscript "/x')).not.toContain("fqdn");
    expect(dhclient6Conf("eth0", "")).not.toContain("fqdn");
  });
});
