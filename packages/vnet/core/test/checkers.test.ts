import { describe, expect, it } from "vitest";
import { internetCheckerService, lanCheckerService } from "../src/connectivity/checkers.js";
import type { ProbeRequest, ProbeResult } from "../src/connectivity/probe.js";
import { flushPromises } from "../src/testing.js";
import { fakeServiceContext } from "./helpers/service-context.js";

const address = {
  family: "inet",
  address: "10.0.0.2",
  prefix_length: 24,
  netmask: "255.255.255.0",
  scope: "universe",
};

function linkUp(h: ReturnType<typeof fakeServiceContext>) {
  h.table.put(["interface", "eth0", "lower_up"], true);
  h.routing.setRoute("eth0", [{ address: "10.0.0.2", prefix_length: 24 }], "10.0.0.1");
}

const connection = (h: ReturnType<typeof fakeServiceContext>) =>
  h.table.get(["interface", "eth0", "connection"]);

describe("internet checker", () => {
  it("stays disconnected without carrier or address; lan at once when both come; then internet", async () => {
    const h = fakeServiceContext();
    const service = await internetCheckerService(h.context, {});
    expect(connection(h)).toBe("disconnected");
    h.table.put(["interface", "eth0", "lower_up"], true);
    expect(connection(h)).toBe("disconnected"); // carrier but no address yet
    h.routing.setRoute("eth0", [{ address: "10.0.0.2", prefix_length: 24 }], "10.0.0.1");
    expect(connection(h)).toBe("lan");
    expect(h.probes).toEqual([]);
    await h.clock.advance(0);
    expect(connection(h)).toBe("internet");
    expect(h.probes).toEqual([
      {
        address: "203.0.113.10",
        port: 53,
        localAddress: "10.0.0.2",
        timeoutMs: 1_000,
        signal: expect.any(AbortSignal),
      },
    ]);
    await service.stop();
  });

  it("probes once a second while internet and declares lan after the third failure, ≈3 s after the last success", async () => {
    let reachable = true;
    const h = fakeServiceContext({
      hosts: [
        { host: "203.0.113.10", port: 53 },
        { host: "203.0.113.11", port: 443 },
        { host: "203.0.113.12", port: 80 },
      ],
      probe: (request) =>
        reachable
          ? Promise.resolve({ reachable: true, how: "connected" })
          : new Promise<ProbeResult>((resolve) =>
              h.clock.setTimeout(
                () => resolve({ reachable: false, reason: "timeout" }),
                request.timeoutMs,
              ),
            ),
    });
    const service = await internetCheckerService(h.context, {});
    linkUp(h);
    await h.clock.advance(0);
    expect(connection(h)).toBe("internet");
    await h.clock.advance(3_000);
    expect(h.probes.length).toBe(4); // one at once, then one per second
    reachable = false;
    const dark = h.clock.now();
    let lostAt: number | undefined;
    h.table.subscribe(["interface", "eth0", "connection"], (event) => {
      if (event.value === "lan") lostAt = h.clock.now();
    });
    await h.clock.advance(10_000);
    expect(connection(h)).toBe("lan");
    expect(lostAt! - dark).toBeLessThanOrEqual(3_000);
    // The follow-up round probed two other hosts in parallel.
    const followUp = h.probes.slice(5, 7).map((probe: ProbeRequest) => probe.address);
    expect(new Set(followUp).size).toBe(2);
    // Recovery: the next lan check (backing off) sees the host again.
    reachable = true;
    await h.clock.advance(10_000);
    expect(connection(h)).toBe("internet");
    await service.stop();
  });

  it("one slow host does not raise an alarm (a follow-up host answers)", async () => {
    const h = fakeServiceContext({
      hosts: [
        { host: "203.0.113.10", port: 53 },
        { host: "203.0.113.11", port: 53 },
      ],
      probe: async (request) =>
        request.address === "203.0.113.10"
          ? { reachable: false, reason: "timeout" }
          : { reachable: true, how: "connected" },
    });
    const service = await internetCheckerService(h.context, {});
    const statuses: unknown[] = [];
    h.table.subscribe(["interface", "eth0", "connection"], (event) => statuses.push(event.value));
    linkUp(h);
    await h.clock.advance(20_000);
    // Optimistic lan on link up, then internet, never back to lan.
    expect(statuses).toEqual(["lan", "internet"]);
    expect(h.probes.length).toBeGreaterThan(10);
    await service.stop();
  });

  it("reacts at once to carrier loss, without waiting for a probe", async () => {
    const h = fakeServiceContext();
    const service = await internetCheckerService(h.context, {});
    linkUp(h);
    await h.clock.advance(0);
    expect(connection(h)).toBe("internet");
    h.table.put(["interface", "eth0", "lower_up"], false);
    expect(connection(h)).toBe("disconnected");
    const probes = h.probes.length;
    await h.clock.advance(60_000);
    expect(h.probes.length).toBe(probes);
    h.table.put(["interface", "eth0", "lower_up"], true);
    expect(connection(h)).toBe("lan");
    await h.clock.advance(0);
    expect(connection(h)).toBe("internet");
    await service.stop();
  });

  it("application traffic counts as a success: no probe is sent", async () => {
    let traffic: number | undefined;
    const h = fakeServiceContext({ lastTrafficAt: () => traffic });
    const service = await internetCheckerService(h.context, {});
    linkUp(h);
    traffic = h.clock.now();
    await h.clock.advance(0);
    expect(connection(h)).toBe("internet");
    expect(h.probes).toEqual([]);
    // The app keeps talking: still no probes.
    for (let second = 0; second < 5; second++) {
      await h.clock.advance(1_000);
      traffic = h.clock.now();
    }
    expect(h.probes).toEqual([]);
    await service.stop();
  });

  it("skips hosts on the interface's own subnet (captive portals) and fails with none left", async () => {
    const h = fakeServiceContext({ hosts: [{ host: "10.0.0.53", port: 53 }] });
    const service = await internetCheckerService(h.context, {});
    linkUp(h);
    await h.clock.advance(5_000);
    expect(h.probes).toEqual([]);
    expect(connection(h)).toBe("lan");
    await service.stop();
  });

  it("uses the kernel's address when no route was recorded, and the per-service host list", async () => {
    const h = fakeServiceContext();
    const service = await internetCheckerService(h.context, {
      hosts: [{ host: "198.51.100.1", port: 8080 }],
    });
    h.table.put(["interface", "eth0", "addresses"], [address]);
    h.table.put(["interface", "eth0", "lower_up"], true);
    await h.clock.advance(0);
    expect(h.probes[0]).toMatchObject({
      address: "198.51.100.1",
      port: 8080,
      localAddress: "10.0.0.2",
    });
    await service.stop();
  });

  it("stops probing when stopped", async () => {
    const h = fakeServiceContext();
    const service = await internetCheckerService(h.context, {});
    linkUp(h);
    await h.clock.advance(0);
    await service.stop();
    const probes = h.probes.length;
    await h.clock.advance(10_000);
    await flushPromises();
    expect(h.probes.length).toBe(probes);
    expect(h.clock.pendingTimers()).toEqual([]);
  });
});

describe("lan checker", () => {
  it("lan with carrier and an address, disconnected otherwise, never internet", async () => {
    const h = fakeServiceContext();
    const service = await lanCheckerService(h.context, {});
    expect(connection(h)).toBe("disconnected");
    h.table.put(["interface", "eth0", "lower_up"], true);
    h.table.put(["interface", "eth0", "addresses"], [address]);
    expect(connection(h)).toBe("lan");
    h.table.delete(["interface", "eth0", "lower_up"]);
    expect(connection(h)).toBe("disconnected");
    await service.stop();
    h.table.put(["interface", "eth0", "lower_up"], true);
    expect(connection(h)).toBe("disconnected");
  });
});
