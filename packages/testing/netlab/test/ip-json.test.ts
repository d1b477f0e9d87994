import { describe, expect, it } from "vitest";
import { parseAddresses, parseKeyValueLines, parseLinks, parseRoutes } from "../src/ip-json.js";

// Captured from `ip -json` (iproute2 6.1) on a veth in a namespace.
const LINK = `[{"ifindex":2,"link_index":2,"ifname":"e0","flags":["NO-CARRIER","BROADCAST","MULTICAST","UP"],"mtu":1500,"qdisc":"noqueue","operstate":"DOWN","linkmode":"DEFAULT","group":"default","txqlen":1000,"link_type":"ether","address":"ee:ee:8e:73:ad:51","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0},
{"ifindex":3,"ifname":"eth1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"operstate":"UP","master":"br0","address":"02:00:00:00:00:01"}]`;
const ADDR = `[{"ifindex":2,"ifname":"e0","flags":["UP"],"addr_info":[{"family":"inet","local":"10.9.0.1","prefixlen":24,"scope":"global","label":"e0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fd00:9::5c1b:6aff:fe72:bad","prefixlen":64,"scope":"global","dynamic":true,"tentative":true,"mngtmpaddr":true},{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}]}]`;
const ROUTES = `[{"dst":"default","gateway":"10.9.0.254","dev":"e0","protocol":"dhcp","metric":100,"flags":[]},{"dst":"10.9.0.0/24","dev":"e0","protocol":"kernel","scope":"link","prefsrc":"10.9.0.1","flags":["linkdown"]}]`;

describe("parseLinks", () => {
  it("derives up and carrier from the flags", () => {
    const [veth, port] = parseLinks(LINK);
    expect(veth).toMatchObject({
      ifname: "e0",
      ifindex: 2,
      up: true,
      lowerUp: false,
      operstate: "DOWN",
      mtu: 1500,
      address: "ee:ee:8e:73:ad:51",
      master: undefined,
    });
    expect(port).toMatchObject({ ifname: "eth1", up: true, lowerUp: true, master: "br0" });
  });

  it("treats empty output as no links", () => {
    expect(parseLinks("")).toEqual([]);
    expect(parseLinks("\n")).toEqual([]);
  });
});

describe("parseAddresses", () => {
  it("flattens addr_info with family, prefix and DAD state", () => {
    const addresses = parseAddresses(ADDR);
    expect(addresses.map((a) => a.cidr)).toEqual([
      "10.9.0.1/24",
      "fd00:9::5c1b:6aff:fe72:bad/64",
      "fe80::1/64",
    ]);
    expect(addresses[1]).toMatchObject({ family: "inet6", dynamic: true, tentative: true });
    expect(addresses[0]).toMatchObject({ family: "inet", dynamic: false, scope: "global" });
  });
});

describe("parseRoutes", () => {
  it("reads destination, gateway and metric", () => {
    expect(parseRoutes(ROUTES).map(({ raw: _raw, ...route }) => route)).toEqual([
      { destination: "default", gateway: "10.9.0.254", dev: "e0", protocol: "dhcp", metric: 100 },
      {
        destination: "10.9.0.0/24",
        gateway: undefined,
        dev: "e0",
        protocol: "kernel",
        metric: undefined,
      },
    ]);
  });
});

describe("parseKeyValueLines", () => {
  it("reads wpa_cli status output, keys with spaces included", () => {
    const status = parseKeyValueLines(
      "bssid=01:80:c2:00:00:03\nwpa_state=COMPLETED\nSupplicant PAE state=AUTHENTICATED\nEAP state=SUCCESS\nselectedMethod=25 (EAP-PEAP)\nnoise without equals\n",
    );
    expect(status).toMatchObject({
      wpa_state: "COMPLETED",
      "EAP state": "SUCCESS",
      "Supplicant PAE state": "AUTHENTICATED",
      selectedMethod: "25 (EAP-PEAP)",
    });
    expect(Object.keys(status)).toHaveLength(5);
  });
});
