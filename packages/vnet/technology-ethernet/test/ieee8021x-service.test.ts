// The ethernet.ieee8021x service over a stand-in control connection (the real one is exercised
// against wpa_supplicant and hostapd in test/integration/ieee8021x.test.ts).
import { EventEmitter } from "node:events";
import { PropertyTable } from "@runtime/property-table";
import type { Service, ServiceContext } from "@vnet/core";
import { flushPromises } from "@vnet/core/testing";
import { decodeEvent, parseStatus, type WpaControlOptions } from "@vnet/wpa-supplicant";
import { describe, expect, it } from "vitest";
import { createIeee8021xService, type EapControl, type EapStatus } from "../src/index.js";

/** Stands in for WpaControl: records requests, answers STATUS from a script, emits events. */
class StandInControl extends EventEmitter implements EapControl {
  readonly requests: string[] = [];
  statusText = "wpa_state=ASSOCIATED\nsuppPortStatus=Unauthorized\nEAP state=IDLE\n";
  closed = false;
  async enableNetwork(id: number): Promise<void> {
    this.requests.push(`ENABLE_NETWORK ${id}`);
  }
  async status() {
    this.requests.push("STATUS");
    return parseStatus(this.statusText);
  }
  async request(command: string): Promise<string> {
    this.requests.push(command);
    return "OK\n";
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  send(text: string): void {
    this.emit("event", decodeEvent(text));
  }
}

function harness(connect: (options: WpaControlOptions) => Promise<EapControl>) {
  const table = new PropertyTable();
  const logs: string[] = [];
  const failures: string[] = [];
  const controller = new AbortController();
  const context = {
    ifname: "eth0",
    id: "ethernet.ieee8021x",
    table,
    runner: { marker: "engine runner" },
    logger: {
      debug: (message: string) => logs.push(`debug ${message}`),
      info: (message: string) => logs.push(`info ${message}`),
      warn: (message: string) => logs.push(`warn ${message}`),
      error: (message: string) => logs.push(`error ${message}`),
    },
    signal: controller.signal,
    fail: (reason: string) => failures.push(reason),
  } as unknown as ServiceContext;
  const status = () => table.get<EapStatus>(["interface", "eth0", "eap_status"]);
  const start = async () => {
    const service = (await createIeee8021xService({ connect })(context, {
      ctrl_interface: "/tmp/vnet/wpa_supplicant",
      client_dir: "/tmp/vnet",
    })) as Service;
    await flushPromises();
    return service;
  };
  const stop = async (service: Service) => {
    controller.abort();
    await service.stop();
  };
  return { table, logs, failures, status, start, stop };
}

const successTexts = [
  "<3>CTRL-EVENT-EAP-STARTED EAP authentication started",
  "<3>CTRL-EVENT-EAP-STATUS status='accept proposed method' parameter='PEAP'",
  "<3>CTRL-EVENT-EAP-STATUS status='remote certificate verification' parameter='success'",
  "<3>CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully",
];

describe("ethernet.ieee8021x service", () => {
  it("connects with the recipe's paths and the engine's runner, enables the network, then reads STATUS", async () => {
    const control = new StandInControl();
    const seen: WpaControlOptions[] = [];
    const h = harness(async (options) => {
      seen.push(options);
      return control;
    });
    const service = await h.start();
    expect(seen).toEqual([
      expect.objectContaining({
        ctrlInterface: "/tmp/vnet/wpa_supplicant",
        ifname: "eth0",
        clientDir: "/tmp/vnet",
        runner: { marker: "engine runner" },
      }),
    ]);
    expect(control.requests).toEqual(["ENABLE_NETWORK 0", "STATUS"]);
    expect(h.status()).toEqual({
      status: "started",
      method: null,
      remote_certificate_verified: null,
      authorized: false,
      reason: null,
    });
    await h.stop(service);
    expect(control.closed).toBe(true);
    expect(h.table.has(["interface", "eth0", "eap_status"])).toBe(false);
  });

  it("publishes every step; success is logged with the method, failure with the reason", async () => {
    const control = new StandInControl();
    const h = harness(async () => control);
    const service = await h.start();
    const published: EapStatus[] = [];
    h.table.subscribe(["interface", "eth0", "eap_status"], (event) =>
      published.push(event.value as EapStatus),
    );
    for (const text of successTexts) control.send(text);
    // EAP-STARTED changes nothing yet (that is the initial state); unchanged values are not
    // published again.
    expect(
      published.map((state) => [state.status, state.method, state.remote_certificate_verified]),
    ).toEqual([
      ["started", "PEAP", null],
      ["started", "PEAP", true],
      ["success", "PEAP", true],
    ]);
    expect(published.at(-1)?.authorized).toBe(true);
    expect(h.logs).toContain("info eth0: 802.1X authentication succeeded (PEAP)");
    control.send("<3>CTRL-EVENT-EAP-STARTED EAP authentication started");
    control.send("<3>EAP-MSCHAPV2: failure message: 'FAILED' (retry not allowed, error 691)");
    control.send("<3>CTRL-EVENT-EAP-FAILURE EAP authentication failed");
    expect(h.status()).toMatchObject({ status: "failure", authorized: false });
    expect(h.logs).toContain(
      "warn eth0: 802.1X authentication failed: the authentication server rejected the identity or password (MSCHAPv2 error 691)",
    );
    await h.stop(service);
  });

  it("carrier loss de-authorizes; carrier back sends REAUTHENTICATE (wpa_supplicant does not notice)", async () => {
    const control = new StandInControl();
    const h = harness(async () => control);
    h.table.put(["interface", "eth0", "lower_up"], true);
    const service = await h.start();
    for (const text of successTexts) control.send(text);
    expect(h.status()?.authorized).toBe(true);
    h.table.put(["interface", "eth0", "lower_up"], false);
    expect(h.status()).toMatchObject({ status: "success", authorized: false });
    h.table.put(["interface", "eth0", "lower_up"], true);
    await flushPromises();
    expect(control.requests.at(-1)).toBe("REAUTHENTICATE");
    for (const text of successTexts) control.send(text);
    expect(h.status()?.authorized).toBe(true);
    await h.stop(service);
  });

  it("the first carrier-up after start sends nothing (wpa_supplicant starts the first authentication)", async () => {
    const control = new StandInControl();
    const h = harness(async () => control);
    const service = await h.start();
    h.table.put(["interface", "eth0", "lower_up"], true);
    await flushPromises();
    expect(control.requests).toEqual(["ENABLE_NETWORK 0", "STATUS"]);
    await h.stop(service);
  });

  it("after wpa_supplicant restarted: enables the network again and takes its STATUS", async () => {
    const control = new StandInControl();
    const h = harness(async () => control);
    const service = await h.start();
    for (const text of successTexts) control.send(text);
    control.emit("disconnected", new Error("socket gone"));
    expect(h.logs).toContain("warn eth0: lost wpa_supplicant: socket gone");
    control.emit("reconnected");
    await flushPromises();
    expect(control.requests.slice(-2)).toEqual(["ENABLE_NETWORK 0", "STATUS"]);
    // The new process has not authenticated yet: STATUS says so, DHCP must wait again.
    expect(h.status()).toMatchObject({ status: "started", authorized: false });
    await h.stop(service);
  });

  it("STATUS after attaching can already say SUCCESS (authentication raced the connection)", async () => {
    const control = new StandInControl();
    control.statusText =
      "wpa_state=COMPLETED\nsuppPortStatus=Authorized\nEAP state=SUCCESS\nselectedMethod=13 (EAP-TLS)\n";
    const h = harness(async () => control);
    const service = await h.start();
    expect(h.status()).toMatchObject({ status: "success", method: "TLS", authorized: true });
    await h.stop(service);
  });

  it("a control socket that never answers makes the engine tear down and retry", async () => {
    const h = harness(async () => {
      throw new Error("wpa_supplicant did not answer within 10000 ms");
    });
    const service = await h.start();
    expect(h.failures).toEqual([
      "wpa_supplicant's control socket did not answer: wpa_supplicant did not answer within 10000 ms",
    ]);
    await h.stop(service);
  });

  it("stopped while connecting: the late connection is closed, nothing is published after", async () => {
    const control = new StandInControl();
    let resolve: (control: EapControl) => void = () => {};
    const h = harness(() => new Promise<EapControl>((done) => (resolve = done)));
    const service = await h.start();
    const stopping = h.stop(service);
    resolve(control);
    await stopping;
    expect(control.closed).toBe(true);
    expect(control.requests).toEqual([]);
    expect(h.table.has(["interface", "eth0", "eap_status"])).toBe(false);
    expect(h.failures).toEqual([]);
  });

  it("needs its options", () => {
    const h = harness(async () => new StandInControl());
    expect(() =>
      createIeee8021xService()({} as ServiceContext, { ctrl_interface: "/tmp/x" }),
    ).toThrow("ethernet.ieee8021x needs ctrl_interface and client_dir options");
    expect(h.failures).toEqual([]);
  });
});
