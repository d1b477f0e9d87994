// The same contract for both transports, against the real wpa_supplicant 2.10 (-D wired) and a
// real 802.1X authenticator (hostapd driver=wired with its internal EAP server) across a veth.
import { existsSync, readdirSync } from "node:fs";
import { describeIntegration, type Lab, useLab, waitFor } from "@testing/netlab";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type WpaControl, WpaControlError, type WpaEvent } from "../../src/index.js";
import {
  connectClient,
  type Port,
  peapNetwork,
  startSupplicant,
  switchPort,
  tlsNetwork,
} from "./fixtures.js";

function recordEvents(client: WpaControl): WpaEvent[] {
  const events: WpaEvent[] = [];
  client.on("event", (event) => events.push(event));
  return events;
}

function once(client: WpaControl, name: "disconnected" | "reconnected"): Promise<unknown> {
  return new Promise((resolve) => client.once(name, (...args: unknown[]) => resolve(args[0])));
}

const TOOLS = ["wpa_supplicant", "wpa_cli", "hostapd", "hostapd_cli", "openssl"];

for (const transport of ["unix-dgram", "wpa_cli"] as const) {
  describeIntegration(
    `WpaControl over ${transport} against wpa_supplicant and hostapd`,
    { tools: TOOLS },
    () => {
      // A fresh lab per test: hostapd holds a port that failed authentication for 60 s.
      const currentLab = useLab(`control-${transport}`, { per: "test" });
      let lab: Lab;
      let port: Port;
      const clients: WpaControl[] = [];

      beforeEach(async () => {
        lab = currentLab();
        port = await switchPort(lab);
      });
      // Registered after useLab's hook, so it runs first: clients close before the lab goes.
      afterEach(async () => {
        for (const client of clients.splice(0)) await client.close();
        // Neither transport leaves a client socket behind, even after requests killed at a limit.
        expect(readdirSync(lab.dir).filter((name) => name.startsWith("wpa_c"))).toEqual([]);
      });

      async function connect(
        options: Parameters<typeof connectClient>[3] = {},
      ): Promise<WpaControl> {
        const client = await connectClient(lab, port, transport, options);
        clients.push(client);
        expect(client.transport).toBe(transport);
        return client;
      }

      it("authenticates with PEAP/MSCHAPv2 and reports every step", async () => {
        await startSupplicant(lab, port, peapNetwork(port.pki));
        const client = await connect();
        const events = recordEvents(client);
        expect((await client.status()).wpa_state).not.toBe("COMPLETED");
        expect(await client.listNetworks()).toEqual([
          { id: 0, ssid: "", bssid: "any", flags: ["DISABLED"] },
        ]);

        await client.enableNetwork(0);
        await client.waitForEvent((event) => event.kind === "connected", { timeoutMs: 45_000 });
        const kinds = events.map((event) => event.kind);
        expect(kinds).toContain("eap-started");
        expect(kinds.indexOf("eap-started")).toBeLessThan(kinds.indexOf("eap-success"));
        expect(events.find((event) => event.kind === "eap-method")).toMatchObject({
          method: "PEAP",
        });
        expect(
          events
            .filter((event) => event.kind === "eap-status")
            .map((event) => [event.status, event.parameter]),
        ).toEqual(
          expect.arrayContaining([
            ["started", ""],
            ["accept proposed method", "PEAP"],
            ["remote certificate verification", "success"],
            ["completion", "success"],
          ]),
        );
        expect(kinds).not.toContain("eap-failure");
        const status = await client.status();
        expect(status).toMatchObject({
          wpa_state: "COMPLETED",
          eap_state: "SUCCESS",
          supp_port_status: "Authorized",
          selected_method: "25 (EAP-PEAP)",
        });
      });

      it("reports EAP-FAILURE for a wrong password and never completes", async () => {
        await startSupplicant(lab, port, peapNetwork(port.pki, "wrong password"));
        const client = await connect();
        const events = recordEvents(client);
        await client.enableNetwork(0);
        await client.waitForEvent((event) => event.kind === "eap-failure", { timeoutMs: 45_000 });
        const status = await client.status();
        expect(status.wpa_state).not.toBe("COMPLETED");
        expect(status.eap_state).toBe("FAILURE");
        expect(status.supp_port_status).toBe("Unauthorized");
        expect(events.map((event) => event.kind)).not.toContain("eap-success");
        expect(events).toContainEqual(
          expect.objectContaining({
            kind: "eap-status",
            status: "completion",
            parameter: "failure",
          }),
        );
      });

      it("authenticates with EAP-TLS and certificates made by openssl", async () => {
        await startSupplicant(lab, port, tlsNetwork(port.pki));
        const client = await connect();
        const events = recordEvents(client);
        await client.enableNetwork(0);
        await client.waitForEvent((event) => event.kind === "eap-success", { timeoutMs: 45_000 });
        expect(events.find((event) => event.kind === "eap-method")).toMatchObject({
          method: "TLS",
        });
        await waitFor(async () => (await client.status()).wpa_state === "COMPLETED", {
          description: "COMPLETED",
        });
        expect((await client.status()).selected_method).toBe("13 (EAP-TLS)");
      });

      it("reconnects and re-attaches by itself when the daemon is killed and restarted", async () => {
        const first = await startSupplicant(lab, port, peapNetwork(port.pki));
        const client = await connect({ keepAliveIntervalMs: 200, requestTimeoutMs: 1_000 });
        const disconnected = once(client, "disconnected");
        await first.daemon.stop({ signal: "SIGKILL" });
        expect(await disconnected).toBeInstanceOf(WpaControlError);
        expect(client.state).toBe("disconnected");
        await expect(client.status()).rejects.toMatchObject({ code: "DISCONNECTED" });

        const reconnected = once(client, "reconnected");
        await startSupplicant(lab, port, peapNetwork(port.pki));
        await reconnected;
        expect(client.state).toBe("connected");
        // Events flow again: the new daemon has us as a monitor.
        const events = recordEvents(client);
        await client.enableNetwork(0);
        await client.waitForEvent((event) => event.kind === "eap-success", { timeoutMs: 45_000 });
        expect(events.map((event) => event.kind)).toContain("eap-started");
      });

      it("sees CTRL-EVENT-TERMINATING on a clean stop and reconnects to the successor", async () => {
        const first = await startSupplicant(lab, port, peapNetwork(port.pki));
        const client = await connect();
        const events = recordEvents(client);
        const disconnected = once(client, "disconnected");
        await first.daemon.stop({ signal: "SIGTERM" });
        expect(((await disconnected) as Error).message).toMatch(/terminating|lost|exited/);
        expect(events.map((event) => event.kind)).toContain("terminating");
        const reconnected = once(client, "reconnected");
        await startSupplicant(lab, port, peapNetwork(port.pki));
        await reconnected;
        expect(await client.ping()).toBe(true);
      });

      it("times out a request to a stopped daemon and carries on after SIGCONT", async () => {
        const { daemon } = await startSupplicant(lab, port, peapNetwork(port.pki));
        const client = await connect({ requestTimeoutMs: 500 });
        process.kill(daemon.pid!, "SIGSTOP");
        try {
          const stuck = client.request("STATUS");
          const queued = [client.ping(), client.listNetworks()];
          await expect(stuck).rejects.toMatchObject({ code: "TIMEOUT", command: "STATUS" });
          // Let the queue move on while the daemon is still stopped: these time out too...
          const settled = await Promise.allSettled(queued);
          expect(settled.map((result) => result.status)).toEqual(["rejected", "rejected"]);
          const later = [client.ping(), client.status()];
          process.kill(daemon.pid!, "SIGCONT");
          // ...and the ones sent after SIGCONT get their own answers, not stale ones.
          const [pong, status] = await Promise.all(later);
          expect(pong).toBe(true);
          expect((status as { wpa_state: string }).wpa_state).toBeTypeOf("string");
          expect(await client.listNetworks()).toHaveLength(1);
          expect(client.state).toBe("connected");
        } finally {
          process.kill(daemon.pid!, "SIGCONT");
        }
      });

      it("notices a daemon that stopped answering by its keep-alive PING", async () => {
        const { daemon } = await startSupplicant(lab, port, peapNetwork(port.pki));
        const client = await connect({ keepAliveIntervalMs: 200, requestTimeoutMs: 300 });
        const disconnected = once(client, "disconnected");
        process.kill(daemon.pid!, "SIGSTOP");
        try {
          expect(((await disconnected) as Error).message).toMatch(/keep-alive PING failed/);
          const reconnected = once(client, "reconnected");
          process.kill(daemon.pid!, "SIGCONT");
          await reconnected;
          expect(await client.ping()).toBe(true);
        } finally {
          process.kill(daemon.pid!, "SIGCONT");
        }
      });

      it("fails to connect with UNREACHABLE when there is no daemon", async () => {
        await expect(connect({ connectTimeoutMs: 300 })).rejects.toMatchObject({
          code: "UNREACHABLE",
        });
      });
    },
  );
}

