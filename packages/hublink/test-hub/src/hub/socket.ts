// One device websocket speaking the Phoenix channel protocol, as `Phoenix.Socket` does on the
// server (phoenixframework/phoenix lib/phoenix/socket.ex `handle_in/4`, `encode_ignore/2`,
// `encode_close/3`, `encode_on_exit/4`; lib/phoenix/channel/server.ex for leave replies):
//
// - `phoenix`/`heartbeat` is answered `[null, ref, "phoenix", "phx_reply", {ok, {}}]` whatever
//   else is going on;
// - `phx_join` on a routed topic joins (or answers `too many channels joined` past the limit);
//   on a topic already joined it closes the old channel (`phx_close` with the old join ref) first;
// - `phx_leave` on a joined topic is answered `ok {}` then `phx_close`; on an unknown topic just
//   `ok {}`;
// - anything else on a topic that is not joined gets `{"reason": "unmatched topic"}` with a null
//   join ref; on a joined topic it goes to the channel when its join ref is null or current, and
//   is dropped when stale;
// - a frame that cannot be decoded ends the connection (the socket process raises on the real
//   server; Bandit closes with 1011, lib/bandit/websocket/connection.ex `handle_error/3`);
// - no inbound frame for the idle timeout closes with 1002 (Bandit `handle_timeout/2`).

import { performance } from "node:perf_hooks";
import type { WebSocket } from "ws";
import {
  decodeBinaryFrame,
  decodeTextFrame,
  encodeReply,
  encodeTextFrame,
  type JsonValue,
  type PhoenixFrame,
} from "../phoenix/frame.js";
import type { ChannelSnapshot, ConnectionSnapshot, RecordedMessage } from "./types.js";

/** A joined channel's server side. */
export interface Channel {
  readonly topic: string;
  readonly joinRef: JsonValue;
  readonly payload: JsonValue | Uint8Array;
  readonly joinedAtMs: number;
  /** A device message on this channel. Return a reply to answer it (most channels never do). */
  handleIn(
    event: string,
    payload: JsonValue | Uint8Array,
    ref: JsonValue,
  ): { status: "ok" | "error"; response: JsonValue } | "crash" | undefined;
  /** The channel ends (leave, close, crash, socket closed): stop its timers. */
  dispose(): void;
}

export type JoinOutcome =
  | {
      ok: true;
      response: JsonValue;
      channel: Channel;
      /** Runs after the join reply went out (the server's `send(self(), :after_join)`). */
      afterJoin?: () => void;
    }
  | { ok: false; response: JsonValue };

export interface SocketHost {
  now(): number;
  /** Records a frame and returns the record. */
  record(
    connection: DeviceSocket,
    direction: "in" | "out",
    frame: Omit<RecordedMessage, "sequence" | "connectionId" | "identifier" | "direction" | "atMs">,
  ): void;
  /** Which topics route to a channel (`channel/3` in the socket module). */
  routes(topic: string): boolean;
  join(
    connection: DeviceSocket,
    topic: string,
    payload: JsonValue | Uint8Array,
    joinRef: JsonValue,
  ): JoinOutcome;
  joined(connection: DeviceSocket, channel: Channel): void;
  closed(connection: DeviceSocket): void;
}

export interface DeviceSocketOptions {
  id: number;
  identifier: string;
  product: string;
  auth: "shared_secret" | "certificate";
  path: string;
  vsn: string;
  requestHeaders: Record<string, string>;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  idleTimeoutMs: number;
  maxChannels: number;
}

function asText(value: JsonValue): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

export class DeviceSocket {
  readonly id: number;
  readonly identifier: string;
  readonly product: string;
  readonly channels = new Map<string, Channel>();
  readonly openedAtMs: number;
  closedAtMs: number | null = null;
  closeCode: number | null = null;
  closeReason: string | null = null;
  readonly #ws: WebSocket;
  readonly #host: SocketHost;
  readonly #options: DeviceSocketOptions;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastInboundMs = 0;

