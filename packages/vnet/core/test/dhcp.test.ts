import { ValidationError } from "@runtime/errors";
import { describe, expect, it } from "vitest";
import { leaseFromOptions } from "../src/ipv4/dhcp-client.js";
import { parseDhcpOptions } from "../src/ipv4/dhcp-options.js";
import {
  dhcpdRawConfig,
  normalizeDhcpd,
  parseUdhcpdLeases,
  udhcpdConf,
} from "../src/ipv4/dhcpd-config.js";
import { createTechnologyContext } from "../src/technology-context.js";

const context = createTechnologyContext({ tmpDir: "/tmp/vintage_net" });

describe("parseDhcpOptions (udhcpc environment → dhcp_options)", () => {
  it("types every known variable and drops unparsable or unknown ones", () => {
    const options = parseDhcpOptions({
      interface: "eth0",
      ip: "192.168.9.131",
      mask: "24",
      subnet: "255.255.255.0",
      router: "192.168.9.1 192.168.9.2",
      dns: "1.1.1.1  8.8.8.8",
      domain: "lan",
      search: "corp.example",
      lease: "86400",
      serverid: "192.168.9.1",
      broadcast: "192.168.9.255",
      opt58: "0000a8c0",
      opt59: "00012750",
      opt77: "iot",
      mtu: "not a number",
      ntpsrv: "10.0.0.1 bogus",
      hostname: "device",
      staticroutes: "10.0.0.0/8 192.168.9.1",
      PATH: "/bin",
    });
    expect(options).toEqual({
      ip: "192.168.9.131",
      mask: 24,
      subnet: "255.255.255.0",
      router: ["192.168.9.1", "192.168.9.2"],
      dns: ["1.1.1.1", "8.8.8.8"],
      domain: "lan",
      search: "corp.example",
      lease: 86_400,
      serverid: "192.168.9.1",
      broadcast: "192.168.9.255",
      renewal_time: 43_200,
      rebind_time: 75_600,
      userclass: "iot",
      hostname: "device",
      staticroutes: "10.0.0.0/8 192.168.9.1",
    });
  });

  it("leaseFromOptions keeps what changes the system, preferring search over domain", () => {
    expect(
      leaseFromOptions(
        parseDhcpOptions({
          ip: "10.0.0.5",
          subnet: "255.255.0.0",
          router: "10.0.0.1",
          domain: "d",
          search: "s",
        }),
      ),
    ).toEqual({
      ip: "10.0.0.5",
      prefixLength: 16,
      broadcast: undefined,
      router: "10.0.0.1",
      dns: [],
      domain: "s",
    });
    expect(leaseFromOptions(parseDhcpOptions({ mask: "24" }))).toBeUndefined();
    // Renewal: only the lease time differs, so the applied lease is the same.
    const bound = leaseFromOptions(parseDhcpOptions({ ip: "10.0.0.5", mask: "24", lease: "60" }));
    const renewed = leaseFromOptions(
      parseDhcpOptions({ ip: "10.0.0.5", mask: "24", lease: "3600" }),
    );
    expect(renewed).toEqual(bound);
  });
});

describe("normalizeDhcpd", () => {
  it("fills defaults and canonicalizes options", () => {
    expect(normalizeDhcpd({})).toEqual({
      start: "192.168.0.20",
      end: "192.168.0.254",
      auto_time: 10,
    });
    expect(
      normalizeDhcpd({
        start: "192.168.24.2",
        end: "192.168.24.100",
        max_leases: 50,
        static_leases: [{ mac: "11:22:33:44:55:AA", ip: "192.168.24.50" }],
        options: {
          dns: "192.168.24.1",
          router: ["192.168.24.1"],
          netmask: "255.255.255.0",
          search: "example.com",
          42: "0a000001",
        },
      }),
    ).toEqual({
      start: "192.168.24.2",
      end: "192.168.24.100",
      max_leases: 50,
      auto_time: 10,
      static_leases: [{ mac: "11:22:33:44:55:aa", ip: "192.168.24.50" }],
      options: {
        dns: ["192.168.24.1"],
        router: ["192.168.24.1"],
        subnet: "255.255.255.0",
        search: ["example.com"],
        "42": "0a000001",
      },
    });
  });

  it("rejects bad fields with their paths", () => {
    const pathOf = (input: unknown) => {
      try {
        normalizeDhcpd(input);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).path;
      }
      return "no error";
    };
    expect(pathOf({ start: "10.0.0.9", end: "10.0.0.1" })).toBe("dhcpd.end");
    expect(pathOf({ options: { wins: "1.2.3.4" } })).toBe("dhcpd.options.wins");
    expect(pathOf({ options: { dns: ["1.2.3.4", "nope"] } })).toBe("dhcpd.options.dns[1]");
    expect(pathOf({ static_leases: [{ mac: "zz", ip: "10.0.0.1" }] })).toBe(
      "dhcpd.static_leases[0].mac",
    );
    expect(pathOf({ max_leases: 0 })).toBe("dhcpd.max_leases");
    expect(pathOf({ auto_time: "10" })).toBe("dhcpd.auto_time");
    expect(pathOf({ options: { 300: "x" } })).toBe("dhcpd.options.300");
    expect(pathOf([])).toBe("dhcpd");
  });
});

