// Proof that the real wpa_supplicant parser accepts what the writer writes, byte for byte: random
// networks are written, wpa_supplicant loads the file (it exits on any parse error), and then
// writes it back itself (SAVE_CONFIG with update_config=1, its own encoder). Every value read back
// must equal what was given. wpa_passphrase is the reference for the PSK derivation.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describeIntegration, type Lab, type Namespace, useLab, waitFor } from "@testing/netlab";
import fc from "fast-check";
import { beforeAll, expect, it } from "vitest";
import {
  decodeConfigString,
  derivePsk,
  type NetworkConfig,
  renderWpaSupplicantConfig,
  WpaControl,
} from "../../src/index.js";

/** Bytes of any kind in text fields: printable ASCII, quotes, backslashes, UTF-8, controls. */
const textValue = (minBytes: number, maxBytes: number) =>
  fc
    .string({
      unit: fc.oneof(
        fc.constantFrom('"', "\\", "#", " ", "\t", "\n", "\r", "\u0001", "é", "☕", "=", "}", "{"),
        fc.string({ minLength: 1, maxLength: 1 }),
      ),
      minLength: minBytes,
      maxLength: maxBytes,
    })
    .filter(
      (value) => Buffer.byteLength(value) >= minBytes && Buffer.byteLength(value) <= maxBytes,
    );
const passphrase = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  minLength: 8,
  maxLength: 63,
});

const eapNetwork = fc.record({
  ssid: textValue(1, 32),
  key_mgmt: fc.constant("WPA-EAP" as const),
  eap: fc.constant("PEAP" as const),
  identity: textValue(1, 64),
  anonymous_identity: textValue(1, 32),
  password: textValue(1, 64),
  phase2: textValue(1, 32),
  ca_cert: textValue(1, 48),
  priority: fc.nat(1000),
});
const pskNetwork = fc.record({
  ssid: textValue(1, 32),
  key_mgmt: fc.constant(["WPA-PSK", "SAE"] as const),
  psk: passphrase,
  scan_ssid: fc.boolean(),
});

/** network={...} blocks of a file wpa_supplicant wrote: key → raw value text. */
function parseBlocks(text: string): Array<Record<string, string>> {
  const blocks: Array<Record<string, string>> = [];
  let current: Record<string, string> | undefined;
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (line === "network={") current = {};
    else if (line === "}" && current) {
      blocks.push(current);
      current = undefined;
    } else if (current) {
      const equals = line.indexOf("=");
      current[line.slice(0, equals)] = line.slice(equals + 1);
    }
  }
  return blocks;
}

function decoded(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const bytes = decodeConfigString(value);
  return bytes === undefined ? undefined : Buffer.from(bytes).toString("utf8");
}

describeIntegration(
  "wpa_supplicant reads back exactly what the writer wrote",
  { tools: ["wpa_supplicant", "wpa_passphrase"] },
  () => {
    const currentLab = useLab("roundtrip");
    let lab: Lab;
    let device: Namespace;
    beforeAll(async () => {
      lab = currentLab();
      const peer = await lab.namespace("peer");
      device = await lab.namespace("device");
      await lab.veth(peer, "peer0", device, "eth0");
    });

    let run = 0;
    async function loadAndSave(networks: NetworkConfig[]): Promise<Array<Record<string, string>>> {
      run += 1;
      const ctrlDir = join(lab.dir, `ctrl${run}`);
      const configPath = lab.file("roundtrip", ".conf");
      await writeFile(
        configPath,
        renderWpaSupplicantConfig({
          ctrl_interface: ctrlDir,
          ap_scan: 0,
          update_config: true,
          networks,
        }),
        { mode: 0o600 },
      );
      const daemon = device.start([
        "wpa_supplicant",
        "-D",
        "wired",
        "-i",
        "eth0",
        "-c",
        configPath,
      ]);
      try {
        const client = await WpaControl.connect({
          ctrlInterface: ctrlDir,
          ifname: "eth0",
          clientDir: lab.dir,
          transport: "unix-dgram",
          attach: false,
          connectTimeoutMs: 10_000,
          keepAliveIntervalMs: 0,
        }).catch((error: unknown) => {
          throw new Error(`wpa_supplicant did not start: ${daemon.recentOutput().join("\n")}`, {
            cause: error,
          });
        });
        expect(await client.listNetworks()).toHaveLength(networks.length);
        await client.saveConfig();
        await client.close();
      } finally {
        await daemon.stop();
      }
      return parseBlocks(await readFile(configPath, "utf8"));
    }

    it("for any EAP network: SSID, identities, password, phase2 and paths", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(eapNetwork, { minLength: 1, maxLength: 6 }), async (networks) => {
          const blocks = await loadAndSave(networks);
          expect(blocks).toHaveLength(networks.length);
          networks.forEach((network, index) => {
            const block = blocks[index]!;
            expect(decoded(block["ssid"])).toBe(network.ssid);
            expect(decoded(block["identity"])).toBe(network.identity);
            expect(decoded(block["anonymous_identity"])).toBe(network.anonymous_identity);
            expect(decoded(block["password"])).toBe(network.password);
            expect(decoded(block["phase2"])).toBe(network.phase2);
            expect(decoded(block["ca_cert"])).toBe(network.ca_cert);
            expect(block["priority"] ?? "0").toBe(String(network.priority));
          });
        }),
        { numRuns: 15 },
      );
    });

    it("for any WPA2/WPA3 network: SSID, derived PSK and SAE password", async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(pskNetwork, { minLength: 1, maxLength: 6 }), async (networks) => {
          const blocks = await loadAndSave(networks);
          networks.forEach((network, index) => {
            const block = blocks[index]!;
            expect(decoded(block["ssid"])).toBe(network.ssid);
            expect(block["psk"]?.toUpperCase()).toBe(derivePsk(network.ssid, network.psk));
            expect(decoded(block["sae_password"])).toBe(network.psk);
            expect(block["scan_ssid"] ?? "0").toBe(network.scan_ssid ? "1" : "0");
          });
        }),
        { numRuns: 10 },
      );
    });

    it("derives the same PSK as wpa_passphrase", async () => {
      const printableSsid = fc
        .string({
          unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)),
          minLength: 1,
          maxLength: 32,
        })
        .filter((ssid) => !ssid.startsWith("-"));
      await fc.assert(
        fc.asyncProperty(printableSsid, passphrase, async (ssid, pass) => {
          // The passphrase goes through standard input, as a device would do it (argv is public).
          const { stdout } = await lab.runner.run(["wpa_passphrase", ssid], { input: `${pass}\n` });
          const reference = /^\s*psk=([0-9a-f]{64})$/m.exec(stdout)?.[1];
          expect(reference?.toUpperCase()).toBe(derivePsk(ssid, pass));
        }),
        { numRuns: 30 },
      );
    });

    it("wpa_supplicant refuses a file with a line cut by its buffer: why the writer limits lines", async () => {
      const configPath = lab.file("long", ".conf");
      const ctrlDir = join(lab.dir, "ctrl-long");
      await writeFile(
        configPath,
        `ctrl_interface=${ctrlDir}\nap_scan=0\nnetwork={\nkey_mgmt=IEEE8021X\nidentity="${"x".repeat(2100)}"\n}\n`,
      );
      const daemon = device.start([
        "wpa_supplicant",
        "-D",
        "wired",
        "-i",
        "eth0",
        "-c",
        configPath,
      ]);
      const exit = await waitFor(() => daemon.exited, {
        description: "wpa_supplicant to refuse the file",
      });
      expect(exit.exitCode).not.toBe(0);
    });
  },
);
