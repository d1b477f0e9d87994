import { RecordingCommandRunner } from "@runtime/command/testing";
import { PropertyTable } from "@runtime/property-table";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../src/log.js";
import {
  availableInterfaces,
  DefaultRouteOwner,
  desiredDefaultRoutes,
} from "../src/routes/default-route-owner.js";
import { defaultRouteMetric, interfaceKind, interfaceWeight } from "../src/routes/metric.js";
import { bestConnection, type RouteOwner, Routing } from "../src/routes/routing.js";
import type { InterfaceRouting } from "../src/technology.js";

describe("default metric (VintageNet's DefaultMetric)", () => {
  it("guesses kinds and weights from names", () => {
    expect(
      ["eth0", "enp6s0", "wlan1", "wlp2s0", "ra0", "ppp0", "wwan0", "lo", "tap3", "usb0"].map(
        interfaceKind,
      ),
    ).toEqual([
      "ethernet",
      "ethernet",
      "wifi",
      "wifi",
      "wifi",
      "mobile",
      "mobile",
      "local",
      "local",
      "unknown",
    ]);
    expect(["eth0", "eth1", "wlan0", "enp6s0", "foo"].map(interfaceWeight)).toEqual([
      0, 1, 0, 0, 0,
    ]);
  });

  it("orders internet before lan, wired before WiFi before cellular before others", () => {
    expect(defaultRouteMetric("eth0", "internet")).toBe(10);
    expect(defaultRouteMetric("wlan0", "internet")).toBe(20);
    expect(defaultRouteMetric("ppp0", "internet")).toBe(30);
    expect(defaultRouteMetric("usb0", "internet")).toBe(40);
    expect(defaultRouteMetric("eth1", "lan")).toBe(51);
    expect(defaultRouteMetric("wlan0", "lan")).toBe(60);
    expect(defaultRouteMetric("eth0", "disconnected")).toBeUndefined();
  });
});

const routing = (fields: Partial<InterfaceRouting>): InterfaceRouting => ({
  subnets: [{ address: "10.0.0.2", prefix_length: 24 }],
  gateway: "10.0.0.1",
  connection: "internet",
  ...fields,
});

describe("desiredDefaultRoutes and availableInterfaces", () => {
  it("one route per connected interface with a gateway; unique metrics", () => {
    const facts = new Map([
      ["eth0", routing({})],
      [
        "enp6s0",
        routing({
          gateway: "192.168.1.1",
          subnets: [{ address: "192.168.1.5", prefix_length: 24 }],
        }),
      ],
      ["wlan0", routing({ connection: "lan" })],
      ["usb0", routing({ gateway: null, connection: "lan" })],
      ["eth2", routing({ connection: "disconnected" })],
    ]);
    expect([...desiredDefaultRoutes(facts, defaultRouteMetric)]).toEqual([
      ["enp6s0", { gateway: "192.168.1.1", family: "inet", metric: 10 }],
      ["eth0", { gateway: "10.0.0.1", family: "inet", metric: 11 }],
      ["wlan0", { gateway: "10.0.0.1", family: "inet", metric: 60 }],
    ]);
    expect(availableInterfaces(facts, defaultRouteMetric)).toEqual([
      "enp6s0",
      "eth0",
      "wlan0",
      "usb0",
    ]);
  });

  it("bestConnection", () => {
    expect(bestConnection([])).toBe("disconnected");
    expect(bestConnection(["lan", "disconnected"])).toBe("lan");
    expect(bestConnection(["lan", "internet"])).toBe("internet");
  });
});

