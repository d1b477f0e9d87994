// The pure parts of the daemon wrappers: generated configs and parsed state files. The daemons
// themselves are exercised in test/integration.
import { describe, expect, it } from "vitest";
import { dnsmasqArgv, parseDnsmasqLeases } from "../src/daemons/dnsmasq.js";
import { eapUserFile, hostapdConfig } from "../src/daemons/hostapd.js";
import { nginxConfig } from "../src/daemons/http-server.js";
import type { TestPki } from "../src/daemons/pki.js";
import { parseUdhcpcEnvironment } from "../src/daemons/udhcpc.js";
import { parseUdhcpdLeases, udhcpdConfig } from "../src/daemons/udhcpd.js";
import { wpaSupplicantConfig } from "../src/daemons/wpa-supplicant.js";
import { decodeMessage, encodeMessage } from "../src/ipc-protocol.js";

describe("udhcpd", () => {
  it("writes a config with the pool, options and the lab's files", () => {
    const config = udhcpdConfig(
      {
        interface: "eth0",
        start: "192.168.5.100",
        end: "192.168.5.150",
        router: "192.168.5.1",
        dns: ["192.168.5.1", "192.168.5.2"],
        leaseSeconds: 120,
      },
      { leaseFile: "/lab/leases", pidFile: "/lab/pid" },
    );
    expect(config.split("\n")).toEqual([
      "interface eth0",
      "start 192.168.5.100",
      "end 192.168.5.150",
      "max_leases 51",
      "lease_file /lab/leases",
      "pidfile /lab/pid",
      "opt subnet 255.255.255.0",
      "opt router 192.168.5.1",
      "opt dns 192.168.5.1 192.168.5.2",
      "opt lease 120",
      "",
    ]);
  });

  it("rejects an empty pool", () => {
    expect(() =>
      udhcpdConfig(
        { interface: "eth0", start: "10.0.0.9", end: "10.0.0.1" },
        { leaseFile: "l", pidFile: "p" },
      ),
    ).toThrow(RangeError);
  });

  it("parses the binary lease file", () => {
    // Header (write time), then one 36-byte record, as busybox 1.35 writes it.
    const file = Buffer.alloc(8 + 36 * 2);
    file.writeBigUInt64BE(1_800_000_000n, 0);
    file.writeUInt32BE(589, 8);
    Buffer.from([192, 168, 5, 101]).copy(file, 12);
    Buffer.from([0x5e, 0x1b, 0x6a, 0x72, 0x0b, 0xad]).copy(file, 16);
    Buffer.from("sensor-1").copy(file, 22);
    file.writeUInt32BE(0, 44);
    Buffer.from([10, 0, 0, 7]).copy(file, 48);
    Buffer.from([2, 0, 0, 0, 0, 1]).copy(file, 52);
    expect(parseUdhcpdLeases(file)).toEqual([
      {
        mac: "5e:1b:6a:72:0b:ad",
        ip: "192.168.5.101",
        hostname: "sensor-1",
        expiresInSeconds: 589,
      },
      { mac: "02:00:00:00:00:01", ip: "10.0.0.7", hostname: "", expiresInSeconds: 0 },
    ]);
    expect(parseUdhcpdLeases(Buffer.alloc(0))).toEqual([]);
  });
});

describe("udhcpc", () => {
  it("keeps what the server sent and drops the runner's own variables", () => {
    const lease = parseUdhcpcEnvironment(
      "PATH=/usr/bin\nLC_ALL=C\ninterface=eth0\nip=192.168.5.101\nmask=24\nsubnet=255.255.255.0\nrouter=192.168.5.1\ndns=192.168.5.1 192.168.5.2\nlease=600\nserverid=192.168.5.1\nopt53=05\nNETLAB_RESULT=/x\n",
      2000,
    );
    expect(lease).toMatchObject({
      ip: "192.168.5.101",
      prefixLength: 24,
      subnet: "255.255.255.0",
      routers: ["192.168.5.1"],
      dns: ["192.168.5.1", "192.168.5.2"],
      leaseSeconds: 600,
      serverId: "192.168.5.1",
      durationMs: 2000,
    });
    expect(lease.options).not.toHaveProperty("PATH");
    expect(lease.options).not.toHaveProperty("NETLAB_RESULT");
    expect(lease.options["opt53"]).toBe("05");
  });

  it("refuses a lease without an address", () => {
    expect(() => parseUdhcpcEnvironment("interface=eth0\n", 1)).toThrow(/without an address/);
  });
});

