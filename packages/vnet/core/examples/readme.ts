import { readFile } from "node:fs/promises";
import {
  flatFilePersistence,
  ipv4RawConfig,
  mergeRawConfig,
  type NormalizedIPv4Config,
  normalizeIPv4,
  rawConfig,
  type Technology,
  VintageNet,
} from "@vnet/core";

// A wired interface with IPv4 (what @vnet/technology-ethernet does, minus everything else).
type WiredConfig = { readonly type: "wired"; readonly ipv4: NormalizedIPv4Config };
const wired: Technology<WiredConfig> = {
  type: "wired",
  normalize: (config) => ({ type: "wired", ipv4: normalizeIPv4(config.ipv4) }),
  toRawConfig: (ifname, config, context) =>
    mergeRawConfig(rawConfig(ifname, config), ipv4RawConfig(ifname, config.ipv4, context)),
};

const vnet = await VintageNet.start({
  technologies: [wired],
  defaultConfig: { eth0: { type: "wired", ipv4: { method: "dhcp" } } },
  persistence: flatFilePersistence({
    directory: "/data/vnet",
    key: async () => (await readFile("/data/keys/vnet.key")).subarray(0, 32),
  }),
});

vnet.subscribe(["interface", "eth0", "connection"], (event) =>
  console.log("eth0:", event.previousValue, "→", event.value),
);
await vnet.waitUntilConfigured("eth0");
console.log(vnet.info());

// Later, from a settings screen (saved, so it survives a reboot):
await vnet.configure("eth0", {
  type: "wired",
  ipv4: {
    method: "static",
    address: "192.168.1.50",
    netmask: "255.255.255.0",
    gateway: "192.168.1.1",
    name_servers: ["192.168.1.1"],
  },
});
