// The client's queue, time limits, events, keep-alive and reconnect logic, driven through a
// scripted in-memory transport (the real transports are tested against the real daemon in
// test/integration).
import { describe, expect, it } from "vitest";
import {
  type ControlTransport,
  type TransportContext,
  WpaControl,
  WpaControlError,
  type WpaEvent,
} from "../src/index.js";

/** Answers like a daemon would; `up = false` makes it unreachable, `stalled` makes it mute. */
class ScriptedTransport implements ControlTransport {
  readonly kind = "scripted";
  readonly sent: string[] = [];
  opens = 0;
  attaches = 0;
  inFlight = 0;
  maxInFlight = 0;
  up = true;
  stalled = false;
  /** Commands that never get an answer (as when the daemon is stopped). */
  readonly mute = new Set<string>();
  constructor(readonly context: TransportContext) {}

  async open(): Promise<void> {
    this.opens += 1;
  }

  async request(command: string, signal: AbortSignal): Promise<string> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      this.sent.push(command);
      if (!this.up) throw new WpaControlError("DISCONNECTED", "no daemon");
      await new Promise<void>((resolve, reject) => {
        if (this.stalled || this.mute.has(command)) {
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          return;
        }
        setImmediate(resolve);
      });
      if (command === "PING") return "PONG\n";
      if (command === "STATUS") return "wpa_state=COMPLETED\nEAP state=SUCCESS\n";
      if (command.startsWith("ECHO ")) return `${command.slice(5)}\n`;
      return "OK\n";
    } finally {
      this.inFlight -= 1;
    }
  }

  async attach(): Promise<void> {
    if (!this.up) throw new WpaControlError("DISCONNECTED", "no daemon");
    this.attaches += 1;
  }

  async close(): Promise<void> {}

  emitEvent(message: string): void {
    this.context.handlers.event(message);
  }
}

async function connect(options: Partial<Parameters<typeof WpaControl.connect>[0]> = {}) {
  let transport: ScriptedTransport | undefined;
  const client = await WpaControl.connect({
    ctrlInterface: "/nonexistent/ctrl",
    ifname: "eth0",
    transport: (context) => {
      transport = new ScriptedTransport(context);
      return transport;
    },
    keepAliveIntervalMs: 0,
    reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
    ...options,
  });
  return { client, transport: transport! };
}

function nextEvent<K extends "disconnected" | "reconnected">(
  client: WpaControl,
  name: K,
): Promise<unknown> {
  return new Promise((resolve) => client.once(name, (...args: unknown[]) => resolve(args[0])));
}

