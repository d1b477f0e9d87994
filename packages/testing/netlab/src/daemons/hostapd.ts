import { mkdir, writeFile } from "node:fs/promises";
import type { ProcessExit, RunningProcess } from "@runtime/command";
import { parseKeyValueLines } from "../ip-json.js";
import type { Namespace } from "../namespace.js";
import { assertInterfaceName } from "../naming.js";
import { OutputLog, waitFor } from "../wait.js";
import type { TestPki } from "./pki.js";

/** A user of hostapd's internal EAP server. */
export type EapUser =
  /** PEAP with MSCHAPv2 inside. */
  | { identity: string; method: "PEAP"; password: string }
  /** EAP-TLS: authenticated by a client certificate from the same CA. */
  | { identity: string; method: "TLS" };

export interface HostapdOptions {
  interface: string;
  users: readonly EapUser[];
  /** CA, server certificate and key (see `createTestPki`). */
  pki: TestPki;
  /** Extra hostapd.conf lines. */
  extraConfig?: readonly string[];
  timeoutMs?: number;
}

/** A running hostapd with `driver=wired` and its internal EAP server: an 802.1X switch port. */
export interface Hostapd {
  readonly process: RunningProcess;
  /** Everything hostapd printed (CTRL-EVENT-EAP-SUCCESS/FAILURE, AP-STA-CONNECTED, …). */
  readonly log: OutputLog;
  readonly configPath: string;
  readonly ctrlDir: string;
  /** `hostapd_cli status` as key/value pairs (`state=ENABLED`, …). */
  status(): Promise<Record<string, string>>;
  stop(): Promise<ProcessExit>;
}

function quoted(value: string, what: string): string {
  if (/["\n\r]/.test(value)) throw new TypeError(`${what} must not contain quotes or newlines`);
  return `"${value}"`;
}

/** Pure: hostapd's eap_user file. Phase-2 lines carry `[2]`. */
export function eapUserFile(users: readonly EapUser[]): string {
  const lines = users.flatMap((user) => {
    const identity = quoted(user.identity, "EAP identity");
    if (user.method === "TLS") return [`${identity}\tTLS`];
    return [
      `${identity}\tPEAP`,
      `${identity}\tMSCHAPV2\t${quoted(user.password, "EAP password")}\t[2]`,
    ];
  });
  return `${lines.join("\n")}\n`;
}

/** Pure: hostapd.conf for a wired 802.1X authenticator with the internal EAP server. */
export function hostapdConfig(
  options: HostapdOptions,
  files: { ctrlDir: string; eapUserFile: string },
): string {
  const lines = [
    `interface=${options.interface}`,
    "driver=wired",
    `ctrl_interface=${files.ctrlDir}`,
    "ieee8021x=1",
    "eap_server=1",
    `eap_user_file=${files.eapUserFile}`,
    `ca_cert=${options.pki.caCert}`,
    `server_cert=${options.pki.server.cert}`,
    `private_key=${options.pki.server.key}`,
    // No re-authentication during a test; log to stdout, where OutputLog collects it.
    "eap_reauth_period=0",
    "logger_stdout=-1",
    "logger_stdout_level=1",
    ...(options.extraConfig ?? []),
  ];
  return `${lines.join("\n")}\n`;
}

/** Starts hostapd in the foreground; ready when its control socket reports `state=ENABLED`. */
export async function startHostapd(
  namespace: Namespace,
  options: HostapdOptions,
): Promise<Hostapd> {
  assertInterfaceName(options.interface);
  const ctrlDir = namespace.owner.file("hostapd", ".ctrl");
  await mkdir(ctrlDir, { mode: 0o700 });
  const eapUsers = namespace.owner.file("hostapd", ".eap_user");
  await writeFile(eapUsers, eapUserFile(options.users), { mode: 0o600 });
  const configPath = namespace.owner.file("hostapd", ".conf");
  await writeFile(configPath, hostapdConfig(options, { ctrlDir, eapUserFile: eapUsers }), {
    mode: 0o600,
  });
  const daemon = namespace.start(["hostapd", configPath]);
  const log = new OutputLog(daemon);
  const status = async () => {
    const { stdout } = await namespace.exec(
      ["hostapd_cli", "-p", ctrlDir, "-i", options.interface, "status"],
      { timeoutMs: 5_000 },
    );
    return parseKeyValueLines(stdout);
  };
  await waitFor(async () => (await status())["state"] === "ENABLED", {
    timeoutMs: options.timeoutMs ?? 10_000,
    description: `hostapd on ${namespace.name}:${options.interface} to be ENABLED`,
    process: daemon,
  });
  return { process: daemon, log, configPath, ctrlDir, status, stop: () => daemon.stop() };
}