  constructor(ws: WebSocket, host: SocketHost, options: DeviceSocketOptions) {
    this.id = options.id;
    this.identifier = options.identifier;
    this.product = options.product;
    this.#ws = ws;
    this.#host = host;
    this.#options = options;
    this.openedAtMs = host.now();
    ws.on("message", (data, isBinary) => {
      this.#touch();
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      this.#handleFrame(bytes, isBinary);
    });
    // Any inbound data keeps the connection alive, control frames included.
    ws.on("ping", () => this.#touch());
    ws.on("pong", () => this.#touch());
    ws.on("close", (code) => {
      clearTimeout(this.#idleTimer);
      this.closedAtMs = host.now();
      this.closeCode ??= code;
      this.closeReason ??= "remote";
      for (const channel of this.channels.values()) channel.dispose();
      this.channels.clear();
      host.closed(this);
    });
    ws.on("error", () => {
      // A protocol error from the peer; `close` follows.
    });
    this.#touch();
  }

  get open(): boolean {
    return this.#ws.readyState === this.#ws.OPEN;
  }

  get compression(): boolean {
    return this.#ws.extensions.includes("permessage-deflate");
  }

  /** Notes inbound activity; one timer re-arms itself rather than one timer per frame. */
  #touch(): void {
    this.#lastInboundMs = performance.now();
    if (this.#idleTimer === undefined) this.#armIdleTimer(this.#options.idleTimeoutMs);
  }

  #armIdleTimer(delayMs: number): void {
    this.#idleTimer = setTimeout(() => {
      const silentMs = performance.now() - this.#lastInboundMs;
      if (silentMs >= this.#options.idleTimeoutMs) this.close(1002, "idle_timeout");
      else this.#armIdleTimer(this.#options.idleTimeoutMs - silentMs);
    }, delayMs);
    this.#idleTimer.unref?.();
  }

  snapshot(): ConnectionSnapshot {
    const channels: Record<string, ChannelSnapshot> = {};
    for (const channel of this.channels.values()) {
      channels[channel.topic] = {
        topic: channel.topic,
        joinRef: channel.joinRef,
        payload: channel.payload,
        joinedAtMs: channel.joinedAtMs,
      };
    }
    return structuredClone({
      id: this.id,
      identifier: this.identifier,
      product: this.product,
      auth: this.#options.auth,
      path: this.#options.path,
      vsn: this.#options.vsn,
      compression: this.compression,
      remoteAddress: this.#options.remoteAddress,
      remotePort: this.#options.remotePort,
      requestHeaders: this.#options.requestHeaders,
      openedAtMs: this.openedAtMs,
      closedAtMs: this.closedAtMs,
      closeCode: this.closeCode,
      closeReason: this.closeReason,
      channels,
    });
  }

  /** Closes with a close frame. `reason` is the hub's label, not sent on the wire. */
  close(code: number, reason: string): void {
    if (this.closeReason === null) {
      this.closeReason = reason;
      this.closeCode = code;
    }
    if (this.#ws.readyState === this.#ws.CONNECTING || this.#ws.readyState === this.#ws.OPEN) {
      this.#ws.close(code);
      // A peer that never answers the close frame must not keep the hub from stopping.
      const timer = setTimeout(() => this.#ws.terminate(), 2_000);
      timer.unref?.();
    }
  }

  /** Drops the TCP connection without a close frame (a network failure). */
  destroy(reason: string): void {
    if (this.closeReason === null) {
      this.closeReason = reason;
      this.closeCode = 1006;
    }
    this.#ws.terminate();
  }

  /** Sends a frame and records it. */
  send(joinRef: JsonValue, ref: JsonValue, topic: string, event: string, payload: JsonValue): void {
    if (!this.open) return;
    this.#host.record(this, "out", { joinRef, ref, topic, event, payload, binary: false });
    this.#ws.send(encodeTextFrame(joinRef, ref, topic, event, payload));
  }

  #reply(
    joinRef: JsonValue,
    ref: JsonValue,
    topic: JsonValue,
    status: "ok" | "error",
    response: JsonValue,
  ): void {
    if (!this.open) return;
    this.#host.record(this, "out", {
      joinRef,
      ref,
      topic: asText(topic),
      event: "phx_reply",
      payload: { status, response },
      binary: false,
    });
    this.#ws.send(encodeReply(joinRef, ref, topic, status, response));
  }

  /** A push on a joined channel: `[join_ref, null, topic, event, payload]`. */
  pushOnChannel(topic: string, event: string, payload: JsonValue): boolean {
    const channel = this.channels.get(topic);
    if (!channel) return false;
    this.send(channel.joinRef, null, topic, event, payload);
    return true;
  }

  /** Closes a channel from the server side: `phx_close` (`crashed`: `phx_error`). */
  closeChannel(topic: string, how: "close" | "crash"): boolean {
    const channel = this.channels.get(topic);
    if (!channel) return false;
    this.#removeChannel(channel);
    if (how === "close") this.send(channel.joinRef, channel.joinRef, topic, "phx_close", {});
    else
      this.send(channel.joinRef, channel.joinRef, topic, "phx_error", { reason: "channel_crash" });
    return true;
  }

  #removeChannel(channel: Channel): void {
    if (this.channels.get(channel.topic) === channel) this.channels.delete(channel.topic);
    channel.dispose();
  }

  #handleFrame(bytes: Buffer, isBinary: boolean): void {
    const decoded = isBinary ? decodeBinaryFrame(bytes) : decodeTextFrame(bytes.toString("utf8"));
    if (!decoded.ok) {
      this.#host.record(this, "in", {
        joinRef: null,
        ref: null,
        topic: "",
        event: "",
        payload: isBinary ? new Uint8Array(bytes) : bytes.toString("utf8"),
        binary: isBinary,
      });
      this.close(1011, `undecodable_frame: ${decoded.reason}`);
      return;
    }
    const frame = decoded.frame;
    this.#host.record(this, "in", {
      joinRef: frame.joinRef,
      ref: frame.ref,
      topic: asText(frame.topic),
      event: asText(frame.event),
      payload: frame.payload,
      binary: isBinary,
    });
    this.#dispatch(frame);
  }

  #dispatch(frame: PhoenixFrame): void {
    const { topic, event, ref, joinRef } = frame;
    if (topic === "phoenix" && event === "heartbeat") {
      this.#reply(null, ref, "phoenix", "ok", {});
      return;
    }
    const channel = typeof topic === "string" ? this.channels.get(topic) : undefined;
    if (event === "phx_join") {
      if (channel) {
        // Duplicate join: the old channel is shut down and announced closed, then the join runs.
        this.#removeChannel(channel);
        this.send(channel.joinRef, channel.joinRef, channel.topic, "phx_close", {});
      }
      this.#join(frame);
      return;
    }
    if (!channel) {
      if (event === "phx_leave") this.#reply(joinRef, ref, topic, "ok", {});
      else this.#reply(null, ref, topic, "error", { reason: "unmatched topic" });
      return;
    }
    if (joinRef !== null && joinRef !== channel.joinRef) return; // stale: an earlier join's message
    if (event === "phx_leave") {
      this.#removeChannel(channel);
      this.#reply(channel.joinRef, ref, channel.topic, "ok", {});
      this.send(channel.joinRef, channel.joinRef, channel.topic, "phx_close", {});
      return;
    }
    const result = channel.handleIn(asText(event), frame.payload, ref);
    if (result === "crash") {
      this.closeChannel(channel.topic, "crash");
    } else if (result) {
      this.#reply(channel.joinRef, ref, channel.topic, result.status, result.response);
    }
  }

  #join(frame: PhoenixFrame): void {
    const { topic, ref, joinRef } = frame;
    if (typeof topic !== "string" || !this.#host.routes(topic)) {
      this.#reply(null, ref, topic, "error", { reason: "unmatched topic" });
      return;
    }
    if (this.channels.size >= this.#options.maxChannels) {
      this.#reply(joinRef, ref, topic, "error", { reason: "too many channels joined" });
      return;
    }
    const outcome = this.#host.join(this, topic, frame.payload, joinRef);
    if (!outcome.ok) {
      this.#reply(joinRef, ref, topic, "error", outcome.response);
      return;
    }
    this.channels.set(topic, outcome.channel);
    this.#reply(joinRef, ref, topic, "ok", outcome.response);
    this.#host.joined(this, outcome.channel);
    outcome.afterJoin?.();
  }
}