describe("Routing with the default route owner", () => {
  async function setup() {
    const table = new PropertyTable();
    const runner = new RecordingCommandRunner().respond(
      ["ip", "-4", "route", "del", "default", "dev"],
      { exitCode: 2 },
    );
    const owner = new DefaultRouteOwner();
    owner.start({ table, runner, logger: silentLogger });
    const state = new Routing(table, owner, silentLogger);
    return { table, runner, state };
  }

  it("publishes connections, installs and moves the default route as status changes", async () => {
    const { table, runner, state } = await setup();
    state.track("eth0");
    expect(table.get(["interface", "eth0", "connection"])).toBe("disconnected");
    expect(table.get(["connection"])).toBe("disconnected");
    state.setRoute("eth0", [{ address: "10.0.0.2", prefix_length: 24 }], "10.0.0.1");
    state.setConnection("eth0", "lan", "test");
    await state.settled();
    expect(runner.commandLines()).toEqual([
      "ip -4 route del default dev eth0",
      "ip -4 route replace default via 10.0.0.1 dev eth0 metric 50",
    ]);
    expect(table.get(["available_interfaces"])).toEqual(["eth0"]);
    state.setConnection("eth0", "internet", "probe answered");
    await state.settled();
    // Make before break: the new route first, so there is always a default route.
    expect(runner.commandLines().slice(2)).toEqual([
      "ip -4 route replace default via 10.0.0.1 dev eth0 metric 10",
      "ip -4 route del default via 10.0.0.1 dev eth0 metric 50",
    ]);
    expect(table.get(["connection"])).toBe("internet");
    state.clearRoute("eth0");
    await state.settled();
    expect(runner.commandLines().at(-1)).toBe(
      "ip -4 route del default via 10.0.0.1 dev eth0 metric 10",
    );
    expect(table.get(["interface", "eth0", "connection"])).toBe("disconnected");
    expect(table.get(["available_interfaces"])).toEqual([]);
  });

  it("a DHCP renewal with the same subnets and gateway changes nothing (no bounce)", async () => {
    const { runner, state } = await setup();
    state.track("eth0");
    state.setRoute("eth0", [{ address: "10.0.0.2", prefix_length: 24 }], "10.0.0.1");
    state.setConnection("eth0", "internet", "ok");
    await state.settled();
    const before = runner.calls.length;
    let notified = 0;
    state.onChange("eth0", () => notified++);
    state.setRoute("eth0", [{ address: "10.0.0.2", prefix_length: 24 }], "10.0.0.1");
    state.setConnection("eth0", "internet", "still ok");
    await state.settled();
    expect(runner.calls.length).toBe(before);
    expect(notified).toBe(0);
  });

  it("hands the owner every change in order, one call at a time, newest state per interface", async () => {
    const table = new PropertyTable();
    const seen: Array<[string, string | undefined]> = [];
    let active = 0;
    const owner: RouteOwner = {
      name: "recording",
      async update(ifname, facts) {
        active++;
        expect(active).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 2));
        seen.push([ifname, facts?.connection]);
        active--;
      },
    };
    const state = new Routing(table, owner, silentLogger);
    // Changes made while the owner is busy collapse into the newest state per interface.
    state.track("eth0");
    state.setConnection("eth0", "lan", "a");
    state.setConnection("eth0", "internet", "b");
    state.track("wlan0");
    state.forget("eth0");
    await state.settled();
    expect(seen).toEqual([
      ["eth0", undefined],
      ["wlan0", "disconnected"],
    ]);
    // One at a time and in order when they come apart.
    seen.length = 0;
    state.track("eth0");
    await state.settled();
    state.setConnection("eth0", "lan", "c");
    await state.settled();
    state.setConnection("wlan0", "internet", "d");
    await state.settled();
    expect(seen).toEqual([
      ["eth0", "disconnected"],
      ["eth0", "lan"],
      ["wlan0", "internet"],
    ]);
    state.forget("eth0");
    await state.settled();
    expect(table.has(["interface", "eth0", "connection"])).toBe(false);
  });
});

describe("Routing re-entrancy", () => {
  it("a listener that changes facts from inside a notification never reaches the owner out of order", async () => {
    const table = new PropertyTable();
    const seen: Array<string | undefined> = [];
    const owner: RouteOwner = {
      name: "recording",
      update: (_ifname, facts) => {
        seen.push(facts ? `${facts.connection}/${facts.subnets.length}` : undefined);
      },
    };
    const state = new Routing(table, owner, silentLogger);
    state.track("eth0");
    await state.settled();
    // Like a checker: an address appears, so it reports lan right away, inside the notification.
    state.onChange("eth0", (facts) => {
      if (facts && facts.subnets.length > 0 && facts.connection === "disconnected") {
        state.setConnection("eth0", "lan", "address");
      }
    });
    state.setRoute("eth0", [{ address: "10.0.0.2", prefix_length: 24 }], "10.0.0.1");
    await state.settled();
    expect(seen.at(-1)).toBe("lan/1");
    expect(state.get("eth0")?.connection).toBe("lan");
    expect(table.get(["interface", "eth0", "connection"])).toBe("lan");
  });
});

describe("DefaultRouteOwner edge cases", () => {
  async function owner() {
    const table = new PropertyTable();
    const runner = new RecordingCommandRunner().respond(
      ["ip", "-4", "route", "del", "default", "dev"],
      { exitCode: 2 },
    );
    const routeOwner = new DefaultRouteOwner();
    routeOwner.start({ table, runner, logger: silentLogger });
    await routeOwner.update("eth0", routing({ connection: "lan" }));
    runner.calls.length = 0;
    return { table, runner, routeOwner };
  }

  it("a new gateway at the same metric is replaced in place, not deleted afterwards", async () => {
    const { runner, routeOwner } = await owner();
    await routeOwner.update("eth0", routing({ connection: "lan", gateway: "10.0.0.254" }));
    expect(runner.commandLines()).toEqual([
      "ip -4 route replace default via 10.0.0.254 dev eth0 metric 50",
    ]);
  });

  it("a failed replacement keeps the old route", async () => {
    const { runner, routeOwner } = await owner();
    runner.respond(["ip", "-4", "route", "replace"], {
      exitCode: 2,
      stderr: "Nexthop has invalid gateway",
    });
    await routeOwner.update("eth0", routing({ connection: "internet" }));
    expect(runner.commandLines()).toEqual([
      "ip -4 route replace default via 10.0.0.1 dev eth0 metric 10",
    ]);
  });

  it("stop removes what it installed and its property", async () => {
    const { table, runner, routeOwner } = await owner();
    await routeOwner.stop();
    expect(runner.commandLines()).toEqual([
      "ip -4 route del default via 10.0.0.1 dev eth0 metric 50",
    ]);
    expect(table.has(["available_interfaces"])).toBe(false);
  });
});
