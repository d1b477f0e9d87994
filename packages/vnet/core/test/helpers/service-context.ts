import { RecordingCommandRunner } from "@runtime/command/testing";
import { PropertyTable } from "@runtime/property-table";
import {
  type ConnectivityTiming,
  DEFAULT_CONNECTIVITY_TIMING,
} from "../../src/connectivity/check-logic.js";
import type { InternetHost, ProbeFunction, ProbeRequest } from "../../src/connectivity/probe.js";
import type { Logger } from "../../src/log.js";
import type { EventChannel } from "../../src/notify/event-channel.js";
import type { EventRecord } from "../../src/notify/script.js";
import { Routing } from "../../src/routes/routing.js";
import type { ServiceContext } from "../../src/technology.js";
import { createTechnologyContext } from "../../src/technology-context.js";
import { FakeClock } from "../../src/testing.js";

/** An event channel the test feeds directly (stands in for the FIFO and the notify script). */
export class FakeEventChannel implements EventChannel {
  private readonly listeners = new Set<(record: EventRecord) => void>();
  closed = false;
  constructor(readonly path: string) {}
  onRecord(listener: (record: EventRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(record: EventRecord): void {
    for (const listener of this.listeners) listener(record);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

export interface FakeContextOptions {
  timing?: Partial<ConnectivityTiming>;
  hosts?: InternetHost[];
  probe?: ProbeFunction;
  lastTrafficAt?: () => number | undefined;
}

/** A service context over fakes: fake clock, recording runner, real table and routing facts. */
export function fakeServiceContext(options: FakeContextOptions = {}) {
  const clock = new FakeClock();
  const table = new PropertyTable({ now: () => clock.now() });
  const runner = new RecordingCommandRunner();
  const logs: string[] = [];
  const logger: Logger = {
    debug: (message) => logs.push(`debug ${message}`),
    info: (message) => logs.push(`info ${message}`),
    warn: (message) => logs.push(`warn ${message}`),
    error: (message) => logs.push(`error ${message}`),
  };
  const routing = new Routing(table, { name: "none", update: () => {} }, logger);
  routing.track("eth0");
  const probes: ProbeRequest[] = [];
  const channels: FakeEventChannel[] = [];
  const nameServerCalls: string[] = [];
  const failures: string[] = [];
  const controller = new AbortController();
  const context: ServiceContext = {
    ifname: "eth0",
    id: "test",
    table,
    runner,
    clock,
    logger,
    technology: createTechnologyContext({ tmpDir: "/tmp/vnet-test" }),
    programs: {
      udhcpc: ["udhcpc"],
      udhcpd: ["udhcpd"],
      mkfifo: ["mkfifo"],
      dhclient: ["dhclient"],
    },
    sysClassNet: "/nonexistent/sys/class/net",
    routing,
    nameServers: {
      setup: (ifname, domain, servers, source) =>
        nameServerCalls.push(
          `setup ${ifname} ${domain} ${servers.join(",")}${source ? ` [${source}]` : ""}`,
        ),
      clear: (ifname, source) =>
        nameServerCalls.push(`clear ${ifname}${source ? ` [${source}]` : ""}`),
    },
    connectivity: {
      timing: { ...DEFAULT_CONNECTIVITY_TIMING, ...options.timing },
      hosts: options.hosts ?? [{ host: "203.0.113.10", port: 53 }],
      probe: async (request) => {
        probes.push(request);
        return options.probe ? options.probe(request) : { reachable: true, how: "connected" };
      },
      lastTrafficAt: options.lastTrafficAt ?? (() => undefined),
    },
    signal: controller.signal,
    openEventChannel: async (name) => {
      const channel = new FakeEventChannel(`/tmp/vnet-test/${name}.eth0.fifo`);
      channels.push(channel);
      return channel;
    },
    fail: (reason) => failures.push(reason),
  };
  return {
    context,
    clock,
    table,
    runner,
    routing,
    probes,
    channels,
    nameServerCalls,
    failures,
    logs,
    controller,
  };
}