describeIntegration("unix-dgram transport housekeeping", { tools: TOOLS }, () => {
  const currentLab = useLab("housekeeping", { per: "test" });
  let lab: Lab;
  beforeEach(() => {
    lab = currentLab();
  });

  it("binds its client socket in clientDir and removes it on close", async () => {
    const port = await switchPort(lab);
    await startSupplicant(lab, port, peapNetwork(port.pki));
    const client = await connectClient(lab, port, "unix-dgram");
    const sockets = readdirSync(lab.dir).filter((name) =>
      name.startsWith(`wpa_ctrl_${process.pid}-`),
    );
    expect(sockets).toHaveLength(1);
    await client.close();
    expect(existsSync(`${lab.dir}/${sockets[0]}`)).toBe(false);
  });

  it("refuses secrets over wpa_cli (argv is public) but sends them over unix-dgram", async () => {
    const port = await switchPort(lab);
    await startSupplicant(lab, port, peapNetwork(port.pki));
    const viaCli = await connectClient(lab, port, "wpa_cli");
    await expect(viaCli.setNetwork(0, "password", "new secret")).rejects.toMatchObject({
      code: "INSECURE_TRANSPORT",
      command: "SET_NETWORK 0 password ****",
    });
    await viaCli.setNetwork(0, "identity", "bob");
    await viaCli.close();
    const direct = await connectClient(lab, port, "unix-dgram");
    await direct.setNetwork(0, "password", "new secret");
    expect(await direct.getNetwork(0, "identity")).toBe('"bob"');
    await direct.close();
  });
});
