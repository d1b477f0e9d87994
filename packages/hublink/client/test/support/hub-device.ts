// A test hub and a temp directory per test, the clients a test starts (stopped after it), and the
// options of a device whose fwup is the STAND-IN (from @runtime/kv's fixtures) writing the image
// it receives to `<temp>/mmcblk0`.
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { TestHub, type TestHubOptions } from "@hublink/test-hub";
import { afterEach, beforeEach } from "vitest";
import { HubLink, type HubLinkOptions, silentLogger } from "../../src/index.js";
import { deviceKv, FWUP_KEY, standInRunner, tempDirectory } from "./device.js";

export interface HubDevice {
  readonly hub: TestHub;
  readonly temp: Awaited<ReturnType<typeof tempDirectory>>;
  /** The device file the fwup stand-in writes: `<temp>/mmcblk0`. */
  readonly devpath: string;
  /** Starts a client; it is stopped after the test. */
  start(options: HubLinkOptions): Promise<HubLink>;
  /**
   * Options of a device `identifier` of the hub's product with these shared-secret credentials:
   * data in the temp directory, the fwup stand-in (expecting `firmwareSize` bytes) on PATH.
   */
  fwupDevice(
    credentials: { key: string; secret: string },
    identifier: string,
    firmwareSize: number,
  ): Promise<HubLinkOptions>;
}

/** Registers the set-up and clean-up of a {@link HubDevice} in the enclosing describe. */
export function useHubDevice(hubOptions: TestHubOptions = {}): HubDevice {
  let hub: TestHub | undefined;
  let temp: Awaited<ReturnType<typeof tempDirectory>> | undefined;
  const clients: HubLink[] = [];
  beforeEach(async () => {
    hub = await TestHub.start(hubOptions);
    temp = await tempDirectory();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.stop();
    await hub?.stop();
    await temp?.remove();
  });
  const fixture: HubDevice = {
    get hub() {
      if (!hub) throw new Error("the hub exists only while a test runs");
      return hub;
    },
    get temp() {
      if (!temp) throw new Error("the temp directory exists only while a test runs");
      return temp;
    },
    get devpath() {
      return join(fixture.temp.path, "mmcblk0");
    },
    async start(options) {
      const client = await HubLink.start(options);
      clients.push(client);
      return client;
    },
    async fwupDevice(credentials, identifier, firmwareSize) {
      return {
        host: fixture.hub.url,
        sharedSecret: { productKey: credentials.key, productSecret: credentials.secret },
        identifier,
        kv: await deviceKv(fixture.devpath),
        runner: await standInRunner(await mkdtemp(join(fixture.temp.path, "run-"))),
        logger: silentLogger,
        connectWaitForNetwork: false,
        dataPath: fixture.temp.path,
        fwup: {
          publicKeys: [FWUP_KEY],
          env: { STAND_IN_FIRMWARE_SIZE: String(firmwareSize), STAND_IN_REQUIRE_KEY: FWUP_KEY },
        },
      };
    },
  };
  return fixture;
}
