// The slice of the `phoenix` 1.8 client API these tests use (the package bundles no types).
declare module "phoenix" {
  export interface Push {
    receive(status: "ok" | "error" | "timeout", callback: (response: unknown) => void): Push;
  }
  export class Channel {
    join(timeout?: number): Push;
    push(event: string, payload: object, timeout?: number): Push;
    leave(timeout?: number): Push;
    on(event: string, callback: (payload: unknown) => void): number;
    onError(callback: (reason: unknown) => void): void;
    onClose(callback: () => void): void;
    readonly state: string;
  }
  export interface SocketOptions {
    transport?: unknown;
    params?: object | (() => object);
    heartbeatIntervalMs?: number;
    reconnectAfterMs?: (tries: number) => number;
    rejoinAfterMs?: (tries: number) => number;
    timeout?: number;
    logger?: (kind: string, message: string, data: unknown) => void;
  }
  export class Socket {
    constructor(endPoint: string, options?: SocketOptions);
    connect(): void;
    disconnect(callback?: () => void, code?: number, reason?: string): void;
    channel(topic: string, params?: object | (() => object)): Channel;
    onOpen(callback: () => void): string;
    onClose(callback: (event: { code: number }) => void): string;
    onError(callback: (error: unknown) => void): string;
    isConnected(): boolean;
    endPointURL(): string;
  }
}
