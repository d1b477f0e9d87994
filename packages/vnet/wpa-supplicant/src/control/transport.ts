import { statSync } from "node:fs";
import type { CommandRunner } from "@runtime/command";

/** What a transport tells the client about, outside of request/response. */
export interface TransportHandlers {
  /** One unsolicited message, `<N>` prefix included. */
  event(message: string): void;
  /** The daemon went away (as far as the transport can tell); the client will reconnect. */
  lost(reason: Error): void;
}

/** Everything a transport needs to know; built by the client from its options. */
export interface TransportContext {
  /** The daemon's socket, `<ctrlInterface>/<ifname>`. */
  socketPath: string;
  ctrlInterface: string;
  ifname: string;
  /** Where client sockets are bound. */
  clientDir: string;
  runner: CommandRunner;
  /** The wpa_cli executable (name looked up on the runner's PATH, or a path). */
  wpaCli: string;
  handlers: TransportHandlers;
}

/**
 * The I/O edge of the client: one session with one daemon. The client guarantees that `request`,
 * `attach` and `open` are never called while another of them is still running.
 */
export interface ControlTransport {
  /** `unix-dgram`, `wpa_cli` or a custom name; shown in `WpaControl.transport`. */
  readonly kind: string;
  /** (Re)opens the session; after it resolves, `request` may be called. Does not ATTACH. */
  open(): Promise<void>;
  /**
   * Sends one command and resolves with the raw response. When `signal` aborts (the client's time
   * limit), it must reject promptly and make sure a late answer can never be taken for the answer
   * to a later request. Rejects with WpaControlError `DISCONNECTED` when the daemon is not there.
   */
  request(command: string, signal: AbortSignal): Promise<string>;
  /** Starts the delivery of unsolicited events (`ATTACH`), and keeps it across `request` calls. */
  attach(signal: AbortSignal): Promise<void>;
  /** Ends the session and removes everything the transport created (sockets, processes). */
  close(): Promise<void>;
  /**
   * Optional: something that changes when the daemon is replaced (the socket's inode), or
   * undefined while no daemon socket exists. Lets the client skip hopeless reconnect attempts and
   * not mistake a terminating daemon for its successor.
   */
  daemonIdentity?(): string | undefined;
}

/** The identity of a daemon's socket file: device and inode, or undefined when it is absent. */
export function socketIdentity(path: string): string | undefined {
  try {
    const stats = statSync(path);
    return `${stats.dev}:${stats.ino}`;
  } catch {
    return undefined;
  }
}

/** Builds a transport for a client; pass one as the `transport` option to plug in your own. */
export type TransportFactory = (
  context: TransportContext,
) => ControlTransport | Promise<ControlTransport>;
