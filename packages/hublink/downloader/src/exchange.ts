// One HTTP GET through an undici dispatcher, read chunk by chunk at the consumer's pace. This and
// `dispatcher.ts` are the package's only network I/O.
//
// Why undici's low-level `dispatch` and not `request()`: `request()` hands the body over as a
// Readable, and when the connection breaks the Readable is destroyed together with the bytes it
// had buffered but not yet handed out. Here the queue survives the error, so every byte that
// reached this machine is delivered and the resume starts exactly where the data stopped.
import type { Dispatcher } from "undici";
import type { ResponseHeaders } from "./http.js";

export interface ExchangeRequest {
  url: string;
  headers: Record<string, string>;
}

export interface ExchangeResponse {
  status: number;
  headers: ResponseHeaders;
}

/** Thrown by {@link Exchange.response} and {@link Exchange.next} when the exchange failed. */
export class ExchangeError extends Error {
  override name = "ExchangeError";
  constructor(
    override readonly cause: Error,
    /** The server closed the connection (as opposed to a reset or a local error). */
    readonly serverClosed: boolean,
  ) {
    super(cause.message, { cause });
  }
}

type Waiter = { resolve: () => void };

export class Exchange implements Dispatcher.DispatchHandler {
  /** Resolves with the status and headers; rejects with {@link ExchangeError}. */
  readonly response: Promise<ExchangeResponse>;

  private controller: Dispatcher.DispatchController | undefined;
  private pendingAbort: Error | undefined;
  private resolveResponse!: (response: ExchangeResponse) => void;
  private rejectResponse!: (error: unknown) => void;
  private gotResponse = false;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private ended = false;
  private failure: ExchangeError | undefined;
  private waiter: Waiter | undefined;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly request: ExchangeRequest,
    /** Bytes queued before the socket is paused. */
    private readonly highWaterMark: number,
  ) {
    this.response = new Promise((resolve, reject) => {
      this.resolveResponse = resolve;
      this.rejectResponse = reject;
    });
    // The caller may race this promise and walk away; never leave a rejection unobserved.
    this.response.catch(() => {});
  }

  start(): void {
    const url = new URL(this.request.url);
    this.dispatcher.dispatch(
      {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: "GET",
        headers: this.request.headers,
        // Our own idle and deadline timers apply, and only while we wait for the network.
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      this,
    );
  }

  /**
   * Without waiting: the next queued chunk, `null` at the end of the body, `undefined` when
   * nothing has arrived yet; throws {@link ExchangeError} once the queue is drained after a
   * failure. The fast path: a consumer that keeps up never sets a timer per chunk.
   */
  take(): Buffer | null | undefined {
    const chunk = this.queue.shift();
    if (chunk !== undefined) {
      this.queuedBytes -= chunk.length;
      if (this.queuedBytes < this.highWaterMark && this.controller?.paused) {
        this.controller.resume();
      }
      return chunk;
    }
    if (this.failure) throw this.failure;
    if (this.ended) return null;
    return undefined;
  }

  /** The next chunk, `null` at the end of the body; rejects with {@link ExchangeError}. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.take();
      if (chunk !== undefined) return chunk;
      await new Promise<void>((resolve) => {
        this.waiter = { resolve };
      });
    }
  }

  /** Stops the exchange; undici destroys the socket. Safe to call at any time, repeatedly. */
  abort(reason: Error): void {
    if (this.ended || this.failure) return;
    if (this.controller) this.controller.abort(reason);
    else this.pendingAbort = reason;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.pendingAbort) controller.abort(this.pendingAbort);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: ResponseHeaders,
  ): void {
    if (statusCode < 200) return;
    this.controller = controller;
    this.gotResponse = true;
    this.resolveResponse({ status: statusCode, headers });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    if (this.queuedBytes >= this.highWaterMark) controller.pause();
    this.wake();
  }

  onResponseEnd(): void {
    this.ended = true;
    this.wake();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    const code = (error as { code?: string }).code;
    // undici reports a FIN from the server before the announced end as "other side closed".
    const serverClosed = code === "UND_ERR_SOCKET" && /other side closed/.test(error.message);
    this.failure = new ExchangeError(error, serverClosed);
    if (!this.gotResponse) this.rejectResponse(this.failure);
    this.wake();
  }
}
