// 200 clients in one process reconnecting after a hub restart: the jittered back-off must spread
// them over the window of its first step (1–1.5 s) instead of a thundering herd. The spread is
// asserted statistically on when each device came back to the hub, never on how long it took.
import { join } from "node:path";
import { TestHub } from "@hublink/test-hub";
import { describeIntegration } from "@testing/netlab";
import { afterEach, expect, it } from "vitest";
import { HubLink, silentLogger } from "../../src/index.js";
import { deviceKv, tempDirectory, until } from "../support/device.js";

const FLEET = 200;

describeIntegration(
  "hublink client: a fleet reconnecting after a hub restart",
  { tools: [] },
  () => {
    let hub: TestHub | undefined;
    const clients: HubLink[] = [];
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((client) => client.stop()));
      await hub?.stop();
    });

    it("spreads the reconnections over the back-off window", { timeout: 120_000 }, async () => {
      hub = await TestHub.start({ idleTimeoutMs: 600_000 });
      const { key, secret } = hub.addProduct({ name: "fleet", sharedSecrets: true })
        .sharedSecrets[0]!;
      const temp = await tempDirectory();
      try {
        const chosen: number[] = [];
        for (let index = 0; index < FLEET; index++) {
          const client = await HubLink.start({
            host: hub.url,
            sharedSecret: { productKey: key, productSecret: secret, iterations: 10 },
            identifier: `fleet-${index}`,
            kv: await deviceKv(join(temp.path, "dev")),
            logger: silentLogger,
            connectWaitForNetwork: false,
          });
          client.on("reconnecting", (delay, attempt) => {
            if (attempt === 1) chosen.push(delay);
          });
          clients.push(client);
        }
        await until(
          () => clients.every((client) => client.connected()),
          "the fleet to join",
          60_000,
        );
        const cursor = hub.cursor();
        const restartedAt = Date.now();
        await hub.restart({ mode: "drain" });
        await until(
          () => clients.every((client) => client.connected()),
          "the fleet to rejoin",
          60_000,
        );

        // The delays the clients chose: first step of 1 s + up to 50 % jitter, spread evenly.
        expect(chosen).toHaveLength(FLEET);
        for (const delay of chosen) {
          expect(delay).toBeGreaterThanOrEqual(1000);
          expect(delay).toBeLessThanOrEqual(1500);
        }
        // Kolmogorov–Smirnov against uniform on [1000, 1500]: the 0.1 % critical value for n = 200
        // is 1.95 / sqrt(200) ≈ 0.138.
        const sorted = [...chosen].sort((a, b) => a - b);
        const ks = Math.max(
          ...sorted.map((delay, index) =>
            Math.max(
              (index + 1) / FLEET - (delay - 1000) / 500,
              (delay - 1000) / 500 - index / FLEET,
            ),
          ),
        );
        expect(ks).toBeLessThan(0.138);

        // What the hub saw: the first join of each device after the restart, relative to the
        // restart. The middle half of the fleet arrived over at least a fifth of the jitter window
        // (uniform arrivals span half of it), and no 100 ms slot took half the fleet (uniform
        // arrivals put about 40 in each; a herd puts all 200 in one). The bound is loose on purpose:
        // 200 clients and the hub share one event loop, and on a loaded CI machine a stall of a
        // few tens of milliseconds bunches the joins the hub records (a run saw 44 in a 50 ms slot).
        const arrivals = new Map<string, number>();
        for (const message of hub.messages({ event: "phx_join", after: cursor })) {
          if (!arrivals.has(message.identifier))
            arrivals.set(message.identifier, message.atMs - restartedAt);
        }
        expect(arrivals.size).toBe(FLEET);
        const times = [...arrivals.values()].sort((a, b) => a - b);
        const quartile = (fraction: number) => times[Math.floor(fraction * (times.length - 1))]!;
        expect(quartile(0.75) - quartile(0.25)).toBeGreaterThan(100);
        const slots = new Map<number, number>();
        for (const time of times)
          slots.set(Math.floor(time / 100), (slots.get(Math.floor(time / 100)) ?? 0) + 1);
        expect(Math.max(...slots.values())).toBeLessThan(FLEET / 2);
      } finally {
        await temp.remove();
      }
    });
  },
);
