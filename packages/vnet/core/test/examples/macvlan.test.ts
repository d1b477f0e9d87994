import { readFileSync } from "node:fs";
import { ValidationError } from "@runtime/errors";
import { createTechnologyContext } from "@vnet/core";
import { describe, expect, it } from "vitest";
import { macvlanTechnology } from "../../examples/macvlan.js";

const context = createTechnologyContext({ hostname: "device" });

describe("example technology: macvlan (docs/writing-a-technology.md)", () => {
  it("normalizes: defaults filled, MAC lower-cased, IPv4 through core's helper", () => {
    expect(macvlanTechnology.normalize({ type: "macvlan", parent: "eth0" })).toEqual({
      type: "macvlan",
      parent: "eth0",
      mode: "bridge",
      ipv4: { method: "dhcp" },
    });
    expect(
      macvlanTechnology.normalize({
        type: "macvlan",
        parent: "eth0",
        mac_address: "02:AA:00:00:00:01",
        mode: "private",
      }),
    ).toMatchObject({ mac_address: "02:aa:00:00:00:01", mode: "private" });
  });

  it("rejects bad input with field, value and reason", () => {
    const issue = (config: Record<string, unknown>) => {
      try {
        macvlanTechnology.normalize({ type: "macvlan", ...config });
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).issues.map(({ path, value }) => [path, value]);
      }
      return [];
    };
    expect(issue({})).toEqual([["parent", undefined]]);
    expect(issue({ parent: "eth0", mode: "fast" })).toEqual([["mode", "fast"]]);
    expect(issue({ parent: "eth0", mac_address: "nope", colour: "red" })).toEqual([
      ["colour", "red"],
      ["mac_address", "nope"],
    ]);
    expect(issue({ parent: "eth0", ipv4: { method: "static" } })).toEqual([
      ["ipv4.address", undefined],
      ["ipv4.prefix_length", undefined],
    ]);
  });

  it("builds the whole recipe (snapshot as data)", () => {
    const config = macvlanTechnology.normalize({
      type: "macvlan",
      parent: "eth0",
      mac_address: "02:00:00:00:00:01",
    });
    expect(macvlanTechnology.toRawConfig("mv0", config, context)).toEqual({
      ifname: "mv0",
      type: "macvlan",
      sourceConfig: config,
      requiredIfnames: ["eth0"],
      retryMillis: 30_000,
      files: [],
      cleanupFiles: [],
      upCommands: [
        { runIgnoringErrors: ["ip", "link", "del", "mv0"] },
        {
          run: [
            "ip",
            "link",
            "add",
            "link",
            "eth0",
            "name",
            "mv0",
            "address",
            "02:00:00:00:00:01",
            "type",
            "macvlan",
            "mode",
            "bridge",
          ],
        },
        { run: ["ip", "link", "set", "mv0", "up"] },
      ],
      upCommandMillis: 5_000,
      downCommands: [
        { step: "routes.clear", ifname: "mv0" },
        { step: "dns.clear", ifname: "mv0" },
        { runIgnoringErrors: ["ip", "-4", "addr", "flush", "dev", "mv0", "label", "mv0"] },
        { runIgnoringErrors: ["ip", "link", "set", "mv0", "down"] },
        { runIgnoringErrors: ["ip", "link", "del", "mv0"] },
      ],
      downCommandMillis: 5_000,
      daemons: [],
      services: [
        { service: "dhcp-client", options: { hostname: "device", request_options: [] } },
        { service: "internet-checker" },
      ],
    });
  });

  it("the listing in docs/writing-a-technology.md is this file, word for word", () => {
    const doc = readFileSync(
      new URL("../../../../../docs/writing-a-technology.md", import.meta.url),
      "utf8",
    );
    const source = readFileSync(new URL("../../examples/macvlan.ts", import.meta.url), "utf8");
    const marker = "<!-- listing: packages/vnet/core/examples/macvlan.ts -->\n\n```ts\n";
    const start = doc.indexOf(marker);
    expect(start).toBeGreaterThan(-1);
    const listing = doc.slice(start + marker.length, doc.indexOf("```\n", start + marker.length));
    expect(listing).toBe(source);
  });
});

describe("README example", () => {
  it("the README's listing is examples/readme.ts (type-checked with the package), word for word", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const source = readFileSync(new URL("../../examples/readme.ts", import.meta.url), "utf8");
    const marker = "<!-- listing: packages/vnet/core/examples/readme.ts -->\n\n```ts\n";
    const start = readme.indexOf(marker);
    expect(start).toBeGreaterThan(-1);
    expect(
      readme.slice(start + marker.length, readme.indexOf("```\n", start + marker.length)),
    ).toBe(source);
  });
});