describe("WpaControl with a scripted transport", () => {
  it("connects with PING and ATTACH", async () => {
    const { client, transport } = await connect();
    expect(transport.sent).toEqual(["PING"]);
    expect(transport.attaches).toBe(1);
    expect(client.state).toBe("connected");
    expect(client.transport).toBe("scripted");
    await client.close();
  });

  it("keeps one request in flight and answers in order", async () => {
    const { client, transport } = await connect();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) => client.request(`ECHO ${index}`)),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, (_, index) => `${index}\n`));
    expect(transport.maxInFlight).toBe(1);
    await client.close();
  });

  it("fails a request that times out with TIMEOUT, and the queue goes on", async () => {
    const { client, transport } = await connect({ requestTimeoutMs: 30 });
    transport.mute.add("STATUS");
    const first = client.request("STATUS");
    const second = client.request("ECHO later");
    await expect(first).rejects.toMatchObject({ code: "TIMEOUT", command: "STATUS" });
    await expect(second).resolves.toBe("later\n");
    expect(client.state).toBe("connected");
    await client.close();
  });

  it("decodes events and emits them", async () => {
    const { client, transport } = await connect();
    const events: WpaEvent[] = [];
    client.on("event", (event) => events.push(event));
    transport.emitEvent("<3>CTRL-EVENT-EAP-SUCCESS EAP authentication completed successfully");
    transport.emitEvent("<3>SOMETHING-NEW a=1");
    expect(events.map((event) => event.kind)).toEqual(["eap-success", "other"]);
    await client.close();
  });

  it("reconnects and re-attaches after the daemon went away", async () => {
    const { client, transport } = await connect();
    transport.up = false;
    const disconnected = nextEvent(client, "disconnected");
    await expect(client.status()).rejects.toMatchObject({ code: "DISCONNECTED" });
    expect(await disconnected).toBeInstanceOf(WpaControlError);
    expect(client.state).toBe("disconnected");
    // While disconnected, requests fail at once instead of waiting.
    await expect(client.ping()).rejects.toMatchObject({ code: "DISCONNECTED" });
    const reconnected = nextEvent(client, "reconnected");
    transport.up = true;
    await reconnected;
    expect(client.state).toBe("connected");
    expect(transport.attaches).toBe(2);
    expect((await client.status()).wpa_state).toBe("COMPLETED");
    await client.close();
  });

  it("treats CTRL-EVENT-TERMINATING as a lost daemon", async () => {
    const { client, transport } = await connect();
    const disconnected = nextEvent(client, "disconnected");
    const reconnected = nextEvent(client, "reconnected");
    transport.emitEvent("<3>CTRL-EVENT-TERMINATING ");
    expect(((await disconnected) as Error).message).toMatch(/terminating/);
    await reconnected;
    await client.close();
  });

  it("sends PING when the line is idle, and notices a dead daemon by it", async () => {
    const { client, transport } = await connect({ keepAliveIntervalMs: 20, requestTimeoutMs: 30 });
    const pings = () => transport.sent.filter((command) => command === "PING").length;
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (pings() >= 3) {
          clearInterval(check);
          resolve();
        }
      }, 5);
    });
    const disconnected = nextEvent(client, "disconnected");
    transport.stalled = true;
    expect(((await disconnected) as Error).message).toMatch(/keep-alive PING failed/);
    await client.close();
  });

  it("bounds the queue", async () => {
    const { client, transport } = await connect({ maxQueue: 2 });
    transport.stalled = true;
    const waiting = [client.request("A"), client.request("B"), client.request("C")];
    await expect(client.request("D")).rejects.toMatchObject({ code: "QUEUE_FULL" });
    await client.close();
    const results = await Promise.allSettled(waiting);
    expect(
      results.map(
        (result) => result.status === "rejected" && (result.reason as WpaControlError).code,
      ),
    ).toEqual(["CLOSED", "CLOSED", "CLOSED"]);
  });

  it("fails waiting requests with CLOSED on close, and later ones too", async () => {
    const { client, transport } = await connect();
    transport.stalled = true;
    const inFlight = client.request("A");
    const queued = client.request("B");
    await client.close();
    await expect(queued).rejects.toMatchObject({ code: "CLOSED" });
    await expect(inFlight).rejects.toMatchObject({ code: "CLOSED" });
    await expect(client.ping()).rejects.toMatchObject({ code: "CLOSED" });
  });

  it("gives up connecting with UNREACHABLE", async () => {
    await expect(
      WpaControl.connect({
        ctrlInterface: "/nonexistent",
        ifname: "eth0",
        connectTimeoutMs: 50,
        transport: (context) => {
          const transport = new ScriptedTransport(context);
          transport.up = false;
          return transport;
        },
      }),
    ).rejects.toMatchObject({ code: "UNREACHABLE" });
  });

  it("keeps secrets out of error messages", async () => {
    const { client, transport } = await connect({ requestTimeoutMs: 20 });
    transport.stalled = true;
    const error = await client
      .setNetwork(0, "password", "hunter2")
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "TIMEOUT", command: "SET_NETWORK 0 password ****" });
    expect(String((error as Error).message)).not.toContain("hunter2");
    await client.close();
  });

  it("encodes SET_NETWORK values like the config writer", async () => {
    const { client, transport } = await connect();
    await client.setNetwork(0, "ssid", "Café");
    await client.setNetwork(0, "identity", "alice");
    await client.setNetwork(0, "key_mgmt", "WPA-PSK");
    await client.setNetwork(0, "priority", 5);
    await client.setNetwork(0, "scan_ssid", true);
    await client.setNetwork(0, "psk", "passphrase");
    expect(transport.sent.slice(1)).toEqual([
      "SET_NETWORK 0 ssid 436166c3a9",
      'SET_NETWORK 0 identity "alice"',
      "SET_NETWORK 0 key_mgmt WPA-PSK",
      "SET_NETWORK 0 priority 5",
      "SET_NETWORK 0 scan_ssid 1",
      'SET_NETWORK 0 psk "passphrase"',
    ]);
    await client.close();
  });
});
