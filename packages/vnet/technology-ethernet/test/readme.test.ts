// The README is part of the API: its runnable example is examples/readme.ts (type-checked with the
// package), and every configuration in its cookbook must normalize and build a valid recipe.
import { readFileSync } from "node:fs";
import { checkRawConfig, createTechnologyContext, type NetworkConfig } from "@vnet/core";
import { describe, expect, it } from "vitest";
import { ethernetTechnology } from "../src/index.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

/** The object literal of every `configure("ifname", { ... })` call in `text`, as source. */
function configureCalls(text: string): Array<{ ifname: string; literal: string }> {
  const calls: Array<{ ifname: string; literal: string }> = [];
  const pattern = /configure\("([^"]+)",\s*\{/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const start = match.index + match[0].length - 1;
    let depth = 0;
    let end = start;
    for (; end < text.length; end++) {
      if (text[end] === "{") depth++;
      if (text[end] === "}" && --depth === 0) break;
    }
    calls.push({ ifname: match[1]!, literal: text.slice(start, end + 1) });
  }
  return calls;
}

describe("README", () => {
  it("the listing is examples/readme.ts, word for word", () => {
    const source = readFileSync(new URL("../examples/readme.ts", import.meta.url), "utf8");
    const marker =
      "<!-- listing: packages/vnet/technology-ethernet/examples/readme.ts -->\n\n```ts\n";
    const start = readme.indexOf(marker);
    expect(start).toBeGreaterThan(-1);
    expect(
      readme.slice(start + marker.length, readme.indexOf("```\n", start + marker.length)),
    ).toBe(source);
  });

  const cookbook = readme.slice(readme.indexOf("## Cookbook"), readme.indexOf("## Properties"));
  const calls = configureCalls(cookbook);

  it("has a cookbook entry for DHCP, static, direct, DHCP server, IPv6, MAC and 802.1X", () => {
    const sections = [...cookbook.matchAll(/^### (.+)$/gm)].map((match) => match[1]);
    expect(sections).toEqual([
      "DHCP (the default)",
      "Static IPv4",
      "USB gadget or laptop cable: a direct link",
      "A DHCP server on a LAN port",
      "IPv6",
      "A fixed MAC address",
      "Wired 802.1X",
    ]);
    expect(calls.length).toBeGreaterThanOrEqual(15);
  });

  const context = createTechnologyContext({ hostname: "sensor-17" });
  it.each(calls.map((call) => [call.ifname, call.literal] as const))(
    "configure(%j, %s) normalizes and builds a valid recipe",
    (ifname, literal) => {
      const config = new Function(`return (${literal});`)() as NetworkConfig;
      const normalized = ethernetTechnology.normalize(config);
      checkRawConfig(ethernetTechnology.toRawConfig(ifname, normalized, context));
      // normalize is idempotent on everything the README shows
      expect(ethernetTechnology.normalize(normalized)).toEqual(normalized);
    },
  );
});
