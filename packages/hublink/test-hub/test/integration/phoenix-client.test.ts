// The real `phoenix` 1.8.16 JavaScript client against the hub, with a `ws` transport subclass
// that adds the NH1 headers (toolchain.md: Node 20 has no global WebSocket and phoenix hands its
// transport only a URL and protocols). This is how `@hublink/client` will talk to the hub.

import { describeIntegration } from "@testing/netlab";
import { Socket } from "phoenix";
import { afterEach, beforeEach, expect, it } from "vitest";
import WebSocket from "ws";
import { TestHub } from "../../src/index.js";
import { joinPayload } from "../support/driver.js";
import { signHeaders } from "../support/nh1-sign.js";

describeIntegration("test-hub: the phoenix 1.8.16 client", { tools: [] }, () => {
  let hub: TestHub;
  let socket: Socket | undefined;

  beforeEach(async () => {
    hub = await TestHub.start({ idleTimeoutMs: 60_000 });
  });
  afterEach(async () => {
    socket?.disconnect();
    await hub.stop();
  });

  function transportFor(headers: () => Record<string, string>) {
    return class HeaderWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: headers(), perMessageDeflate: true });
      }
    };
  }

  it("joins the device channel, heartbeats, receives an update and pushes status", async () => {
    const { key, secret } = hub.addProduct({ name: "acme", sharedSecrets: true }).sharedSecrets[0]!;
    const firmware = hub.addFirmware({
      data: "new firmware",
      meta: {
        uuid: "phx-uuid",
        product: "acme",
        version: "2.0.0",
        platform: "rpi4",
        architecture: "aarch64",
      },
    });
    socket = new Socket(`${hub.url}/device-socket`, {
      // Signed immediately before every attempt.
      transport: transportFor(() =>
        signHeaders({ key, secret, identifier: "phx-1", signedAt: Math.floor(Date.now() / 1000) }),
      ),
      heartbeatIntervalMs: 100,
    });
    socket.connect();
    const channel = socket.channel("device", () => joinPayload());
    const joined = new Promise<unknown>((resolve, reject) =>
      channel.join().receive("ok", resolve).receive("error", reject),
    );
    expect(await joined).toEqual({});
    const connection = await hub.waitForDevice("phx-1");
    expect(connection).toMatchObject({ compression: true, vsn: "2.0.0" });
    // phoenix.js heartbeats are answered (it would close the socket otherwise).
    await hub.waitForMessage({ identifier: "phx-1", topic: "phoenix", event: "heartbeat" });
    await hub.nextMessage({ identifier: "phx-1", topic: "phoenix", event: "heartbeat" });

    const update = new Promise<unknown>((resolve) => channel.on("update", resolve));
    const payload = hub.pushUpdate("phx-1", firmware);
    expect(await update).toEqual(payload);
    channel.push("status_update", { status: "received" });
    expect(await hub.waitForUpdateStatus("phx-1", "received")).toMatchObject({
      event: "status_update",
    });
    expect(socket.isConnected()).toBe(true);
  });

  it("reconnects and rejoins after the hub restarts", async () => {
    const { key, secret } = hub.addProduct({ name: "acme", sharedSecrets: true }).sharedSecrets[0]!;
    socket = new Socket(`${hub.url}/device-socket`, {
      transport: transportFor(() =>
        signHeaders({ key, secret, identifier: "phx-2", signedAt: Math.floor(Date.now() / 1000) }),
      ),
      reconnectAfterMs: () => 50,
      rejoinAfterMs: () => 50,
    });
    socket.connect();
    socket.channel("device", () => joinPayload()).join();
    const first = await hub.waitForDevice("phx-2");
    await hub.restart();
    await hub.waitForDisconnect("phx-2");
    await hub.waitForMessage({
      identifier: "phx-2",
      event: "phx_join",
      where: (message) => message.connectionId !== first.id,
    });
    const second = await hub.waitForDevice("phx-2");
    expect(second.id).not.toBe(first.id);
    expect(hub.messages({ identifier: "phx-2", event: "phx_join" })).toHaveLength(2);
  });
});
