// Recipes as data, the way VintageNet's technologies are tested: whole RawConfigs for the main
// scenarios, and every combination of the options against a reviewed text snapshot.
import {
  type Command,
  checkRawConfig,
  createTechnologyContext,
  type NetworkConfig,
  type RawConfig,
} from "@vnet/core";
import { describe, expect, it } from "vitest";
import { ethernetTechnology } from "../src/index.js";

const context = createTechnologyContext({ hostname: "nerves-1234" });

function recipe(ifname: string, config: Record<string, unknown>): RawConfig {
  const normalized = ethernetTechnology.normalize({ type: "ethernet", ...config } as NetworkConfig);
  const raw = ethernetTechnology.toRawConfig(ifname, normalized, context);
  checkRawConfig(raw);
  return raw;
}

const ipv4Down = (ifname: string): Command[] => [
  { step: "routes.clear", ifname },
  { step: "dns.clear", ifname },
  { runIgnoringErrors: ["ip", "-4", "addr", "flush", "dev", ifname, "label", ifname] },
  { runIgnoringErrors: ["ip", "link", "set", ifname, "down"] },
];
const ipv6DownWhileUp = (ifname: string): Command[] => [
  { step: "dns.clear", ifname, source: "ipv6" },
  { runIgnoringErrors: ["ip", "-6", "addr", "flush", "dev", ifname, "scope", "global"] },
];
const slaacSysctls = (ifname: string): Command => ({
  runIgnoringErrors: [
    "sysctl",
    "-w",
    `net/ipv6/conf/${ifname}/accept_ra=2`,
    `net/ipv6/conf/${ifname}/autoconf=1`,
    `net/ipv6/conf/${ifname}/disable_ipv6=0`,
  ],
});

