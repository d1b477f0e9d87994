// The slice of the `phoenix` 1.8.16 JavaScript client this package uses (it bundles no types and
// @types/phoenix lags the 1.8 API). @hublink/test-hub's tests include this file too.
declare module "phoenix" {
  export interface Push {
    receive(status: "ok" | "error" | "timeout", callback: (response: unknown) => void): Push;
  }
  export class Channel {
    join(timeout?: number): Push;
    /** Waits for a reply; the client itself never uses it (NervesHub never replies to pushes). */
    push(event: string, payload: object, timeout?: number): Push;
    leave(timeout?: number): Push;
    on(
      event: string,
      callback: (payload: unknown, ref?: string | null, joinRef?: string | null) => void,
    ): number;
    onError(callback: (reason: unknown) => void): number;
    onClose(callback: (payload: unknown) => void): void;
    joinRef(): string | null;
    readonly state: string;
    readonly topic: string;
  }
  export interface Message {
    topic: string;
    event: string;
    payload: unknown;
    ref: string | null;
    join_ref: string | null;
  }
  export interface SocketOptions {
    transport?: unknown;
    params?: object | (() => object);
    heartbeatIntervalMs?: number;
    reconnectAfterMs?: (tries: number) => number;
    rejoinAfterMs?: (tries: number) => number;
    timeout?: number;
    logger?: (kind: string, message: string, data: unknown) => void;
    vsn?: string;
  }
  export class Socket {
    constructor(endPoint: string, options?: SocketOptions);
    connect(): void;
    disconnect(callback?: () => void, code?: number, reason?: string): void;
    channel(topic: string, params?: object | (() => object)): Channel;
    onOpen(callback: () => void): string;
    onClose(callback: (event: { code: number; reason?: string }) => void): string;
    onError(callback: (error: unknown) => void): string;
    onMessage(callback: (message: Message) => void): string;
    off(refs: string[]): void;
    push(
      data: {
        topic: string;
        event: string;
        payload: unknown;
        ref: string;
        join_ref: string | null;
      },
      channel?: Channel,
    ): void;
    makeRef(): string;
    isConnected(): boolean;
    connectionState(): string;
    endPointURL(): string;
    remove(channel: Channel): void;
    readonly conn: unknown;
  }
}
