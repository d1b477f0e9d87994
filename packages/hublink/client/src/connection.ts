// The device socket: one phoenix Socket over the ws transport, the `device` channel, and pushes
// that never wait for an acknowledgement (quirk 5: NervesHub never replies to device pushes).
import { type Channel, type Message, Socket } from "phoenix";
import type { Logger } from "./logger.js";
import type { TransportClass } from "./transport.js";

export const DEVICE_TOPIC = "device";

export interface ConnectionOptions {
  /** `wss://host/device-socket`; phoenix appends `/websocket?vsn=2.0.0`. */
  endpoint: string;
  transport: TransportClass;
  heartbeatIntervalMs: number;
  joinTimeoutMs: number;
  rejoinAfterMs: number;
  /** Delay before reconnect attempt `tries` (1-based). */
  reconnectAfterMs(tries: number): number;
  /** Join parameters, built afresh for every join (quirk 7). */
  joinParams(): object;
  logger: Logger;
  onOpen(): void;
  onClose(code: number, reason: string): void;
  onTransportError(error: unknown): void;
  onJoined(response: unknown): void;
  /** The join was refused or timed out, or the joined channel errored. */
  onChannelError(reason: unknown): void;
  /** The server closed the channel (`phx_close`). */
  onChannelClosed(): void;
  /** Every server message on the `device` topic that is not a control event. */
  onDeviceMessage(event: string, payload: unknown): void;
  /** Messages on other topics (logged by the caller). */
  onOtherMessage(message: Message): void;
}

const CONTROL_EVENTS = new Set(["phx_reply", "phx_error", "phx_close", "phx_join", "phx_leave"]);

export class DeviceConnection {
  readonly #options: ConnectionOptions;
  readonly #socket: Socket;
  #channel: Channel | undefined;
  #joined = false;
  #stopped = true;
  #rejoinTimer: NodeJS.Timeout | undefined;

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#socket = new Socket(options.endpoint, {
      transport: options.transport,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      timeout: options.joinTimeoutMs,
      reconnectAfterMs: (tries) => options.reconnectAfterMs(tries),
      rejoinAfterMs: () => options.rejoinAfterMs,
      logger: (kind, message) => options.logger.debug(`phoenix ${kind}: ${message}`),
    });
    this.#socket.onOpen(() => options.onOpen());
    this.#socket.onClose((event) => {
      this.#joined = false;
      options.onClose(event.code, event.reason ?? "");
    });
    this.#socket.onError((error) => options.onTransportError(error));
    this.#socket.onMessage((message) => this.#route(message));
  }

  /** The `device` channel is joined. */
  get joined(): boolean {
    return this.#joined;
  }

  get socketConnected(): boolean {
    return this.#socket.isConnected();
  }

  connect(): void {
    this.#stopped = false;
    this.#openChannel();
    this.#socket.connect();
  }

  /** Drops the socket; the normal disconnect path reconnects after the back-off. */
  reconnect(): void {
    this.#joined = false;
    // Closing the transport as the server would: phoenix treats it as unexpected and reconnects.
    const connection = this.#socket.conn as {
      close?: (code?: number, reason?: string) => void;
    } | null;
    if (connection?.close) connection.close(4000, "reconnect requested");
    else this.#socket.connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#joined = false;
    clearTimeout(this.#rejoinTimer);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      this.#socket.disconnect(
        () => {
          clearTimeout(timer);
          resolve();
        },
        1000,
        "client stopped",
      );
    });
  }

  /**
   * Sends an event on the `device` topic without waiting for an answer. Returns false (and sends
   * nothing) when the channel is not joined.
   */
  push(event: string, payload: object): boolean {
    const channel = this.#channel;
    if (!channel || !this.#joined || !this.#socket.isConnected()) return false;
    this.#socket.push(
      {
        topic: DEVICE_TOPIC,
        event,
        payload,
        ref: this.#socket.makeRef(),
        join_ref: channel.joinRef(),
      },
      channel,
    );
    return true;
  }

  #openChannel(): void {
    const options = this.#options;
    const channel = this.#socket.channel(DEVICE_TOPIC, () => options.joinParams());
    this.#channel = channel;
    channel.onError((reason) => {
      this.#joined = false;
      options.onChannelError(reason);
    });
    channel.onClose(() => {
      this.#joined = false;
      if (this.#stopped || this.#channel !== channel) return;
      options.onChannelClosed();
      // NervesHubLink stays without a device channel after phx_close; a device without one can
      // never be updated again, so we join a fresh channel after the rejoin delay.
      this.#rejoinTimer = setTimeout(() => {
        if (!this.#stopped && this.#channel === channel) this.#openChannel();
      }, options.rejoinAfterMs);
    });
    channel
      .join(options.joinTimeoutMs)
      .receive("ok", (response) => {
        this.#joined = true;
        options.onJoined(response);
      })
      .receive("error", (response) => {
        this.#joined = false;
        options.onChannelError({ failedToJoin: response });
      })
      .receive("timeout", () => {
        this.#joined = false;
        options.onChannelError({ failedToJoin: "timeout" });
      });
  }

  #route(message: Message): void {
    if (message.topic === "phoenix") return;
    if (message.topic === DEVICE_TOPIC) {
      if (CONTROL_EVENTS.has(message.event)) return;
      // A message for an earlier join of the channel is stale.
      if (message.join_ref && this.#channel && message.join_ref !== this.#channel.joinRef()) return;
      this.#options.onDeviceMessage(message.event, message.payload);
      return;
    }
    this.#options.onOtherMessage(message);
  }
}