describe("whole recipes", () => {
  it("the default: DHCP (VintageNet's example) and SLAAC", () => {
    expect(recipe("eth0", {})).toEqual({
      ifname: "eth0",
      type: "ethernet",
      sourceConfig: { type: "ethernet", ipv4: { method: "dhcp" }, ipv6: { method: "slaac" } },
      requiredIfnames: ["eth0"],
      retryMillis: 30_000,
      files: [],
      cleanupFiles: [],
      upCommands: [slaacSysctls("eth0"), { run: ["ip", "link", "set", "eth0", "up"] }],
      upCommandMillis: 5_000,
      downCommands: [...ipv6DownWhileUp("eth0"), ...ipv4Down("eth0")],
      downCommandMillis: 5_000,
      daemons: [],
      services: [
        { service: "dhcp-client", options: { hostname: "nerves-1234", request_options: [] } },
        { service: "internet-checker" },
      ],
    });
  });

  it("static IPv4 with a fixed MAC address: MAC while down, address, route, name servers", () => {
    const raw = recipe("eth1", {
      mac_address: "02:00:00:00:00:01",
      ipv4: {
        method: "static",
        address: "192.168.1.50",
        prefix_length: 24,
        gateway: "192.168.1.1",
        name_servers: ["192.168.1.1"],
        domain: "lan",
      },
    });
    expect(raw.upCommands).toEqual([
      { runIgnoringErrors: ["ip", "link", "set", "dev", "eth1", "down"] },
      { run: ["ip", "link", "set", "dev", "eth1", "address", "02:00:00:00:00:01"] },
      slaacSysctls("eth1"),
      { runIgnoringErrors: ["ip", "-4", "addr", "flush", "dev", "eth1", "label", "eth1"] },
      {
        run: [
          "ip",
          "addr",
          "add",
          "192.168.1.50/24",
          "dev",
          "eth1",
          "broadcast",
          "192.168.1.255",
          "label",
          "eth1",
        ],
      },
      { run: ["ip", "link", "set", "eth1", "up"] },
      {
        step: "routes.set",
        ifname: "eth1",
        subnets: [{ address: "192.168.1.50", prefix_length: 24 }],
        gateway: "192.168.1.1",
      },
      { step: "dns.set", ifname: "eth1", domain: "lan", name_servers: ["192.168.1.1"] },
    ]);
    expect(raw.services).toEqual([{ service: "internet-checker" }]);
  });

  it("USB gadget direct link: derived /30, the peer's single address from udhcpd, lan only", () => {
    // MD5("nerves-1234usb0") = 251a885e...: 172.31.(0x25).(0x1a & 0xfc) = 172.31.37.24/30.
    expect(recipe("usb0", { direct: {} })).toEqual({
      ifname: "usb0",
      type: "ethernet",
      sourceConfig: { type: "ethernet", ipv6: { method: "slaac" }, direct: {} },
      requiredIfnames: ["usb0"],
      retryMillis: 30_000,
      files: [
        {
          path: "/tmp/vnet/udhcpd.conf.usb0",
          content: [
            "interface usb0",
            "pidfile /tmp/vnet/udhcpd.usb0.pid",
            "lease_file /tmp/vnet/udhcpd.usb0.leases",
            "notify_file /tmp/vnet/notify.sh",
            "",
            "auto_time 10",
            "end 172.31.37.26",
            "max_leases 1",
            "opt subnet 255.255.255.252",
            "start 172.31.37.26",
            "",
          ].join("\n"),
        },
      ],
      cleanupFiles: ["/tmp/vnet/udhcpd.usb0.pid"],
      upCommands: [
        slaacSysctls("usb0"),
        { runIgnoringErrors: ["ip", "-4", "addr", "flush", "dev", "usb0", "label", "usb0"] },
        {
          run: [
            "ip",
            "addr",
            "add",
            "172.31.37.25/30",
            "dev",
            "usb0",
            "broadcast",
            "172.31.37.27",
            "label",
            "usb0",
          ],
        },
        { run: ["ip", "link", "set", "usb0", "up"] },
        {
          step: "routes.set",
          ifname: "usb0",
          subnets: [{ address: "172.31.37.25", prefix_length: 30 }],
          gateway: null,
        },
        { step: "dns.clear", ifname: "usb0" },
      ],
      upCommandMillis: 5_000,
      downCommands: [...ipv6DownWhileUp("usb0"), ...ipv4Down("usb0")],
      downCommandMillis: 5_000,
      daemons: [],
      services: [
        { service: "lan-checker" },
        {
          service: "dhcp-server",
          options: {
            config_path: "/tmp/vnet/udhcpd.conf.usb0",
            lease_file: "/tmp/vnet/udhcpd.usb0.leases",
          },
        },
      ],
    });
  });

  it("a given direct subnet: the device takes .1, the pool is the rest", () => {
    const raw = recipe("usb0", { direct: { subnet: "192.168.7.0/24" } });
    expect(raw.files[0]!.content).toContain("start 192.168.7.2\n");
    expect(raw.files[0]!.content).toContain("end 192.168.7.254\n");
    expect(raw.files[0]!.content).toContain("max_leases 253\n");
    expect(raw.files[0]!.content).toContain("opt subnet 255.255.255.0\n");
    expect(raw.upCommands).toContainEqual({
      run: [
        "ip",
        "addr",
        "add",
        "192.168.7.1/24",
        "dev",
        "usb0",
        "broadcast",
        "192.168.7.255",
        "label",
        "usb0",
      ],
    });
  });

  it("802.1X PEAP with DHCP: 0600 config, wpa_supplicant -D wired, eap_status service, DHCP held back", () => {
    const raw = recipe("eth0", {
      ieee8021x: {
        eap: "PEAP",
        identity: "alice",
        password: "correct horse",
        ca_cert: "/data/certs/radius-ca.pem",
      },
    });
    expect(raw.files).toEqual([
      {
        path: "/tmp/vnet/wpa_supplicant.conf.eth0",
        content: [
          "ctrl_interface=/tmp/vnet/wpa_supplicant",
          "ap_scan=0",
          "network={",
          "key_mgmt=IEEE8021X",
          'identity="alice"',
          'password="correct horse"',
          "eap=PEAP",
          "eapol_flags=0",
          'phase2="auth=MSCHAPV2"',
          'ca_cert="/data/certs/radius-ca.pem"',
          "disabled=1",
          "}",
          "",
        ].join("\n"),
        mode: 0o600,
      },
    ]);
    expect(raw.cleanupFiles).toEqual(["/tmp/vnet/wpa_supplicant/eth0"]);
    expect(raw.daemons).toEqual([
      {
        id: "wpa_supplicant",
        argv: [
          "wpa_supplicant",
          "-D",
          "wired",
          "-i",
          "eth0",
          "-c",
          "/tmp/vnet/wpa_supplicant.conf.eth0",
        ],
        restart: { initialDelayMs: 1_000, maxDelayMs: 30_000 },
      },
    ]);
    expect(raw.services).toEqual([
      {
        service: "ethernet.ieee8021x",
        options: { ctrl_interface: "/tmp/vnet/wpa_supplicant", client_dir: "/tmp/vnet" },
      },
      {
        service: "dhcp-client",
        options: {
          hostname: "nerves-1234",
          request_options: [],
          run_while: {
            path: ["interface", "eth0", "eap_status"],
            matches: { authorized: true },
          },
        },
      },
      { service: "internet-checker" },
    ]);
    expect(raw.upCommands).toEqual([
      slaacSysctls("eth0"),
      { run: ["ip", "link", "set", "eth0", "up"] },
    ]);
  });

  it("EAP-TLS and TTLS phase 2 lines", () => {
    const tls = recipe("eth0", {
      ieee8021x: {
        eap: "TLS",
        identity: "sensor-1",
        client_cert: "/data/sensor.pem",
        private_key: "/data/sensor.key",
        private_key_passwd: "unlock me",
        ca_cert: "/data/ca.pem",
        domain_suffix_match: "radius.example.com",
      },
    }).files[0]!.content;
    expect(tls).toContain('client_cert="/data/sensor.pem"\nprivate_key="/data/sensor.key"\n');
    expect(tls).toContain('private_key_passwd="unlock me"\n');
    expect(tls).toContain('domain_suffix_match="radius.example.com"\n');
    expect(tls).not.toContain("phase2");
    expect(tls).not.toContain("password=");
    const ttls = (phase2: string) =>
      recipe("eth0", { ieee8021x: { eap: "TTLS", identity: "a", password: "b", phase2 } }).files[0]!
        .content;
    expect(ttls("PAP")).toContain('phase2="auth=PAP"');
    expect(ttls("EAP-GTC")).toContain('phase2="autheap=GTC"');
  });

  it("IPv4 disabled, IPv6 static: IPv6 brings the connectivity checker", () => {
    const raw = recipe("eth0", {
      ipv4: { method: "disabled" },
      ipv6: { method: "static", address: "fd00::5/64", gateway: "fd00::1" },
    });
    expect(raw.services).toEqual([{ service: "internet-checker" }]);
    expect(raw.upCommands.at(-1)).toEqual({
      run: [
        "ip",
        "-6",
        "route",
        "replace",
        "default",
        "via",
        "fd00::1",
        "dev",
        "eth0",
        "metric",
        "10",
      ],
    });
  });
});

