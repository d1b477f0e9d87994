// Wired 802.1X end to end: a "switch" namespace whose port runs hostapd (driver=wired, its
// internal EAP server: a real authenticator) and udhcpd, cabled to the device where the engine
// runs wpa_supplicant -D wired from the ethernet recipe.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  createTestPki,
  describeIntegration,
  type Hostapd,
  type Namespace,
  startHostapd,
  startUdhcpd,
  type TestPki,
  type Udhcpd,
  useLab,
  type VethPair,
} from "@testing/netlab";
import type { DhcpOptions } from "@vnet/core";
import type { EngineInNamespace } from "@vnet/core/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { EapStatus } from "../../src/index.js";
import { addressesOf, pidsRunning, startEthernetEngine } from "./fixtures.js";

const PASSWORD = "correct horse battery";
const WRONG = "wrong horse battery";

describeIntegration(
  "ethernet 802.1X against hostapd driver=wired: PEAP and TLS, wrong password, carrier",
  { tools: ["hostapd", "wpa_supplicant", "busybox", "udhcpd", "openssl", "mkfifo", "sysctl"] },
  () => {
    const lab = useLab("eth-8021x");
    let pki: TestPki;
    let port: Namespace;
    let device: Namespace;
    let cable: VethPair;
    let hostapd: Hostapd;
    let server: Udhcpd;
    let engine: EngineInNamespace;
    let tmpDir: string;

    const peap = (password: string) => ({
      type: "ethernet",
      ieee8021x: { eap: "PEAP", identity: "alice", password, ca_cert: pki.caCert },
    });
    const eapStatus = () => engine.get<EapStatus>("interface/eth0/eap_status");

    beforeAll(async () => {
      pki = await createTestPki(lab(), { clients: ["sensor-1"] });
      port = await lab().namespace("switch");
      device = await lab().namespace("device");
      cable = await lab().veth(port, "port1", device, "eth0");
      await port.addAddress("port1", "10.77.0.1/24");
      hostapd = await startHostapd(port, {
        interface: "port1",
        users: [
          { identity: "alice", method: "PEAP", password: PASSWORD },
          { identity: "sensor-1", method: "TLS" },
        ],
        pki,
      });
      server = await startUdhcpd(port, {
        interface: "port1",
        start: "10.77.0.100",
        end: "10.77.0.150",
        router: "10.77.0.1",
      });
      tmpDir = join(lab().dir, "vnet");
      engine = await startEthernetEngine(lab(), device);
    });

    afterAll(async () => {
      await engine?.child.stop().catch(() => {});
    });

    it("PEAP, right credentials: success, and only then a DHCP lease", async () => {
      await engine.configure("eth0", peap(PASSWORD));
      await engine.waitForValue("interface/eth0/state", "configured");
      await engine.waitFor<EapStatus>(
        "interface/eth0/eap_status",
        (value) => value?.authorized === true,
        30_000,
      );
      expect(eapStatus()).toEqual({
        status: "success",
        method: "PEAP",
        remote_certificate_verified: true,
        authorized: true,
        reason: null,
      });
      const options = (await engine.waitFor<DhcpOptions>(
        "interface/eth0/dhcp_options",
        (value) => value?.ip !== undefined,
      ))!;
      expect(options.ip).toMatch(/^10\.77\.0\.1[0-5]\d$/);
      expect(options.router).toEqual(["10.77.0.1"]);
      const mac = (await device.linkInfo("eth0")).address;
      expect(await server.leases()).toContainEqual(
        expect.objectContaining({ ip: options.ip, mac }),
      );
      expect(hostapd.log.matching(new RegExp(`CTRL-EVENT-EAP-SUCCESS ${mac}`)).length).toBe(1);
      // The lease came after the authorization.
      const authorizedAt = engine.history
        .get("interface/eth0/eap_status")!
        .find((change) => (change.value as EapStatus | null)?.authorized)!.at;
      const leasedAt = engine.history
        .get("interface/eth0/dhcp_options")!
        .find((change) => !change.deleted)!.at;
      expect(leasedAt).toBeGreaterThanOrEqual(authorizedAt);
      await engine.waitForValue("interface/eth0/connection", "lan");
    });

    it("the password is only in the 0600 config file: redacted in the config property and info", async () => {
      const configFile = join(tmpDir, "wpa_supplicant.conf.eth0");
      expect((await stat(configFile)).mode & 0o777).toBe(0o600);
      expect(await readFile(configFile, "utf8")).toContain(`password="${PASSWORD}"`);
      expect(engine.get("interface/eth0/config")).toMatchObject({
        ieee8021x: { eap: "PEAP", identity: "alice", password: "****" },
      });
      const info = await engine.info();
      expect(info).toContain("****");
      expect(info).not.toContain(PASSWORD);
      expect(engine.child.output.join("\n")).not.toContain(PASSWORD);
    });

    it("carrier lost and back: the port is authorized again (re-authentication), DHCP again", async () => {
      await cable.a.down();
      await engine.waitFor<EapStatus>(
        "interface/eth0/eap_status",
        (value) => value?.authorized === false,
      );
      await engine.waitFor("interface/eth0/dhcp_options", (value) => value === undefined);
      const successes = hostapd.log.matching(/CTRL-EVENT-EAP-SUCCESS/).length;
      await cable.a.up();
      await engine.waitFor<EapStatus>(
        "interface/eth0/eap_status",
        (value) => value?.authorized === true,
        30_000,
      );
      // A new authentication really happened at the authenticator.
      expect(hostapd.log.matching(/CTRL-EVENT-EAP-SUCCESS/).length).toBeGreaterThan(successes);
      await engine.waitFor<DhcpOptions>("interface/eth0/dhcp_options", (value) => !!value?.ip);
    });

    it("EAP-TLS with a client certificate: success and a lease", async () => {
      const client = pki.clients["sensor-1"]!;
      await engine.configure("eth0", {
        type: "ethernet",
        ieee8021x: {
          eap: "TLS",
          identity: "sensor-1",
          client_cert: client.cert,
          private_key: client.key,
          ca_cert: pki.caCert,
        },
      });
      await engine.waitFor<EapStatus>(
        "interface/eth0/eap_status",
        (value) => value?.authorized === true && value.method === "TLS",
        30_000,
      );
      await engine.waitFor<DhcpOptions>("interface/eth0/dhcp_options", (value) => !!value?.ip);
    });

    // Last but one: after a failure the authenticator holds the port for its quiet period (60 s
    // in hostapd, as on most switches) and ignores new attempts from this device meanwhile.
    it("wrong password: failure with a clear reason, the port stays closed, no DHCP at all", async () => {
      const configuredAt = await engine.configure("eth0", peap(WRONG));
      await engine.waitForValue("interface/eth0/state", "configured");
      const status = await engine.waitFor<EapStatus>(
        "interface/eth0/eap_status",
        (value) => value?.status === "failure",
        30_000,
      );
      expect(status).toEqual({
        status: "failure",
        method: "PEAP",
        remote_certificate_verified: true,
        authorized: false,
        reason: "the authentication server rejected the identity or password (MSCHAPv2 error 691)",
      });
      expect(hostapd.log.matching(/CTRL-EVENT-EAP-FAILURE/).length).toBeGreaterThan(0);
      // DHCP is held back: no client runs, no lease since, the device has no IPv4 address.
      expect(await pidsRunning(device, "udhcpc")).toEqual([]);
      expect(await pidsRunning(device, "wpa_supplicant")).toHaveLength(1);
      const leasedSince = (engine.history.get("interface/eth0/dhcp_options") ?? []).filter(
        (change) => !change.deleted && change.at >= configuredAt,
      );
      expect(leasedSince).toEqual([]);
      expect(addressesOf(engine, "eth0", "inet")).toEqual([]);
      expect(
        (await device.addresses("eth0")).filter((address) => address.family === "inet"),
      ).toEqual([]);
      expect(engine.get("interface/eth0/connection")).toBe("disconnected");
      // The engine's log says why, and no credential appears anywhere in it.
      const output = engine.child.output.join("\n");
      expect(output).toContain(
        "802.1X authentication failed: the authentication server rejected the identity or password",
      );
      expect(output).not.toContain(WRONG);
    });

    it("stop: wpa_supplicant and everything else gone, the config file and socket removed", async () => {
      const childPid = engine.child.pid;
      await engine.stop();
      expect((await device.pids()).filter((pid) => pid !== childPid)).toEqual([]);
      const left = await readdir(tmpDir);
      expect(left.filter((name) => name.startsWith("wpa_supplicant.conf"))).toEqual([]);
      expect(await readdir(join(tmpDir, "wpa_supplicant")).catch(() => [])).toEqual([]);
      expect(engine.get("interface/eth0/eap_status")).toBeUndefined();
    });
  },
);
