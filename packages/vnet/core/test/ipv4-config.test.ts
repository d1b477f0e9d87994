import { ValidationError } from "@runtime/errors";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ipv4RawConfig, normalizeIPv4 } from "../src/ipv4/ipv4-config.js";
import { createTechnologyContext } from "../src/technology-context.js";

const context = createTechnologyContext({ hostname: "box" });

function issueOf(input: unknown): { path: string; value: unknown; reason: string } {
  try {
    normalizeIPv4(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const { path, value, reason } = error as ValidationError;
    return { path, value, reason };
  }
  throw new Error("expected a ValidationError");
}

describe("normalizeIPv4", () => {
  it("defaults to DHCP and keeps request options", () => {
    expect(normalizeIPv4(undefined)).toEqual({ method: "dhcp" });
    expect(
      normalizeIPv4({ method: "dhcp", dhcp_request_options: ["ntpsrv", 42, "252", "ntpsrv"] }),
    ).toEqual({
      method: "dhcp",
      dhcp_request_options: ["ntpsrv", "42", "252"],
    });
    expect(normalizeIPv4({ method: "disabled" })).toEqual({ method: "disabled" });
  });

  it("canonicalizes static configs: netmask to prefix, single name server to a list", () => {
    expect(
      normalizeIPv4({
        method: "static",
        address: "192.168.1.50",
        netmask: "255.255.255.0",
        gateway: "192.168.1.1",
        name_servers: "1.1.1.1",
        domain: "example.com",
      }),
    ).toEqual({
      method: "static",
      address: "192.168.1.50",
      prefix_length: 24,
      gateway: "192.168.1.1",
      name_servers: ["1.1.1.1"],
      domain: "example.com",
    });
    expect(normalizeIPv4({ method: "static", address: "10.0.0.2", prefix_length: 8 })).toEqual({
      method: "static",
      address: "10.0.0.2",
      prefix_length: 8,
      name_servers: [],
    });
  });

  it("names the field, the value and the reason for every bad input", () => {
    expect(issueOf("dhcp")).toMatchObject({ path: "ipv4", value: "dhcp" });
    expect(issueOf({ method: "dhcpp" })).toMatchObject({ path: "ipv4.method", value: "dhcpp" });
    expect(issueOf({ method: "static", prefix_length: 24 })).toMatchObject({
      path: "ipv4.address",
      reason: "is required for static addressing",
    });
    expect(issueOf({ method: "static", address: "10.0.0.300", prefix_length: 24 })).toMatchObject({
      path: "ipv4.address",
      value: "10.0.0.300",
    });
    expect(issueOf({ method: "static", address: "10.0.0.3" })).toMatchObject({
      path: "ipv4.prefix_length",
    });
    expect(issueOf({ method: "static", address: "10.0.0.3", prefix_length: 33 })).toMatchObject({
      path: "ipv4.prefix_length",
      value: 33,
    });
    expect(
      issueOf({ method: "static", address: "10.0.0.3", netmask: "255.0.255.0" }),
    ).toMatchObject({
      path: "ipv4.netmask",
    });
    expect(
      issueOf({ method: "static", address: "10.0.0.3", prefix_length: 24, netmask: "255.255.0.0" }),
    ).toMatchObject({
      path: "ipv4.netmask",
      reason: expect.stringContaining("disagrees with prefix_length 24"),
    });
    expect(
      issueOf({ method: "static", address: "10.0.0.3", prefix_length: 24, gateway: "10.0.1.1" }),
    ).toMatchObject({
      path: "ipv4.gateway",
      reason: "is not in 10.0.0.0/24",
    });
    expect(issueOf({ method: "static", address: "10.0.0.0", prefix_length: 24 })).toMatchObject({
      path: "ipv4.address",
      reason: "is the network address of its /24",
    });
    expect(
      issueOf({
        method: "static",
        address: "10.0.0.1",
        prefix_length: 24,
        name_servers: ["1.1.1.1", "x"],
      }),
    ).toMatchObject({
      path: "ipv4.name_servers[1]",
      value: "x",
    });
    expect(
      issueOf({ method: "static", address: "10.0.0.1", prefix_length: 24, domain: "bad domain" }),
    ).toMatchObject({
      path: "ipv4.domain",
    });
    expect(issueOf({ method: "dhcp", adress: "typo" })).toMatchObject({ path: "ipv4.adress" });
    expect(issueOf({ method: "dhcp", dhcp_request_options: ["Bad Name"] })).toMatchObject({
      path: "ipv4.dhcp_request_options[0]",
    });
  });

  it("reports every bad field at once", () => {
    try {
      normalizeIPv4({ method: "static", address: "x", prefix_length: 99, gateway: "y" });
    } catch (error) {
      expect((error as ValidationError).issues.map((issue) => issue.path)).toEqual([
        "ipv4.address",
        "ipv4.prefix_length",
        "ipv4.gateway",
      ]);
    }
  });

  it("is idempotent and only ever throws ValidationError (property)", () => {
    const address = fc.oneof(
      fc.ipV4(),
      fc.constantFrom("10.0.0.1", "bad", "", "192.168.1.255"),
      fc.anything(),
    );
    const input = fc.oneof(
      fc.record(
        {
          method: fc.constantFrom("dhcp", "static", "disabled", "other"),
          address,
          prefix_length: fc.oneof(fc.integer({ min: -2, max: 34 }), fc.anything()),
          netmask: fc.oneof(
            fc.constantFrom("255.255.255.0", "255.255.0.0", "1.2.3.4"),
            fc.anything(),
          ),
          gateway: address,
          name_servers: fc.oneof(address, fc.array(address)),
          domain: fc.oneof(fc.domain(), fc.anything()),
        },
        { requiredKeys: ["method"] },
      ),
      fc.anything(),
    );
    fc.assert(
      fc.property(input, (value) => {
        let normalized: ReturnType<typeof normalizeIPv4>;
        try {
          normalized = normalizeIPv4(value);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
          return;
        }
        expect(normalizeIPv4(normalized)).toEqual(normalized);
        expect(JSON.parse(JSON.stringify(normalized))).toEqual(normalized);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe("ipv4RawConfig", () => {
  const down = [
    { step: "routes.clear", ifname: "eth0" },
    { step: "dns.clear", ifname: "eth0" },
    { runIgnoringErrors: ["ip", "-4", "addr", "flush", "dev", "eth0", "label", "eth0"] },
    { runIgnoringErrors: ["ip", "link", "set", "eth0", "down"] },
  ];

  it("dhcp: link up, udhcpc through the dhcp-client service, internet checker", () => {
    expect(
      ipv4RawConfig(
        "eth0",
        normalizeIPv4({ method: "dhcp", dhcp_request_options: ["ntpsrv"] }),
        context,
      ),
    ).toEqual({
      upCommands: [{ run: ["ip", "link", "set", "eth0", "up"] }],
      downCommands: down,
      services: [
        { service: "dhcp-client", options: { hostname: "box", request_options: ["ntpsrv"] } },
        { service: "internet-checker" },
      ],
    });
    expect(
      ipv4RawConfig("eth0", { method: "dhcp" }, context, { hostname: "override" }).services?.[0],
    ).toEqual({ service: "dhcp-client", options: { hostname: "override", request_options: [] } });
    const runWhile = { path: ["interface", "eth0", "eap_status"], matches: { authorized: true } };
    expect(ipv4RawConfig("eth0", { method: "dhcp" }, context, { runWhile }).services?.[0]).toEqual({
      service: "dhcp-client",
      options: { hostname: "box", request_options: [], run_while: runWhile },
    });
    // Only DHCP has a client to hold back.
    expect(
      ipv4RawConfig("eth0", { method: "disabled" }, context, { runWhile }).services,
    ).toBeUndefined();
  });

  it("static with a gateway: address, route, name servers, internet checker", () => {
    const ipv4 = normalizeIPv4({
      method: "static",
      address: "192.168.1.50",
      prefix_length: 24,
      gateway: "192.168.1.1",
      name_servers: ["1.1.1.1"],
    });
    expect(ipv4RawConfig("eth0", ipv4, context)).toEqual({
      upCommands: [
        { runIgnoringErrors: ["ip", "-4", "addr", "flush", "dev", "eth0", "label", "eth0"] },
        {
          run: [
            "ip",
            "addr",
            "add",
            "192.168.1.50/24",
            "dev",
            "eth0",
            "broadcast",
            "192.168.1.255",
            "label",
            "eth0",
          ],
        },
        { run: ["ip", "link", "set", "eth0", "up"] },
        {
          step: "routes.set",
          ifname: "eth0",
          subnets: [{ address: "192.168.1.50", prefix_length: 24 }],
          gateway: "192.168.1.1",
        },
        { step: "dns.set", ifname: "eth0", domain: null, name_servers: ["1.1.1.1"] },
      ],
      downCommands: down,
      services: [{ service: "internet-checker" }],
    });
  });

  it("static without a gateway: LAN checker, no name servers", () => {
    const parts = ipv4RawConfig(
      "eth0",
      normalizeIPv4({ method: "static", address: "172.31.0.1", prefix_length: 30 }),
      context,
    );
    expect(parts.services).toEqual([{ service: "lan-checker" }]);
    expect(parts.upCommands?.at(-2)).toEqual({
      step: "routes.set",
      ifname: "eth0",
      subnets: [{ address: "172.31.0.1", prefix_length: 30 }],
      gateway: null,
    });
    expect(parts.upCommands?.at(-1)).toEqual({ step: "dns.clear", ifname: "eth0" });
  });

  it("disabled: link up only", () => {
    expect(ipv4RawConfig("eth0", { method: "disabled" }, context)).toEqual({
      upCommands: [{ run: ["ip", "link", "set", "eth0", "up"] }],
      downCommands: down,
    });
  });
});