// ---- every combination ----------------------------------------------------------------------

const SECRET = "s3cret-Passw0rd";

const addressing: Record<string, Record<string, unknown>> = {
  "dhcp (default)": {},
  "dhcp, request options, hostname": {
    ipv4: { method: "dhcp", dhcp_request_options: ["ntpsrv", "42"] },
    hostname: "sensor-7",
  },
  "static, gateway": {
    ipv4: {
      method: "static",
      address: "10.0.5.2",
      netmask: "255.255.255.0",
      gateway: "10.0.5.1",
      name_servers: ["10.0.5.1", "1.1.1.1"],
      domain: "plant.example",
    },
  },
  "static, lan only": { ipv4: { method: "static", address: "10.0.5.2", prefix_length: 24 } },
  "static + dhcpd": {
    ipv4: { method: "static", address: "192.168.24.1", prefix_length: 24 },
    dhcpd: {
      start: "192.168.24.10",
      end: "192.168.24.100",
      max_leases: 20,
      static_leases: [{ mac: "02:00:00:00:00:09", ip: "192.168.24.9" }],
      options: { dns: "192.168.24.1", router: "192.168.24.1", domain: "lab", mtu: 1400 },
    },
  },
  disabled: { ipv4: { method: "disabled" } },
  "direct (derived /30)": { direct: {} },
  "direct /24": { direct: { subnet: "192.168.7.0/24" } },
};
const ipv6Options: Record<string, unknown> = {
  slaac: undefined,
  dhcpv6: { method: "dhcpv6" },
  "static, gateway": {
    method: "static",
    address: "fd00:5::2/64",
    gateway: "fe80::1",
    name_servers: "fd00:5::53",
  },
  "static, lan only": { method: "static", address: "fd00:5::2" },
  disabled: { method: "disabled" },
};
const macOptions: Record<string, unknown> = {
  "-": undefined,
  "02:12:34:56:78:9a": "02:12:34:56:78:9A",
};
const ieee8021xOptions: Record<string, unknown> = {
  "-": undefined,
  PEAP: { eap: "PEAP", identity: "alice", password: SECRET, ca_cert: "/data/ca.pem" },
  TTLS: {
    eap: "TTLS",
    identity: "bob",
    anonymous_identity: "anonymous@example.com",
    password: SECRET,
    phase2: "PAP",
  },
  TLS: {
    eap: "TLS",
    identity: "sensor-1",
    client_cert: "/data/sensor.pem",
    private_key: "/data/sensor.key",
    private_key_passwd: SECRET,
    ca_cert: "/data/ca.pem",
  },
};

function commandText(command: Command): string {
  if ("step" in command) {
    const { step, ...fields } = command;
    return `step ${step} ${JSON.stringify(fields)}`;
  }
  if ("run" in command) return command.run.join(" ");
  return `[ignore errors] ${command.runIgnoringErrors.join(" ")}`;
}

