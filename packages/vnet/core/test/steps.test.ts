import { RecordingCommandRunner } from "@runtime/command/testing";
import { PropertyTable } from "@runtime/property-table";
import { describe, expect, it } from "vitest";
import { NameResolver } from "../src/dns/name-resolver.js";
import { silentLogger } from "../src/log.js";
import { BUILT_IN_STEPS } from "../src/machine/steps.js";
import type { StepCommand } from "../src/raw-config.js";
import { Routing } from "../src/routes/routing.js";
import type { StepContext } from "../src/technology.js";

function stepContext() {
  const table = new PropertyTable();
  const nameServers = new NameResolver({
    table,
    logger: silentLogger,
    resolvConfPath: null,
    globalNameServers: [],
  });
  const context: StepContext = {
    ifname: "eth0",
    table,
    runner: new RecordingCommandRunner(),
    logger: silentLogger,
    routing: new Routing(table, { name: "none", update: () => {} }, silentLogger),
    nameServers,
    signal: new AbortController().signal,
  };
  const run = async (step: StepCommand) => {
    await BUILT_IN_STEPS[step.step]!(step, context);
    await nameServers.settled();
  };
  return { table, run };
}

describe("dns steps with a source", () => {
  it("dns.set/dns.clear without a source are IPv4's; with one, only that source changes", async () => {
    const { table, run } = stepContext();
    await run({ step: "dns.set", ifname: "eth0", domain: null, name_servers: ["10.0.0.1"] });
    await run({
      step: "dns.set",
      ifname: "eth0",
      domain: null,
      name_servers: ["fd00::53"],
      source: "ipv6",
    });
    expect(table.get(["name_servers"])).toEqual([
      { address: "10.0.0.1", from: ["eth0"] },
      { address: "fd00::53", from: ["eth0"] },
    ]);
    await run({ step: "dns.clear", ifname: "eth0", source: "ipv6" });
    expect(table.get(["name_servers"])).toEqual([{ address: "10.0.0.1", from: ["eth0"] }]);
    await run({ step: "dns.clear", ifname: "eth0" });
    expect(table.get(["name_servers"])).toEqual([]);
  });

  it("a source that is not a non-empty string fails the step", async () => {
    const { run } = stepContext();
    await expect(run({ step: "dns.clear", ifname: "eth0", source: "" })).rejects.toThrow(
      "source must be a non-empty string",
    );
    await expect(
      run({ step: "dns.set", ifname: "eth0", domain: null, name_servers: [], source: 4 }),
    ).rejects.toThrow("source must be a non-empty string");
  });
});
