// Real daemons for the integration tests: an 802.1X "switch port" (hostapd driver=wired with its
// internal EAP server) cabled by a veth pair to a "device" namespace where wpa_supplicant runs
// with a config file written by renderWpaSupplicantConfig.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunningProcess } from "@runtime/command";
import {
  createTestPki,
  type Lab,
  type Namespace,
  startHostapd,
  type TestPki,
  waitFor,
} from "@testing/netlab";
import {
  type NetworkConfig,
  renderWpaSupplicantConfig,
  WpaControl,
  type WpaControlOptions,
} from "../../src/index.js";

export const PEAP_USER = { identity: "alice", method: "PEAP", password: "correct horse" } as const;
export const TLS_USER = { identity: "sensor-1", method: "TLS" } as const;

export interface Port {
  pki: TestPki;
  device: Namespace;
  ctrlDir: string;
}

/** A switch namespace running hostapd on port1, cabled to eth0 of a device namespace. */
export async function switchPort(lab: Lab): Promise<Port> {
  const pki = await createTestPki(lab, { clients: [TLS_USER.identity] });
  const switchNs = await lab.namespace("switch");
  const device = await lab.namespace("device");
  await lab.veth(switchNs, "port1", device, "eth0");
  await startHostapd(switchNs, { interface: "port1", users: [PEAP_USER, TLS_USER], pki });
  const ctrlDir = join(lab.dir, "ctrl");
  await mkdir(ctrlDir, { recursive: true, mode: 0o700 });
  return { pki, device, ctrlDir };
}

export function peapNetwork(pki: TestPki, password: string = PEAP_USER.password): NetworkConfig {
  return {
    key_mgmt: "IEEE8021X",
    eap: "PEAP",
    identity: PEAP_USER.identity,
    password,
    phase2: "auth=MSCHAPV2",
    ca_cert: pki.caCert,
    eapol_flags: 0,
  };
}

export function tlsNetwork(pki: TestPki): NetworkConfig {
  const client = pki.clients[TLS_USER.identity]!;
  return {
    key_mgmt: "IEEE8021X",
    eap: "TLS",
    identity: TLS_USER.identity,
    ca_cert: pki.caCert,
    client_cert: client.cert,
    private_key: client.key,
    eapol_flags: 0,
  };
}

/**
 * Writes the config (owner-only: it holds credentials) and starts `wpa_supplicant -D wired` in the
 * device namespace. The network starts disabled so a test can attach first and then enable it,
 * seeing every event of the authentication.
 */
export async function startSupplicant(
  lab: Lab,
  port: Port,
  network: NetworkConfig,
  options: { configPath?: string } = {},
): Promise<{ daemon: RunningProcess; configPath: string }> {
  const configPath = options.configPath ?? lab.file("wpa_supplicant", ".conf");
  const text = renderWpaSupplicantConfig({
    ctrl_interface: port.ctrlDir,
    ap_scan: 0,
    networks: [{ ...network, disabled: true }],
  });
  await writeFile(configPath, text, { mode: 0o600 });
  const daemon = port.device.start([
    "wpa_supplicant",
    "-D",
    "wired",
    "-i",
    "eth0",
    "-c",
    configPath,
  ]);
  await waitFor(() => socketReady(join(port.ctrlDir, "eth0")), {
    description: "wpa_supplicant's control socket",
    process: daemon,
  });
  return { daemon, configPath };
}

async function socketReady(path: string): Promise<boolean> {
  const { stat } = await import("node:fs/promises");
  try {
    return (await stat(path)).isSocket();
  } catch {
    return false;
  }
}

export function connectClient(
  lab: Lab,
  port: Port,
  transport: "unix-dgram" | "wpa_cli",
  options: Partial<WpaControlOptions> = {},
): Promise<WpaControl> {
  return WpaControl.connect({
    ctrlInterface: port.ctrlDir,
    ifname: "eth0",
    clientDir: lab.dir,
    transport,
    runner: lab.runner,
    keepAliveIntervalMs: 0,
    ...options,
  });
}

export async function writeText(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
}
