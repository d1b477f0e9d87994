// The download object: an async iterable of chunks and an event emitter, driving the pure policy
// with one undici exchange at a time.
import { createHash, type Hash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { DeviceError } from "@runtime/errors";
import { EventEmitter } from "eventemitter3";
import type { Dispatcher } from "undici";
import { createDispatcher, localConnectionOf } from "./dispatcher.js";
import { DownloadAbortedError, DownloadError, errorFor, IntegrityError } from "./errors.js";
import { Exchange, ExchangeError } from "./exchange.js";
import { redactUrl, resumeKeyOf } from "./http.js";
import { interfaceForAddress } from "./interface.js";
import { internals } from "./internal.js";
import { type DownloadOptions, type NormalizedOptions, normalizeOptions } from "./options.js";
import {
  createPolicy,
  type Decision,
  type GiveUp,
  nextRequest,
  onAbort,
  onData,
  onEnd,
  onFailure,
  onResponse,
  onTimeout,
  type PolicyState,
  type RequestPlan,
  type ResumePoint,
  type RetryReason,
} from "./policy.js";
import { percentOf, RateMeter } from "./progress.js";
import { type FileResult, type ToFileOptions, writeToFile } from "./to-file.js";

export interface ResponseEvent {
  /** HTTP status of the response. */
  status: number;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
  /** The URL answered (after redirects), query hidden. */
  url: string;
  /** First byte asked for (0 when no Range was sent). */
  from: number;
  /** Name of the local interface that carried the connection, when a table says so. */
  interface: string | undefined;
  localAddress: string | undefined;
}

export interface ProgressEvent {
  /** Bytes the consumer holds (including any resumed prefix). */
  bytes: number;
  /** Full length, when the server announced it. */
  total: number | undefined;
  /** 0..100 with two decimals, undefined without a total. */
  percent: number | undefined;
  /** Bytes per second received over the last five seconds. */
  rate: number;
  interface: string | undefined;
  localAddress: string | undefined;
}

export interface RetryEvent {
  reason: RetryReason;
  /** The attempt about to be made: 2 for the first retry. */
  attempt: number;
  /** Milliseconds before it is made. */
  delay: number;
  /** Bytes held; the retry asks for the rest. */
  bytes: number;
  /** For `http_status`. */
  status?: number;
  /** The network error behind `connect_failed`, `disconnected`, `content_length_mismatch`. */
  error?: Error;
}

export interface RestartEvent {
  /** Bytes the consumer held and must now drop: the next chunk is byte 0 again. */
  discardedBytes: number;
}

export interface WarningEvent {
  code: "bytes_beyond_content_length";
  message: string;
  /** Where the announced content ended (absolute byte position). */
  expected: number;
  /** Bytes the server sent beyond it (seen so far; the rest is not read). */
  excess: number;
}

export interface CompleteEvent {
  bytes: number;
  /** Hex SHA-256 of the whole resource, when computed (`sha256` or `computeSha256`). */
  sha256: string | undefined;
  interface: string | undefined;
  localAddress: string | undefined;
  /** Attempts made (1 + retries). */
  attempts: number;
  restarts: number;
  durationMs: number;
}

export interface DownloadEvents {
  response: (event: ResponseEvent) => void;
  progress: (event: ProgressEvent) => void;
  retry: (event: RetryEvent) => void;
  restart: (event: RestartEvent) => void;
  warning: (event: WarningEvent) => void;
  complete: (event: CompleteEvent) => void;
  error: (error: DownloadError) => void;
}

/** What `toFile` and custom consumers need to continue the download later. */
export interface ResumeState extends ResumePoint {
  /** Origin and path of the URL (no query): identifies the resource across presigned URLs. */
  key: string;
}

/** @internal Items of the internal stream: data, or "drop what you have". */
export type Item = { type: "data"; chunk: Buffer } | { type: "restart"; discardedBytes: number };

/** @internal How a consumer starts the stream. */
export interface RunSetup {
  allowRestart: boolean;
  resume: ResumePoint | undefined;
  resumeHash: Hash | undefined;
}

class Stop {
  constructor(readonly kind: "idle" | "worst_case" | "max_timeout" | "aborted") {}
}

interface PendingWait {
  /** Clock time at which the wait gives up. */
  limitAt: number;
  kind: Stop["kind"];
  stop(stop: Stop): void;
}

const clock = () => performance.now();

/** @internal */
export function alreadyConsumed(): DeviceError {
  return new DeviceError("ALREADY_CONSUMED", "a download can be iterated or saved only once");
}

/**
 * One download. Iterate it (`for await (const chunk of download)`) or call `toFile(path)`, once.
 * Nothing happens until then. Events: `response`, `progress`, `retry`, `restart`, `warning`,
 * `complete`, `error`.
 */
export class Download extends EventEmitter<DownloadEvents> implements AsyncIterable<Uint8Array> {
  /** The URL as given (normalized). */
  readonly url: string;
  private readonly options: NormalizedOptions;
  private consumed = false;
  private state: PolicyState | undefined;
  private exchange: Exchange | undefined;
  private dispatcher: Dispatcher | undefined;
  private ownDispatcher = false;
  private readonly aborter = new AbortController();
  private connection: { interface: string | undefined; localAddress: string | undefined } = {
    interface: undefined,
    localAddress: undefined,
  };
  private lastNetworkError: Error | undefined;
  /** The network wait in progress, if any, and its single watchdog timer. */
  private pendingWait: PendingWait | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private watchdogAt = 0;

  constructor(url: string | URL, options: DownloadOptions = {}) {
    super();
    this.options = normalizeOptions(url, options);
    this.url = this.options.url;
    this.aborter.signal.addEventListener(
      "abort",
      () => this.pendingWait?.stop(new Stop("aborted")),
      { once: true },
    );
    const signal = this.options.signal;
    if (signal) {
      const onAbort = () => this.abort(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      this.aborter.signal.addEventListener("abort", () =>
        signal.removeEventListener("abort", onAbort),
      );
    }
  }

  /** Bytes the consumer holds so far. */
  get bytes(): number {
    return this.state?.offset ?? this.options.resumeFrom?.bytes ?? 0;
  }

  /** Full length, once a response announced it. */
  get total(): number | undefined {
    return this.state?.total ?? this.options.resumeFrom?.total;
  }

  /** The local interface of the current (or last) connection, when a table names it. */
  get interface(): string | undefined {
    return this.connection.interface;
  }

  /**
   * Where to resume later: persist it with the bytes and pass it back as `resumeFrom` (and the
   * same resource's SHA-256 state as `resumeHash`). `bytes` is 0 when the bytes held are known to
   * be stale (the resource changed and the download was about to fetch it again).
   */
  resumeState(): ResumeState {
    const state = this.state;
    const point: ResumeState = { key: resumeKeyOf(this.url), bytes: this.bytes };
    if (state?.refetch) return { key: point.key, bytes: 0 };
    const validator = state?.validator ?? this.options.resumeFrom;
    if (validator?.etag !== undefined) point.etag = validator.etag;
    if (validator?.lastModified !== undefined) point.lastModified = validator.lastModified;
    if (this.total !== undefined) point.total = this.total;
    return point;
  }

  /** Cancels the download: the connection is closed at once and the consumer gets `ABORTED`. */
  abort(reason?: unknown): void {
    if (this.aborter.signal.aborted) return;
    this.aborter.abort(reason ?? new Error("aborted"));
    const error = new Error("download aborted");
    this.exchange?.abort(error);
    if (this.ownDispatcher) this.dispatcher?.destroy(error).catch(() => {});
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    const items = this.run({
      allowRestart: this.options.allowRestart,
      resume: this.options.resumeFrom,
      resumeHash: this.options.resumeHash,
    });
    // A thin iterator rather than a second generator: one promise per chunk, not two.
    const iterator: AsyncIterableIterator<Uint8Array> = {
      async next() {
        for (;;) {
          const result = await items.next();
          if (result.done) return { done: true, value: undefined };
          if (result.value.type === "data") return { done: false, value: result.value.chunk };
        }
      },
      async return() {
        await items.return(undefined);
        return { done: true, value: undefined };
      },
      async throw(error?: unknown) {
        await items.throw(error);
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /**
   * Streams the resource into `path` through `path.partial` (fsynced, with a small state file so
   * a later call resumes after a crash or reboot), verifies it, then renames it into place.
   */
  toFile(path: string, options: ToFileOptions = {}): Promise<FileResult> {
    return writeToFile(this, path, options);
  }

  /** @internal */
  get [internals]() {
    return {
      options: this.options,
      consumed: this.consumed,
      run: (setup: RunSetup) => this.run(setup),
      connection: () => this.connection,
    };
  }

  private async *run(setup: RunSetup): AsyncGenerator<Item, void, undefined> {
    if (this.consumed) throw alreadyConsumed();
    this.consumed = true;
    const options = this.options;
    const startedAt = clock();
    let state = createPolicy(
      {
        retry: options.retry,
        maxRedirects: options.maxRedirects,
        allowRestart: setup.allowRestart,
        ...(options.size !== undefined ? { expectedSize: options.size } : {}),
      },
      { url: this.url, now: startedAt, ...(setup.resume ? { resume: setup.resume } : {}) },
    );
    this.state = state;
    const hashing = options.sha256 !== undefined || options.computeSha256;
    let hash = hashing ? (setup.resumeHash ?? createHash("sha256")) : undefined;
    if (hashing && state.offset > 0 && setup.resumeHash === undefined) {
      // Without the earlier bytes' hash state the digest would be meaningless.
      hash = undefined;
    }
    this.ownDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      createDispatcher({
        ...(options.tls ? { tls: options.tls } : {}),
        ...(options.proxy ? { proxy: options.proxy } : {}),
        connectTimeout: options.retry.idleTimeout,
      });
    const rate = new RateMeter();
    let received = 0;
    let lastProgress = -Infinity;
    const progress = (force: boolean) => {
      const now = clock();
      rate.record(now, received);
      if (!force && now - lastProgress < options.progressInterval) return;
      lastProgress = now;
      const current = this.state!;
      this.emit("progress", {
        bytes: current.offset,
        total: current.total,
        percent: percentOf(current.offset, current.total),
        rate: rate.rate(),
        ...this.connection,
      });
    };

    let finished = false;
    let completed = false;
    try {
      let decision: Decision = this.aborter.signal.aborted
        ? onAbort(state)
        : nextRequest(state, clock());
      for (;;) {
        state = decision.state;
        this.state = state;
        if (decision.type === "fail") throw this.errorFrom(decision.giveUp);
        if (decision.type === "complete") {
          progress(true);
          const digest = hash?.digest("hex");
          if (options.sha256 !== undefined && digest !== options.sha256) {
            throw new IntegrityError(
              "sha256",
              options.sha256,
              digest ?? "unknown",
              `the SHA-256 is ${digest} where ${options.sha256} was expected`,
              this.errorContext(),
            );
          }
          finished = true;
          completed = true;
          this.emit("complete", {
            bytes: state.offset,
            sha256: digest,
            ...this.connection,
            attempts: state.attempts,
            restarts: state.restarts,
            durationMs: clock() - startedAt,
          });
          return;
        }
        if (decision.type === "retry") {
          this.exchange?.abort(new Error(`retrying: ${decision.reason}`));
          const retry: RetryEvent = {
            reason: decision.reason,
            attempt: state.attempts + 1,
            delay: decision.delayMs,
            bytes: state.offset,
          };
          if (decision.status !== undefined) retry.status = decision.status;
          if (this.lastNetworkError) retry.error = this.lastNetworkError;
          this.emit("retry", retry);
          const slept = await this.sleep(decision.delayMs, state);
          decision = slept ?? nextRequest(state, clock());
          continue;
        }
        if (decision.type === "request") {
          decision = await this.send(decision.request, state);
          continue;
        }
        // A body to read.
        if (decision.restart) {
          hash = hashing ? createHash("sha256") : undefined;
          const discardedBytes = decision.discarded;
          this.emit("restart", { discardedBytes });
          yield { type: "restart", discardedBytes };
        }
        const exchange = this.exchange!;
        let budget = decision.budgetMs;
        for (;;) {
          let chunk: Buffer | null | undefined;
          try {
            if (this.aborter.signal.aborted) throw new Stop("aborted");
            chunk = exchange.take();
            if (chunk === undefined) {
              const waitStart = clock();
              chunk = await this.waitForNetwork(exchange.next(), state, budget);
              if (budget !== undefined) budget -= clock() - waitStart;
            }
          } catch (error) {
            decision = this.failureDecision(error, state, exchange);
            break;
          }
          if (chunk === null) {
            decision = onEnd(state, clock());
            break;
          }
          received += chunk.length;
          const plan = onData(state, chunk.length);
          state = plan.state;
          this.state = state;
          if (plan.to > plan.from) {
            const slice =
              plan.from === 0 && plan.to === chunk.length
                ? chunk
                : chunk.subarray(plan.from, plan.to);
            hash?.update(slice);
            progress(false);
            yield { type: "data", chunk: slice };
          } else {
            progress(false);
          }
          if (plan.excess > 0) {
            this.emit("warning", {
              code: "bytes_beyond_content_length",
              message: `the server sent bytes beyond the announced end (${state.offset}); they were ignored`,
              expected: state.offset,
              excess: plan.excess,
            });
          }
          if (plan.after) {
            exchange.abort(new Error("body no longer needed"));
            decision = plan.after;
            break;
          }
        }
      }
    } catch (error) {
      finished = true;
      // Anything else is a bug or a throwing event listener: let it through as it is.
      if (!(error instanceof DownloadError)) throw error;
      this.emit("error", error);
      throw error;
    } finally {
      if (!finished) {
        // The consumer stopped iterating early.
        this.emit(
          "error",
          new DownloadAbortedError("the consumer stopped reading", this.errorContext()),
        );
      }
      await this.cleanUp(completed);
    }
  }

  private async send(request: RequestPlan, state: PolicyState): Promise<Decision> {
    this.exchange?.abort(new Error("superseded"));
    const exchange = new Exchange(
      this.dispatcher!,
      { url: request.url, headers: { ...this.options.headers, ...request.headers } },
      this.options.highWaterMark,
    );
    this.exchange = exchange;
    exchange.start();
    let response: Awaited<Exchange["response"]>;
    try {
      response = await this.waitForNetwork(exchange.response, state, undefined);
    } catch (error) {
      return this.failureDecision(error, state, exchange);
    }
    this.lastNetworkError = undefined;
    const local = localConnectionOf(this.dispatcher!, request.url);
    const localAddress = local?.localAddress;
    this.connection = {
      interface: this.options.table
        ? interfaceForAddress(this.options.table, localAddress)
        : undefined,
      localAddress,
    };
    this.emit("response", {
      status: response.status,
      attempt: request.attempt,
      url: redactUrl(request.url),
      from: request.from,
      ...this.connection,
    });
    const decision = onResponse(state, response, clock());
    if (decision.type !== "body") exchange.abort(new Error("response not used"));
    return decision;
  }

  private failureDecision(error: unknown, state: PolicyState, exchange: Exchange): Decision {
    if (error instanceof Stop) {
      exchange.abort(new Error(`stopped: ${error.kind}`));
      if (error.kind === "aborted") return onAbort(state);
      if (error.kind === "idle") {
        this.lastNetworkError = undefined;
        return onFailure(state, { kind: "idle" }, clock());
      }
      return onTimeout(state, error.kind);
    }
    if (error instanceof ExchangeError) {
      if (this.aborter.signal.aborted) return onAbort(state);
      this.lastNetworkError = error.cause;
      return onFailure(state, { kind: "network", serverClosed: error.serverClosed }, clock());
    }
    throw error;
  }

  /**
   * Waits for the network, bounded by the idle timeout, the body's remaining worst-case budget,
   * `maxTimeout` and the abort signal. Only these waits count against idle and worst-case time.
   */
  private waitForNetwork<T>(
    work: Promise<T>,
    state: PolicyState,
    budget: number | undefined,
  ): Promise<T> {
    // The work may fail after we stopped waiting for it; that is not an unhandled rejection.
    work.catch(() => {});
    if (this.aborter.signal.aborted) return Promise.reject(new Stop("aborted"));
    const now = clock();
    let limitAt = now + this.options.retry.idleTimeout;
    let kind: Stop["kind"] = "idle";
    if (state.deadline < limitAt) [limitAt, kind] = [state.deadline, "max_timeout"];
    if (budget !== undefined && now + budget < limitAt)
      [limitAt, kind] = [now + budget, "worst_case"];
    return new Promise<T>((resolve, reject) => {
      const wait: PendingWait = {
        limitAt,
        kind,
        stop: (stop) => {
          if (this.pendingWait !== wait) return;
          this.pendingWait = undefined;
          reject(stop);
        },
      };
      this.pendingWait = wait;
      this.armWatchdog(limitAt);
      work.then(
        (value) => {
          if (this.pendingWait !== wait) return;
          this.pendingWait = undefined;
          resolve(value);
        },
        (error) => {
          if (this.pendingWait !== wait) return;
          this.pendingWait = undefined;
          reject(error);
        },
      );
    });
  }

  /**
   * One timer for all network waits: most waits end long before their limit, so instead of a
   * timer per chunk, the watchdog fires at the earliest limit it knows and then checks whether
   * the wait in progress (if any) has run out; if not, it sleeps until that wait's limit.
   */
  private armWatchdog(limitAt: number): void {
    if (this.watchdog && this.watchdogAt <= limitAt) return;
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdogAt = limitAt;
    this.watchdog = setTimeout(
      () => {
        this.watchdog = undefined;
        const wait = this.pendingWait;
        if (!wait) return;
        if (clock() >= wait.limitAt) wait.stop(new Stop(wait.kind));
        else this.armWatchdog(wait.limitAt);
      },
      Math.max(0, limitAt - clock()),
    );
    // It may outlive the last wait; the sockets, not this timer, keep the process alive.
    this.watchdog.unref();
  }

  /** Waits between retries; resolves with a decision only when the wait itself ends the download. */
  private sleep(delayMs: number, state: PolicyState): Promise<Decision | undefined> {
    const signal = this.aborter.signal;
    if (signal.aborted) return Promise.resolve(onAbort(state));
    return new Promise((resolve) => {
      const onAbortSignal = () => {
        clearTimeout(timer);
        resolve(onAbort(state));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbortSignal);
        resolve(undefined);
      }, delayMs);
      signal.addEventListener("abort", onAbortSignal, { once: true });
    });
  }

  private errorContext() {
    const state = this.state;
    return {
      url: redactUrl(this.url),
      bytes: state?.offset ?? 0,
      attempts: Math.max(1, state?.attempts ?? 0),
      ...(state?.lastReason ? { lastReason: state.lastReason } : {}),
    };
  }

  private errorFrom(giveUp: GiveUp): DownloadError {
    const cause = giveUp.code === "ABORTED" ? this.aborter.signal.reason : this.lastNetworkError;
    return errorFor(giveUp, {
      ...this.errorContext(),
      url: this.url,
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  private async cleanUp(graceful: boolean): Promise<void> {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
    this.exchange?.abort(new Error("download finished"));
    this.aborter.abort(new Error("download finished"));
    if (this.ownDispatcher && this.dispatcher) {
      const dispatcher = this.dispatcher;
      await (graceful ? dispatcher.close() : dispatcher.destroy()).catch(() => {});
    }
  }
}

/**
 * Starts describing a download of `url`. Nothing is sent until the result is iterated or
 * `toFile()` is called. Throws a `ValidationError` for bad options.
 */
export function download(url: string | URL, options: DownloadOptions = {}): Download {
  return new Download(url, options);
}
