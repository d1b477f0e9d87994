// Wired 802.1X for real: wpa_supplicant -D wired against hostapd driver=wired with its internal
// EAP server, across a veth pair (which passes the PAE group address 01:80:c2:00:00:03).
import { expect, it } from "vitest";
import {
  createTestPki,
  describeIntegration,
  type Lab,
  type Namespace,
  startHostapd,
  startWpaSupplicant,
  type TestPki,
  useLab,
} from "../../src/index.js";

const USERS = [
  { identity: "alice", method: "PEAP", password: "correct horse" },
  { identity: "sensor-1", method: "TLS" },
] as const;

describeIntegration(
  "802.1X (EAP) between wpa_supplicant and hostapd",
  { tools: ["hostapd", "hostapd_cli", "wpa_supplicant", "wpa_cli", "openssl"] },
  () => {
    // A fresh lab per test: hostapd holds a port that failed authentication for 60 s.
    const lab = useLab("eap", { per: "test" });

    /** A "switch" namespace whose port1 runs hostapd, cabled to a "device" namespace's eth0. */
    async function authenticator(current: Lab): Promise<{ pki: TestPki; supplicantNs: Namespace }> {
      const pki = await createTestPki(current, { clients: ["sensor-1"] });
      const switchNs = await current.namespace("switch");
      const supplicantNs = await current.namespace("device");
      await current.veth(switchNs, "port1", supplicantNs, "eth0");
      await startHostapd(switchNs, { interface: "port1", users: USERS, pki });
      return { pki, supplicantNs };
    }

    it("authenticates with EAP-PEAP/MSCHAPv2", async () => {
      const { pki, supplicantNs } = await authenticator(lab());
      const started = performance.now();
      const supplicant = await startWpaSupplicant(supplicantNs, {
        interface: "eth0",
        network: { eap: "PEAP", identity: "alice", password: "correct horse", caCert: pki.caCert },
      });
      const status = await supplicant.waitForStatus({
        wpa_state: "COMPLETED",
        "EAP state": "SUCCESS",
      });
      console.log(`EAP-PEAP completed in ${(performance.now() - started).toFixed(0)} ms`);
      expect(status).toMatchObject({
        suppPortStatus: "Authorized",
        selectedMethod: "25 (EAP-PEAP)",
        "EAP-PEAPv1 Phase2 method": "MSCHAPV2",
        key_mgmt: "IEEE 802.1X (no WPA)",
      });
      expect(supplicant.log.matching(/CTRL-EVENT-EAP-SUCCESS/)).toHaveLength(1);
    });

    it("does not authenticate with a wrong password, and says so", async () => {
      const { pki, supplicantNs } = await authenticator(lab());
      const supplicant = await startWpaSupplicant(supplicantNs, {
        interface: "eth0",
        network: { eap: "PEAP", identity: "alice", password: "wrong", caCert: pki.caCert },
      });
      const status = await supplicant.waitForStatus({ "EAP state": "FAILURE" });
      expect(status["wpa_state"]).not.toBe("COMPLETED");
      expect(status["suppPortStatus"]).toBe("Unauthorized");
      await supplicant.log.waitForLine(/CTRL-EVENT-EAP-FAILURE/);
      expect(supplicant.log.matching(/EAP-MSCHAPV2: failure message/)).not.toEqual([]);
      expect(supplicant.log.matching(/CTRL-EVENT-EAP-SUCCESS/)).toEqual([]);
    });

    it("authenticates with EAP-TLS and a client certificate", async () => {
      const { pki, supplicantNs } = await authenticator(lab());
      const client = pki.clients["sensor-1"]!;
      const started = performance.now();
      const supplicant = await startWpaSupplicant(supplicantNs, {
        interface: "eth0",
        network: {
          eap: "TLS",
          identity: "sensor-1",
          caCert: pki.caCert,
          clientCert: client.cert,
          privateKey: client.key,
        },
      });
      const status = await supplicant.waitForStatus({
        wpa_state: "COMPLETED",
        "EAP state": "SUCCESS",
      });
      console.log(`EAP-TLS completed in ${(performance.now() - started).toFixed(0)} ms`);
      expect(status["selectedMethod"]).toBe("13 (EAP-TLS)");
    });
  },
);