/** A recipe as reviewable text: one line per command, file contents indented. */
function recipeText(raw: RawConfig): string {
  const lines = [
    `required ${raw.requiredIfnames.join(",")}; retry ${raw.retryMillis} ms; up <= ${raw.upCommandMillis} ms; down <= ${raw.downCommandMillis} ms`,
  ];
  for (const file of raw.files) {
    lines.push(`file ${file.path} (${(file.mode ?? 0o644).toString(8)})`);
    for (const line of file.content.trimEnd().split("\n")) lines.push(`  | ${line}`);
  }
  for (const path of raw.cleanupFiles) lines.push(`cleanup ${path}`);
  for (const command of raw.upCommands) lines.push(`up   ${commandText(command)}`);
  for (const command of raw.downCommands) lines.push(`down ${commandText(command)}`);
  for (const daemon of raw.daemons) {
    lines.push(
      `daemon ${daemon.id}: ${daemon.argv.join(" ")} ${JSON.stringify(daemon.restart ?? {})}`,
    );
  }
  for (const service of raw.services) {
    lines.push(`service ${service.id ?? service.service} ${JSON.stringify(service.options ?? {})}`);
  }
  return lines.join("\n");
}

interface Combination {
  name: string;
  ifname: string;
  config: Record<string, unknown>;
}

function combinations(): Combination[] {
  const list: Combination[] = [];
  for (const [addressingName, addressingConfig] of Object.entries(addressing)) {
    for (const [ipv6Name, ipv6] of Object.entries(ipv6Options)) {
      for (const [macName, mac] of Object.entries(macOptions)) {
        for (const [eapName, ieee8021x] of Object.entries(ieee8021xOptions)) {
          list.push({
            name: `ipv4 ${addressingName} | ipv6 ${ipv6Name} | mac ${macName} | 802.1X ${eapName}`,
            ifname: addressingName.startsWith("direct") ? "usb0" : "eth0",
            config: {
              ...addressingConfig,
              ...(ipv6 === undefined ? {} : { ipv6 }),
              ...(mac === undefined ? {} : { mac_address: mac }),
              ...(ieee8021x === undefined ? {} : { ieee8021x }),
            },
          });
        }
      }
    }
  }
  return list;
}

describe("every combination of options", () => {
  const all = combinations();

  it(`${all.length} recipes match the reviewed snapshot`, async () => {
    const text = all
      .map(({ name, ifname, config }) => `## ${name}\n${recipeText(recipe(ifname, config))}\n`)
      .join("\n");
    await expect(text).toMatchFileSnapshot("./__snapshots__/recipes.txt");
  });

  it.each(all)("$name: invariants", ({ ifname, config }) => {
    const raw = recipe(ifname, config);
    expect(JSON.parse(JSON.stringify(raw))).toEqual(raw);
    const up = raw.upCommands.map(commandText);
    const linkUp = up.indexOf(`ip link set ${ifname} up`);
    expect(linkUp).toBeGreaterThanOrEqual(0);
    // Sysctls and the MAC address before the link comes up; static IPv6 after it.
    expect(up.findIndex((line) => line.includes("sysctl"))).toBeLessThan(linkUp);
    if (config.mac_address) {
      expect(up.indexOf(`ip link set dev ${ifname} address 02:12:34:56:78:9a`)).toBeLessThan(
        linkUp,
      );
    }
    const v6Address = up.findIndex((line) => line.startsWith("ip -6 addr add"));
    if (v6Address !== -1) expect(v6Address).toBeGreaterThan(linkUp);
    // The link goes down last of IPv4's down commands, after IPv6's cleanup.
    const down = raw.downCommands.map(commandText);
    expect(down.at(-1)).toBe(`[ignore errors] ip link set ${ifname} down`);
    // Secrets only in 0600 files (and in the normalized config the engine redacts).
    const { sourceConfig: _source, files, ...rest } = raw;
    expect(JSON.stringify(rest)).not.toContain(SECRET);
    for (const file of files) {
      if (file.content.includes(SECRET)) expect(file.mode).toBe(0o600);
    }
    // At most one connectivity checker; none only when nothing addresses the link.
    const checkers = raw.services.filter((service) => service.service.endsWith("-checker"));
    const ipv4Disabled = (config.ipv4 as { method?: string } | undefined)?.method === "disabled";
    const ipv6Disabled = (config.ipv6 as { method?: string } | undefined)?.method === "disabled";
    expect(checkers).toHaveLength(ipv4Disabled && ipv6Disabled ? 0 : 1);
    // With 802.1X, every DHCP client waits for the authorized port, and the EAP service starts first.
    const names = raw.services.map((service) => service.service);
    for (const client of raw.services.filter(
      (service) => service.service.startsWith("dhcp") && service.service.endsWith("client"),
    )) {
      expect(client.options?.run_while !== undefined).toBe(config.ieee8021x !== undefined);
      if (config.ieee8021x) {
        expect(names.indexOf("ethernet.ieee8021x")).toBeLessThan(names.indexOf(client.service));
      }
    }
    expect(raw.daemons.length).toBe(config.ieee8021x ? 1 : 0);
  });
});
