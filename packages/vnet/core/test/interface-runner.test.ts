import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RecordingCommandRunner } from "@runtime/command/testing";
import { DeviceError } from "@runtime/errors";
import { PropertyTable } from "@runtime/property-table";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_CONNECTIVITY_TIMING } from "../src/connectivity/check-logic.js";
import { NameResolver } from "../src/dns/name-resolver.js";
import type { Logger } from "../src/log.js";
import { InterfaceRunner } from "../src/machine/interface-runner.js";
import { BUILT_IN_STEPS } from "../src/machine/steps.js";
import { type RawConfig, rawConfig } from "../src/raw-config.js";
import { Routing } from "../src/routes/routing.js";
import type { Service, ServiceFactory, Technology } from "../src/technology.js";
import { createTechnologyContext } from "../src/technology-context.js";
import { FakeClock, flushPromises } from "../src/testing.js";

/** Polls (real time, 2 s deadline) until `check` holds: file I/O runs on real threads. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await flushPromises();
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "vnet-runner-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Harness {
  clock: FakeClock;
  table: PropertyTable;
  runner: RecordingCommandRunner;
  routing: Routing;
  events: string[];
  logs: string[];
  states: string[];
  technology: Technology;
  make(initialPresent?: string[]): InterfaceRunner;
  state(): unknown;
  reach(state: string): Promise<void>;
}

function harness(): Harness {
  const clock = new FakeClock();
  const table = new PropertyTable({ now: () => clock.now() });
  const events: string[] = [];
  const logs: string[] = [];
  const states: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: (message) => logs.push(`info ${message}`),
    warn: (message) => logs.push(`warn ${message}`),
    error: (message) => logs.push(`error ${message}`),
  };
  const runner = new RecordingCommandRunner().respondWith((argv) => {
    events.push(`run ${argv.join(" ")}`);
    return undefined;
  });
  table.subscribe(["interface", "eth0", "state"], (event) => {
    if (!event.deleted) states.push(String(event.value));
  });
  const routing = new Routing(table, { name: "none", update: () => {} }, logger);
  const recordingService =
    (name: string): ServiceFactory =>
    (context, options) => {
      events.push(`start ${name} ${JSON.stringify(options)}`);
      if (options.fail === "at-start") throw new Error("cannot start");
      const service: Service & { context: typeof context } = {
        context,
        stop: () => {
          events.push(`stop ${name}`);
        },
      };
      return service;
    };
  const technology: Technology = {
    type: "test",
    normalize: (config) => config,
    toRawConfig: (ifname, config) => rawConfig(ifname, config),
    async ioctl(_ifname, command, args, context) {
      if (command === "echo") return { args, service: context.service("checker") !== undefined };
      if (command === "wait") {
        await new Promise((_, reject) =>
          context.signal.addEventListener("abort", () => reject(new Error("aborted"))),
        );
      }
      throw new DeviceError("UNSUPPORTED", command);
    },
  };
  const nameServers = new NameResolver({
    table,
    logger,
    resolvConfPath: null,
    globalNameServers: [],
  });
  return {
    clock,
    table,
    runner,
    routing,
    events,
    logs,
    states,
    technology,
    state: () => table.get(["interface", "eth0", "state"]),
    reach: (state: string) =>
      until(() => table.get(["interface", "eth0", "state"]) === state, state),
    make(initialPresent = ["eth0"]) {
      routing.track("eth0");
      return new InterfaceRunner(
        "eth0",
        rawConfig("eth0", { type: "null", reason: "" }, { requiredIfnames: [] }),
        initialPresent,
        {
          table,
          runner,
          clock,
          logger,
          routing,
          nameServers,
          technologyContext: createTechnologyContext({ tmpDir: dir }),
          programs: {
            udhcpc: ["udhcpc"],
            udhcpd: ["udhcpd"],
            mkfifo: ["mkfifo"],
            dhclient: ["dhclient"],
          },
          sysClassNet: "/nonexistent/sys/class/net",
          connectivity: {
            timing: DEFAULT_CONNECTIVITY_TIMING,
            hosts: [],
            probe: async () => ({ reachable: false, reason: "test" }),
            lastTrafficAt: () => undefined,
          },
          steps: new Map(Object.entries(BUILT_IN_STEPS)),
          services: new Map([
            ["checker", recordingService("checker")],
            ["relay", recordingService("relay")],
          ]),
          technology: (type) => (type === "test" ? technology : undefined),
          serviceStopMillis: 1_000,
        },
      );
    },
  };
}

function recipe(name: string, fields: Partial<RawConfig> = {}): RawConfig {
  return rawConfig(
    "eth0",
    { type: "test", name },
    {
      retryMillis: 2_000,
      files: [{ path: join(dir, `${name}.conf`), content: `config ${name}\n`, mode: 0o600 }],
      cleanupFiles: [join(dir, `${name}.sock`)],
      upCommands: [
        { run: ["ip", "link", "set", "eth0", "up"] },
        {
          step: "routes.set",
          ifname: "eth0",
          subnets: [{ address: "10.0.0.2", prefix_length: 24 }],
          gateway: "10.0.0.1",
        },
      ],
      downCommands: [
        { step: "routes.clear", ifname: "eth0" },
        { runIgnoringErrors: ["ip", "link", "set", "eth0", "down"] },
      ],
      daemons: [{ id: "daemon", argv: ["daemon", "-f", name] }],
      services: [{ service: "relay", options: { n: 1 } }, { service: "checker" }],
      ...fields,
    },
  );
}

describe("InterfaceRunner (fake clock, recording runner)", () => {
  it("applies a recipe: cleanup, files, up commands, then daemons, then services", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    h.runner.respondWith((argv) => {
      if (argv[0] === "ip") h.events.push(`file exists: ${existsSync(join(dir, "a.conf"))}`);
      return undefined;
    });
    interfaceRunner.configure(recipe("a"));
    await h.reach("configured");
    await until(() => h.events.includes("start checker {}"), "services");
    expect(h.states).toEqual(["configured", "reconfiguring", "configuring", "configured"]);
    expect(h.events).toEqual([
      "file exists: true",
      "run ip link set eth0 up",
      'start relay {"n":1}',
      "start checker {}",
    ]);
    expect(h.runner.started.map((process) => process.argv.join(" "))).toEqual(["daemon -f a"]);
    expect(await readFile(join(dir, "a.conf"), "utf8")).toBe("config a\n");
    expect(h.routing.get("eth0")?.gateway).toBe("10.0.0.1");
    expect(h.table.get(["interface", "eth0", "type"])).toBe("test");
    expect(interfaceRunner.status()).toMatchObject({
      phase: "configured",
      services: ["relay", "checker"],
    });
  });

  it("reconfigures: services stop (newest first), daemons stop, down commands run, files go", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    interfaceRunner.configure(recipe("a"));
    await until(() => h.events.includes("start checker {}"), "services");
    h.events.length = 0;
    interfaceRunner.configure(recipe("b"));
    await until(() => h.events.includes("start checker {}"), "new services");
    expect(h.events).toEqual([
      "stop checker",
      "stop relay",
      "run ip link set eth0 down",
      "run ip link set eth0 up",
      'start relay {"n":1}',
      "start checker {}",
    ]);
    expect(h.runner.started[0]!.stopped).toBe(true);
    expect(existsSync(join(dir, "a.conf"))).toBe(false);
    expect(existsSync(join(dir, "b.conf"))).toBe(true);
    expect(h.states.slice(-3)).toEqual(["reconfiguring", "configuring", "configured"]);
  });

  it("the same config again does nothing", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    interfaceRunner.configure(recipe("a"));
    await until(() => h.events.includes("start checker {}"), "services");
    const before = [...h.events];
    const states = [...h.states];
    interfaceRunner.configure(recipe("a"));
    await flushPromises();
    expect(h.events).toEqual(before);
    expect(h.states).toEqual(states);
  });

  it("up commands that hang are killed at upCommandMillis; tear down; retry after retryMillis", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    h.runner.respond(["sleep"], { hang: true });
    interfaceRunner.configure(
      recipe("slow", { upCommands: [{ run: ["sleep", "100"] }], upCommandMillis: 3_000 }),
    );
    const attempts = () =>
      h.runner.commandLines().filter((line) => line.startsWith("sleep")).length;
    await until(() => attempts() === 1, "the up command");
    await h.clock.advance(2_999);
    expect(h.state()).toBe("configuring");
    await h.clock.advance(1);
    await h.reach("retrying");
    expect(h.logs.some((line) => line.includes("did not finish within 3000 ms"))).toBe(true);
    expect(h.events).toContain("run ip link set eth0 down");
    expect(existsSync(join(dir, "slow.conf"))).toBe(false);
    expect(attempts()).toBe(1);
    await h.clock.advance(1_999);
    expect(h.state()).toBe("retrying");
    await h.clock.advance(1);
    await until(() => attempts() === 2, "the retry");
    expect(h.state()).toBe("configuring");
  });

  it("down commands that hang are killed at downCommandMillis and the next recipe still comes up", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    h.runner.respond(["sleep"], { hang: true });
    interfaceRunner.configure(
      recipe("a", { downCommands: [{ run: ["sleep", "100"] }], downCommandMillis: 1_500 }),
    );
    await h.reach("configured");
    interfaceRunner.configure(recipe("b"));
    await until(() => h.runner.commandLines().includes("sleep 100"), "the down command");
    await h.clock.advance(1_499);
    expect(h.state()).toBe("reconfiguring");
    await h.clock.advance(1);
    await h.reach("configured");
    expect(existsSync(join(dir, "a.conf"))).toBe(false);
    expect(existsSync(join(dir, "b.conf"))).toBe(true);
  });

  it("a failing up command fails the bring-up; a failing runIgnoringErrors does not", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    h.runner.respond(["false"], { exitCode: 1, stderr: "nope" });
    interfaceRunner.configure(recipe("ok", { upCommands: [{ runIgnoringErrors: ["false"] }] }));
    await h.reach("configured");
    interfaceRunner.configure(
      recipe("bad", { upCommands: [{ run: ["false"] }, { run: ["never"] }] }),
    );
    await h.reach("retrying");
    expect(h.runner.commandLines()).not.toContain("never");
    expect(
      h.logs.some(
        (line) => line.includes("bring-up failed") && line.includes("exited with status 1"),
      ),
    ).toBe(true);
  });

  it("hotplug: the interface going away tears down; coming back brings up at once", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    interfaceRunner.configure(recipe("a"));
    await until(() => h.events.includes("start checker {}"), "services");
    interfaceRunner.presence("eth0", false);
    await h.reach("retrying");
    expect(h.events).toContain("stop checker");
    interfaceRunner.presence("eth0", true);
    await until(
      () => h.events.filter((event) => event.startsWith("start checker")).length === 2,
      "services again",
    );
    expect(h.state()).toBe("configured");
    expect(h.clock.pendingTimers()).toEqual([]);
  });

  it("a service that fails to start makes the interface tear down and retry", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    interfaceRunner.configure(
      recipe("a", { services: [{ service: "relay", options: { fail: "at-start" } }] }),
    );
    await h.reach("retrying");
    expect(
      h.logs.some((line) => line.includes("service relay failed to start: cannot start")),
    ).toBe(true);
  });

  it("an unknown service name makes the interface retry with a clear message", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    interfaceRunner.configure(recipe("a", { services: [{ service: "nope" }] }));
    await h.reach("retrying");
    expect(h.logs.some((line) => line.includes('no service factory named "nope"'))).toBe(true);
  });

  it("a daemon that keeps exiting past maxRestarts makes the interface tear down and retry", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    interfaceRunner.configure(
      recipe("a", {
        daemons: [{ id: "flaky", argv: ["flaky"], restart: { initialDelayMs: 1, maxRestarts: 1 } }],
      }),
    );
    await until(() => h.runner.started.length === 1, "the daemon");
    h.runner.started.at(-1)!.exit({ exitCode: 1, signal: null });
    await until(() => h.runner.started.length === 2, "the restart");
    h.runner.started.at(-1)!.exit({ exitCode: 1, signal: null });
    await h.reach("retrying");
    expect(h.logs.some((line) => line.includes("flaky keeps exiting"))).toBe(true);
  });

  it("ioctl runs while configured, is refused otherwise, and is cancelled by a reconfigure", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    await expect(interfaceRunner.ioctl("echo", [])).rejects.toMatchObject({ code: "UNSUPPORTED" });
    interfaceRunner.configure(recipe("a"));
    await until(() => h.events.includes("start checker {}"), "services");
    await expect(interfaceRunner.ioctl("echo", [1, 2])).resolves.toEqual({
      args: [1, 2],
      service: true,
    });
    await expect(interfaceRunner.ioctl("other", [])).rejects.toMatchObject({ code: "UNSUPPORTED" });
    const pending = interfaceRunner.ioctl("wait", []);
    interfaceRunner.configure(recipe("b"));
    await expect(pending).rejects.toMatchObject({ code: "CANCELLED" });
    expect(h.state()).toBe("reconfiguring");
    await expect(interfaceRunner.ioctl("echo", [])).rejects.toMatchObject({ code: "UNCONFIGURED" });
    await h.reach("configured");
  });

  it("a stopped service's late calls are ignored", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    interfaceRunner.configure(recipe("a"));
    await until(() => h.events.includes("start checker {}"), "services");
    let captured:
      | { routing: { setConnection(ifname: string, status: string, reason: string): void } }
      | undefined;
    const technologyIoctl = h.technology.ioctl!;
    h.technology.ioctl = async (ifname, command, args, context) => {
      captured = (context.service("checker") as unknown as { context: typeof captured }).context;
      return technologyIoctl(ifname, command, args, context);
    };
    await interfaceRunner.ioctl("echo", []);
    interfaceRunner.configure(recipe("b"));
    await until(
      () => h.events.filter((event) => event.startsWith("start checker")).length === 2,
      "services",
    );
    captured!.routing.setConnection("eth0", "internet", "late");
    expect(h.table.get(["interface", "eth0", "connection"])).toBe("disconnected");
  });

  it("stop tears everything down and removes state and type", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    interfaceRunner.configure(recipe("a"));
    await until(() => h.events.includes("start checker {}"), "services");
    await interfaceRunner.stop();
    expect(h.events.slice(-3)).toEqual(["stop checker", "stop relay", "run ip link set eth0 down"]);
    expect(h.runner.started.every((process) => process.stopped)).toBe(true);
    expect(h.table.has(["interface", "eth0", "state"])).toBe(false);
    expect(h.table.has(["interface", "eth0", "type"])).toBe(false);
    expect(existsSync(join(dir, "a.conf"))).toBe(false);
    expect(h.clock.pendingTimers()).toEqual([]);
  });

  it("an unknown step fails the bring-up", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    interfaceRunner.configure(
      recipe("a", { upCommands: [{ step: "no.such.step", ifname: "eth0" }] }),
    );
    await h.reach("retrying");
    expect(h.logs.some((line) => line.includes('no handler for step "no.such.step"'))).toBe(true);
  });

  it("only a configured interface is connected", async () => {
    const h = harness();
    const interfaceRunner = h.make();
    interfaceRunner.configure(recipe("a"));
    await h.reach("configured");
    h.routing.setConnection("eth0", "internet", "test");
    interfaceRunner.configure(recipe("b"));
    expect(h.table.get(["interface", "eth0", "connection"])).toBe("disconnected");
    await h.reach("configured");
  });
});