describe("udhcpd.conf", () => {
  it("has the header, a blank line, then sorted keys and options (VintageNet's layout)", () => {
    const dhcpd = normalizeDhcpd({
      start: "192.168.24.2",
      end: "192.168.24.100",
      options: {
        dns: ["192.168.24.1"],
        domain: "example.com",
        router: "192.168.24.1",
        search: ["example.com"],
        subnet: "255.255.255.0",
      },
      static_leases: [{ mac: "11:22:33:44:55:66", ip: "192.168.24.50" }],
    });
    expect(udhcpdConf("wlan0", dhcpd, context)).toBe(`interface wlan0
pidfile /tmp/vintage_net/udhcpd.wlan0.pid
lease_file /tmp/vintage_net/udhcpd.wlan0.leases
notify_file /tmp/vintage_net/notify.sh

auto_time 10
end 192.168.24.100
opt dns 192.168.24.1
opt domain example.com
opt router 192.168.24.1
opt search example.com
opt subnet 255.255.255.0
start 192.168.24.2
static_lease 11:22:33:44:55:66 192.168.24.50
`);
  });

  it("the recipe writes the file and runs the dhcp-server service", () => {
    const parts = dhcpdRawConfig("usb0", normalizeDhcpd({}), context);
    expect(parts.files?.map((file) => file.path)).toEqual(["/tmp/vintage_net/udhcpd.conf.usb0"]);
    expect(parts.cleanupFiles).toEqual(["/tmp/vintage_net/udhcpd.usb0.pid"]);
    expect(parts.services).toEqual([
      {
        service: "dhcp-server",
        options: {
          config_path: "/tmp/vintage_net/udhcpd.conf.usb0",
          lease_file: "/tmp/vintage_net/udhcpd.usb0.leases",
        },
      },
    ]);
  });
});

/** Builds a lease file from the documented layout. */
function leaseFile(
  records: Array<{ seconds: number; ip: number[]; mac: number[]; hostname: string }>,
): Buffer {
  const header = Buffer.alloc(8);
  header.writeBigUInt64BE(1_700_000_000n);
  return Buffer.concat([
    header,
    ...records.map((record) => {
      const buffer = Buffer.alloc(36);
      buffer.writeUInt32BE(record.seconds, 0);
      Buffer.from(record.ip).copy(buffer, 4);
      Buffer.from(record.mac).copy(buffer, 8);
      Buffer.from(record.hostname).copy(buffer, 14, 0, 20);
      return buffer;
    }),
  ]);
}

describe("parseUdhcpdLeases", () => {
  it("decodes records, skipping expired and empty slots", () => {
    const bytes = leaseFile([
      {
        seconds: 864_000,
        ip: [192, 168, 24, 50],
        mac: [0x11, 0x22, 0x33, 0x04, 0x55, 0xa6],
        hostname: "laptop",
      },
      { seconds: 0, ip: [192, 168, 24, 51], mac: [1, 2, 3, 4, 5, 6], hostname: "gone" },
      {
        seconds: 30,
        ip: [192, 168, 24, 52],
        mac: [1, 2, 3, 4, 5, 7],
        hostname: "a-very-long-hostname-indeed",
      },
    ]);
    expect(parseUdhcpdLeases(bytes)).toEqual([
      {
        leasetime: 864_000,
        lease_nip: "192.168.24.50",
        lease_mac: "11:22:33:04:55:a6",
        hostname: "laptop",
      },
      {
        leasetime: 30,
        lease_nip: "192.168.24.52",
        lease_mac: "01:02:03:04:05:07",
        hostname: "a-very-long-hostname",
      },
    ]);
    expect(parseUdhcpdLeases(leaseFile([]))).toEqual([]);
  });

  it("refuses files that are not whole records", () => {
    expect(() => parseUdhcpdLeases(Buffer.alloc(3))).toThrow(/no header/);
    expect(() => parseUdhcpdLeases(Buffer.alloc(8 + 35))).toThrow(/not whole records/);
  });
});
