// The connection against the test hub on loopback: client certificates over real TLS, a device
// clock ahead of the server (learned from the refusal's `date`), redirects beyond the limit, a
// crashed channel rejoined with fresh parameters, an idle-free heartbeat, the HTTP CONNECT proxy.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { connect as netConnect, type Socket } from "node:net";
import { join } from "node:path";
import { createTestPki, TestHub } from "@hublink/test-hub";
import { PropertyTable } from "@runtime/property-table";
import { describeIntegration } from "@testing/netlab";
import { afterEach, beforeEach, expect, it } from "vitest";
import { HubLink, type HubLinkOptions, silentLogger } from "../../src/index.js";
import { deviceKv, tempDirectory, until } from "../support/device.js";

describeIntegration("hublink client: connection", { tools: [] }, () => {
  let hub: TestHub | undefined;
  const clients: HubLink[] = [];
  let temp: Awaited<ReturnType<typeof tempDirectory>>;

  beforeEach(async () => {
    temp = await tempDirectory();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.stop()));
    await hub?.stop();
    hub = undefined;
    await temp.remove();
  });

  async function start(
    options: Partial<HubLinkOptions> & Pick<HubLinkOptions, "host">,
  ): Promise<HubLink> {
    const client = await HubLink.start({
      kv: await deviceKv(join(temp.path, "dev")),
      logger: silentLogger,
      connectWaitForNetwork: false,
      rejoinAfterMs: 50,
      backoff: { minMs: 50, maxMs: 200, jitter: 0.5 },
      ...options,
    } as HubLinkOptions);
    clients.push(client);
    return client;
  }

  function product() {
    const { key, secret } = hub!.addProduct({ name: "acme", sharedSecrets: true })
      .sharedSecrets[0]!;
    return { productKey: key, productSecret: secret };
  }

  it("authenticates with a client certificate over TLS 1.2 on /socket", async () => {
    const pki = await createTestPki({ directory: join(temp.path, "pki"), devices: ["cert-dev"] });
    hub = await TestHub.start({
      tls: { key: pki.server.key, cert: pki.server.cert },
      products: [{ name: "acme" }],
      devices: [{ identifier: "cert-dev", product: "acme" }],
      signers: [{ certificate: pki.signer.cert }],
    });
    const table = new PropertyTable();
    const client = await start({
      host: hub.url.replace("127.0.0.1", "localhost"),
      certificate: {
        certPath: pki.devices["cert-dev"]!.certPath,
        keyPath: pki.devices["cert-dev"]!.keyPath,
      },
      tls: { ca: pki.serverCa.cert },
      identifier: "cert-dev",
      table,
    });
    const connection = await hub.waitForDevice("cert-dev");
    expect(connection).toMatchObject({
      auth: "certificate",
      path: "/socket/websocket",
      vsn: "2.0.0",
      compression: true,
    });
    await until(() => client.connected(), "join");
    expect(table.get(["hublink", "connected"])).toBe(true);
    expect(table.get(["hublink", "alarms", "disconnected"])).toBeUndefined();
    // report_network_interface names the loopback interface the socket uses.
    await hub.waitForMessage({ identifier: "cert-dev", event: "report_network_interface" });
    expect(hub.device("cert-dev")!.networkInterface).toBe("lo");
  });

  it("recovers from a device clock ahead of the server using the refusal's date header", async () => {
    hub = await TestHub.start();
    const credentials = product();
    const refusals: number[] = [];
    const client = await start({
      host: hub.url,
      sharedSecret: credentials,
      identifier: "skewed",
      clock: () => Date.now() + 10 * 60_000,
    });
    client.on("refused", (status) => refusals.push(status));
    const rejection = await hub.waitForRejection({ reason: "signed_in_future" });
    expect(rejection).toMatchObject({ status: 401, reason: "signed_in_future" });
    await hub.waitForDevice("skewed");
    expect(refusals).toEqual([401]);
    expect(client.status().clockOffsetMs).toBeLessThan(-9 * 60_000);
  });

  it("keeps retrying after more redirects than it follows (quirk 18)", async () => {
    hub = await TestHub.start();
    hub.redirectSockets({
      location: `${hub.url.replace("ws:", "http:")}/device-socket/websocket?vsn=2.0.0`,
      times: 12,
    });
    const client = await start({
      host: hub.url,
      sharedSecret: product(),
      identifier: "redirected",
      maxRedirects: 2,
    });
    const attempts: number[] = [];
    client.on("reconnecting", (_delay, attempt) => attempts.push(attempt));
    await hub.waitForDevice("redirected");
    // 12 redirects, 3 per attempt (the first plus 2 followed): the client backed off and retried.
    expect(attempts.length).toBeGreaterThanOrEqual(3);
  });

  it("rejoins a crashed channel with parameters built afresh (quirk 7)", async () => {
    hub = await TestHub.start();
    const errors: string[] = [];
    const client = await start({
      host: hub.url,
      sharedSecret: product(),
      identifier: "crashy",
      client: { error: (error) => errors.push(error.code) },
    });
    await until(() => client.connected(), "join");
    const before = hub.cursor();
    hub.crashChannel("crashy", "device");
    const rejoin = await hub.waitForMessage({
      identifier: "crashy",
      event: "phx_join",
      after: before,
    });
    expect(rejoin.payload).toMatchObject({ device_api_version: "2.3.0" });
    await until(() => client.connected(), "rejoin");
    expect(errors).toContain("CHANNEL_ERROR");
  });

  it("reconnects after the hub drops it and publishes the disconnected alarm meanwhile", async () => {
    hub = await TestHub.start();
    const table = new PropertyTable();
    const client = await start({
      host: hub.url,
      sharedSecret: product(),
      identifier: "dropped",
      table,
    });
    const first = await hub.waitForDevice("dropped");
    await until(() => client.connected(), "join");
    hub.disconnect("dropped", { abrupt: true });
    await until(() => table.get(["hublink", "alarms", "disconnected"]), "the disconnected alarm");
    const second = await hub.waitForMessage({
      identifier: "dropped",
      event: "phx_join",
      where: (message) => message.connectionId !== first.id,
    });
    expect(second.connectionId).not.toBe(first.id);
    await until(
      () => client.connected() && table.get(["hublink", "alarms", "disconnected"]) === undefined,
      "the alarm to clear",
    );
    client.reconnect();
    await hub.waitForMessage({
      identifier: "dropped",
      event: "phx_join",
      where: (message) => message.connectionId > second.connectionId,
    });
  });

  it("tunnels through an HTTP CONNECT proxy", async () => {
    hub = await TestHub.start();
    const tunnels: string[] = [];
    const proxy: Server = createServer();
    proxy.on("connect", (request, clientSocket: Socket, head) => {
      tunnels.push(request.url ?? "");
      const [host, port] = (request.url ?? "").split(":");
      const upstream = netConnect(Number(port), host, () => {
        clientSocket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(clientSocket);
        clientSocket.pipe(upstream);
      });
      upstream.on("error", () => clientSocket.destroy());
      clientSocket.on("error", () => upstream.destroy());
    });
    proxy.listen(0, "127.0.0.1");
    await once(proxy, "listening");
    const address = proxy.address() as { port: number };
    try {
      await start({
        host: hub.url,
        sharedSecret: product(),
        identifier: "proxied",
        proxy: `http://127.0.0.1:${address.port}`,
        connectWaitForNetwork: true,
      });
      await hub.waitForDevice("proxied");
      expect(tunnels).toEqual([`127.0.0.1:${hub.port}`]);
    } finally {
      await Promise.all(clients.splice(0).map((client) => client.stop()));
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
