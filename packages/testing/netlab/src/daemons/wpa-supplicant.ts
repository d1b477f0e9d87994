import { mkdir, writeFile } from "node:fs/promises";
import type { ProcessExit, RunningProcess } from "@runtime/command";
import { parseKeyValueLines } from "../ip-json.js";
import type { Namespace } from "../namespace.js";
import { assertInterfaceName } from "../naming.js";
import { OutputLog, type WaitOptions, waitFor } from "../wait.js";

/** The 802.1X credentials of a wired network block. */
export type WiredNetwork =
  | {
      eap: "PEAP";
      identity: string;
      password: string;
      /** Verify the server against this CA. Without it, any server certificate is accepted. */
      caCert?: string;
    }
  | {
      eap: "TLS";
      identity: string;
      caCert: string;
      clientCert: string;
      privateKey: string;
    };

export interface WpaSupplicantOptions {
  interface: string;
  network: WiredNetwork;
  /** Extra lines inside the network block. */
  extraNetworkConfig?: readonly string[];
  timeoutMs?: number;
}

/** `wpa_cli status` as key/value pairs: `wpa_state`, `EAP state`, `suppPortStatus`, … */
export type WpaStatus = Record<string, string>;

export interface WpaSupplicant {
  readonly process: RunningProcess;
  /** Everything wpa_supplicant printed (CTRL-EVENT-EAP-SUCCESS/FAILURE, …). */
  readonly log: OutputLog;
  readonly configPath: string;
  readonly ctrlDir: string;
  status(): Promise<WpaStatus>;
  /** Polls `status()` until `expected` (a subset, e.g. `{ wpa_state: "COMPLETED" }`) matches. */
  waitForStatus(
    expected: Readonly<Record<string, string>> | ((status: WpaStatus) => boolean),
    options?: WaitOptions,
  ): Promise<WpaStatus>;
  stop(): Promise<ProcessExit>;
}

function quoted(value: string, what: string): string {
  if (/["\n\r]/.test(value)) throw new TypeError(`${what} must not contain quotes or newlines`);
  return `"${value}"`;
}

/** Pure: wpa_supplicant.conf for a wired 802.1X port (`ap_scan=0`: no scanning on a cable). */
export function wpaSupplicantConfig(options: WpaSupplicantOptions, ctrlDir: string): string {
  const network = options.network;
  const block = [
    "key_mgmt=IEEE8021X",
    `eap=${network.eap}`,
    `identity=${quoted(network.identity, "identity")}`,
    // Skip the EAPOL-Key exchange a wired switch never sends.
    "eapol_flags=0",
  ];
  if (network.caCert) block.push(`ca_cert=${quoted(network.caCert, "ca_cert")}`);
  if (network.eap === "PEAP") {
    block.push(`password=${quoted(network.password, "password")}`, 'phase2="auth=MSCHAPV2"');
  } else {
    block.push(
      `client_cert=${quoted(network.clientCert, "client_cert")}`,
      `private_key=${quoted(network.privateKey, "private_key")}`,
    );
  }
  block.push(...(options.extraNetworkConfig ?? []));
  return [
    `ctrl_interface=${ctrlDir}`,
    "ap_scan=0",
    "network={",
    ...block.map((line) => `  ${line}`),
    "}",
    "",
  ].join("\n");
}

/** Reads `wpa_cli -p CTRL_DIR -i IFNAME status` inside the namespace. */
export async function readWpaStatus(
  namespace: Namespace,
  ctrlDir: string,
  ifname: string,
): Promise<WpaStatus> {
  const { stdout } = await namespace.exec(["wpa_cli", "-p", ctrlDir, "-i", ifname, "status"], {
    timeoutMs: 5_000,
  });
  return parseKeyValueLines(stdout);
}

/** Starts `wpa_supplicant -D wired` in the foreground; ready when its control socket answers. */
export async function startWpaSupplicant(
  namespace: Namespace,
  options: WpaSupplicantOptions,
): Promise<WpaSupplicant> {
  assertInterfaceName(options.interface);
  const ctrlDir = namespace.owner.file("wpa", ".ctrl");
  await mkdir(ctrlDir, { mode: 0o700 });
  const configPath = namespace.owner.file("wpa_supplicant", ".conf");
  // The file holds a password: owner-only, like on a device.
  await writeFile(configPath, wpaSupplicantConfig(options, ctrlDir), { mode: 0o600 });
  const daemon = namespace.start([
    "wpa_supplicant",
    "-D",
    "wired",
    "-i",
    options.interface,
    "-c",
    configPath,
  ]);
  const log = new OutputLog(daemon);
  const status = () => readWpaStatus(namespace, ctrlDir, options.interface);
  await waitFor(
    async () => {
      const { stdout } = await namespace.exec(
        ["wpa_cli", "-p", ctrlDir, "-i", options.interface, "ping"],
        { timeoutMs: 5_000 },
      );
      return stdout.includes("PONG");
    },
    {
      timeoutMs: options.timeoutMs ?? 10_000,
      description: `wpa_supplicant on ${namespace.name}:${options.interface} to answer PING`,
      process: daemon,
    },
  );
  const waitForStatus: WpaSupplicant["waitForStatus"] = (expected, waitOptions = {}) => {
    const matches =
      typeof expected === "function"
        ? expected
        : (current: WpaStatus) =>
            Object.entries(expected).every(([key, value]) => current[key] === value);
    let last: WpaStatus = {};
    return waitFor(
      async () => {
        last = await status();
        return matches(last) ? last : undefined;
      },
      {
        timeoutMs: 20_000,
        intervalMs: 100,
        process: daemon,
        ...waitOptions,
        description: () =>
          `wpa_supplicant status ${typeof expected === "function" ? "predicate" : JSON.stringify(expected)} (last: wpa_state=${last["wpa_state"]}, EAP state=${last["EAP state"]})`,
      },
    );
  };
  return {
    process: daemon,
    log,
    configPath,
    ctrlDir,
    status,
    waitForStatus,
    stop: () => daemon.stop(),
  };
}
