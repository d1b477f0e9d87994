import { readFile } from "node:fs/promises";
import { flatFilePersistence, VintageNet } from "@vnet/core";
import { ethernetTechnology } from "@vnet/technology-ethernet";

const vnet = await VintageNet.start({
  technologies: [ethernetTechnology],
  // Used until the application saves something else: DHCP for IPv4, SLAAC for IPv6.
  defaultConfig: { eth0: { type: "ethernet" } },
  persistence: flatFilePersistence({
    directory: "/data/vnet",
    key: async () => (await readFile("/data/keys/vnet.key")).subarray(0, 32),
  }),
});

vnet.subscribe(["interface", "eth0", "connection"], (event) =>
  console.log("eth0:", event.previousValue, "→", event.value),
);
vnet.subscribe(["interface", "eth0", "dhcp_options"], (event) =>
  console.log("lease:", event.value),
);
await vnet.waitUntilConfigured("eth0");

// A USB gadget port: whoever plugs a laptop in gets an address, with zero configuration.
await vnet.configure("usb0", { type: "ethernet", direct: {} });
vnet.subscribe(["interface", "usb0", "dhcpd", "leases"], (event) =>
  console.log("usb0 peers:", event.value),
);

process.once("SIGTERM", () => void vnet.stop());