describe("dnsmasq", () => {
  const files = { pidFile: "/lab/pid", leaseFile: "/lab/leases" };

  it("never reads the host's config, resolv.conf or hosts, and stays in the foreground", () => {
    const argv = dnsmasqArgv({ interface: "eth0" }, files);
    expect(argv).toEqual(
      expect.arrayContaining([
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        "--pid-file=/lab/pid",
        "--dhcp-leasefile=/lab/leases",
        "--interface=eth0",
        "--bind-interfaces",
        "--port=53",
      ]),
    );
  });

  it("adds DHCP, RA and DNS records, or turns DNS off", () => {
    const argv = dnsmasqArgv(
      {
        interface: "eth0",
        dhcp: {
          start: "10.0.0.10",
          end: "10.0.0.20",
          netmask: "255.255.255.0",
          router: "10.0.0.1",
        },
        routerAdvertisements: { prefix: "fd00:5::" },
        dns: { port: 5353, records: { "lab.test": "10.0.0.1" } },
      },
      files,
    );
    expect(argv).toEqual(
      expect.arrayContaining([
        "--dhcp-range=10.0.0.10,10.0.0.20,255.255.255.0,1h",
        "--dhcp-option=option:router,10.0.0.1",
        "--enable-ra",
        "--dhcp-range=fd00:5::,ra-only,64",
        "--port=5353",
        "--host-record=lab.test,10.0.0.1",
      ]),
    );
    expect(dnsmasqArgv({ interface: "eth0", dns: false }, files)).toContain("--port=0");
  });

  it("parses the lease file", () => {
    expect(
      parseDnsmasqLeases(
        "1800000000 02:00:00:00:00:01 10.0.0.12 sensor 01:02:00:00:00:00:01\n1800000001 02:00:00:00:00:02 10.0.0.13 * *\n",
      ),
    ).toEqual([
      {
        expires: 1800000000,
        mac: "02:00:00:00:00:01",
        ip: "10.0.0.12",
        hostname: "sensor",
        clientId: "01:02:00:00:00:00:01",
      },
      {
        expires: 1800000001,
        mac: "02:00:00:00:00:02",
        ip: "10.0.0.13",
        hostname: "*",
        clientId: "*",
      },
    ]);
  });
});

describe("hostapd", () => {
  const pki: TestPki = {
    dir: "/lab/pki",
    caCert: "/lab/pki/ca.pem",
    caKey: "/lab/pki/ca.key",
    server: { cert: "/lab/pki/server.pem", key: "/lab/pki/server.key" },
    clients: {},
  };

  it("writes PEAP users with a phase-2 MSCHAPV2 line and TLS users", () => {
    expect(
      eapUserFile([
        { identity: "alice", method: "PEAP", password: "s3cret" },
        { identity: "sensor-1", method: "TLS" },
      ]),
    ).toBe('"alice"\tPEAP\n"alice"\tMSCHAPV2\t"s3cret"\t[2]\n"sensor-1"\tTLS\n');
  });

  it("refuses quotes that would break the file", () => {
    expect(() => eapUserFile([{ identity: "a", method: "PEAP", password: 'x"y' }])).toThrow(
      TypeError,
    );
  });

  it("configures the wired driver with the internal EAP server", () => {
    const config = hostapdConfig(
      { interface: "eth0", users: [], pki },
      { ctrlDir: "/lab/ctrl", eapUserFile: "/lab/users" },
    );
    expect(config.split("\n")).toEqual(
      expect.arrayContaining([
        "interface=eth0",
        "driver=wired",
        "ieee8021x=1",
        "eap_server=1",
        "ctrl_interface=/lab/ctrl",
        "eap_user_file=/lab/users",
        "server_cert=/lab/pki/server.pem",
      ]),
    );
  });
});

describe("wpa_supplicant", () => {
  it("writes a wired PEAP network", () => {
    const config = wpaSupplicantConfig(
      {
        interface: "eth0",
        network: { eap: "PEAP", identity: "alice", password: "pw", caCert: "/lab/ca.pem" },
      },
      "/lab/ctrl",
    );
    expect(config).toContain("ctrl_interface=/lab/ctrl\nap_scan=0\nnetwork={\n");
    expect(config).toContain('  password="pw"\n');
    expect(config).toContain('  phase2="auth=MSCHAPV2"\n');
    expect(config).toContain("  key_mgmt=IEEE8021X\n");
  });

  it("writes a wired EAP-TLS network", () => {
    const config = wpaSupplicantConfig(
      {
        interface: "eth0",
        network: {
          eap: "TLS",
          identity: "sensor-1",
          caCert: "/ca.pem",
          clientCert: "/c.pem",
          privateKey: "/c.key",
        },
      },
      "/ctrl",
    );
    expect(config).toContain("  eap=TLS\n");
    expect(config).toContain('  client_cert="/c.pem"\n');
    expect(config).not.toContain("password");
  });
});

describe("nginx", () => {
  it("keeps pid and temp paths in the lab and runs in the foreground", () => {
    const config = nginxConfig({ listen: "10.0.0.1:8080", root: "/lab/www", prefix: "/lab/nginx" });
    expect(config).toContain("daemon off;");
    expect(config).toContain("pid /lab/nginx/nginx.pid;");
    expect(config).toContain("listen 10.0.0.1:8080;");
    expect(config).toContain("root /lab/www;");
    expect(config).not.toMatch(/\/var\//);
  });
});

describe("IPC lines", () => {
  it("round-trip messages and leave ordinary output alone", () => {
    const line = encodeMessage({ type: "ready", n: 1 });
    expect(line.endsWith("\n")).toBe(true);
    expect(decodeMessage(line.trimEnd())).toEqual({ message: { type: "ready", n: 1 } });
    expect(decodeMessage("hello")).toBeUndefined();
    expect(decodeMessage('{"type":"ready"}')).toBeUndefined();
  });
});
