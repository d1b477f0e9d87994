import { performance } from "node:perf_hooks";
import { isDeepStrictEqual } from "node:util";
import { ANY, checkPath, checkPattern, type Pattern, type PropertyPath } from "./path.js";
import { type PersistenceOptions, type SnapshotInfo, TablePersistence } from "./persistence.js";
import { type Entry, PropertyStore } from "./store.js";
import { type Subscription, SubscriptionIndex } from "./subscriptions.js";

/** A change to one property, delivered to every subscriber whose pattern matches it. */
export interface PropertyEvent<V = unknown> {
  readonly table: PropertyTable;
  readonly property: PropertyPath;
  /** The new value; `undefined` when the property was deleted. */
  readonly value: V | undefined;
  /** The value before; `undefined` when the property did not exist. */
  readonly previousValue: V | undefined;
  /** Monotonic time of this change in milliseconds (see `now`). */
  readonly timestamp: number;
  /** When the previous value was set; the table's start time for a new property. */
  readonly previousTimestamp: number;
  /** True when the property was removed. */
  readonly deleted: boolean;
}

export type PropertyListener = (event: PropertyEvent) => void;

export interface PropertyTableOptions {
  /** Initial properties, stored without events. With persistence: only where nothing was restored. */
  properties?: Iterable<readonly [PropertyPath, unknown]>;
  /** Monotonic clock in milliseconds. Default `performance.now()`. Inject a fake in tests. */
  now?: () => number;
  /**
   * Receives errors thrown by subscribers. The writer and the other subscribers are never
   * affected. Default: a process warning naming the pattern and the property.
   */
  onSubscriberError?: (error: unknown, event: PropertyEvent, pattern: Pattern) => void;
  /** Keep the table on disk; see {@link PersistenceOptions}. */
  persistence?: PersistenceOptions;
}

export interface TimestampedValue<V = unknown> {
  value: V;
  timestamp: number;
}

/**
 * An in-memory table of properties (paths of strings) with values, the time each value was set,
 * and pattern subscriptions that hear about every real change, in one total order.
 */
export class PropertyTable {
  /** Monotonic time the table was created; the `previousTimestamp` of brand-new properties. */
  readonly startedAt: number;
  private readonly store = new PropertyStore();
  private readonly subscriptions = new SubscriptionIndex<PropertyListener>();
  private readonly now: () => number;
  private readonly onSubscriberError: NonNullable<PropertyTableOptions["onSubscriberError"]>;
  private readonly persistence: TablePersistence | undefined;
  private readonly pending: PropertyEvent[] = [];
  private dispatching = false;

  constructor(options: PropertyTableOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.onSubscriberError = options.onSubscriberError ?? defaultSubscriberErrorHandler;
    this.startedAt = this.now();
    const initial = [...(options.properties ?? [])];
    checkEntries(initial, "properties[#]");

    if (options.persistence) {
      this.persistence = new TablePersistence(options.persistence);
      for (const [property, value] of this.persistence.restore()) {
        this.store.set(property, value, this.startedAt);
      }
    }
    for (const [property, value] of initial) {
      if (!this.store.get(property)) this.store.set(property, value, this.startedAt);
    }
    this.persistence?.attach(() => this.getAll());
  }

  /** Number of properties. */
  get size(): number {
    return this.store.size;
  }

  /** The value of `property`, or `defaultValue` (default `undefined`) when absent. */
  get<V = unknown>(property: PropertyPath): V | undefined;
  get<V = unknown>(property: PropertyPath, defaultValue: V): V;
  get<V = unknown>(property: PropertyPath, defaultValue?: V): V | undefined {
    const entry = this.store.get(property);
    return entry ? (entry.value as V) : defaultValue;
  }

  has(property: PropertyPath): boolean {
    return this.store.get(property) !== undefined;
  }

  /** The value and the monotonic time it was set, or `undefined` when absent. */
  fetchWithTimestamp<V = unknown>(property: PropertyPath): TimestampedValue<V> | undefined {
    const entry = this.store.get(property);
    return entry ? { value: entry.value as V, timestamp: entry.timestamp } : undefined;
  }

  /** Every property and value. Order is unspecified. */
  getAll(): Array<[PropertyPath, unknown]> {
    return this.store.all().map(toPair);
  }

  getAllWithTimestamps(): Array<[PropertyPath, TimestampedValue]> {
    return this.store
      .all()
      .map((entry) => [entry.property, { value: entry.value, timestamp: entry.timestamp }]);
  }

  /** Properties matched by `pattern` (prefix match, `ANY`, `END`). Order is unspecified. */
  match(pattern: Pattern): Array<[PropertyPath, unknown]> {
    checkPattern(pattern);
    return this.store.match(pattern).map(toPair);
  }

  /** Sets a value. No event and no new timestamp when the value is deep-equal to the current one. */
  put(property: PropertyPath, value: unknown): void {
    checkPath(property);
    checkValue(value, "value");
    const event = this.write(property, value, this.now());
    if (event) this.dispatch([event]);
  }

  /**
   * Sets several values with one timestamp. All paths are checked first: one invalid path throws
   * and nothing is stored. For a repeated path the last value wins. One event per real change,
   * in the order of each path's last occurrence.
   */
  putMany(entries: Iterable<readonly [PropertyPath, unknown]>): void {
    const list = [...entries];
    checkEntries(list, "entry #");
    const lastOccurrence = new Map<string, number>();
    for (const [index, [property]] of list.entries()) lastOccurrence.set(pathKey(property), index);
    const timestamp = this.now();
    const events: PropertyEvent[] = [];
    list.forEach(([property, value], index) => {
      if (lastOccurrence.get(pathKey(property)) !== index) return;
      const event = this.write(property, value, timestamp);
      if (event) events.push(event);
    });
    this.dispatch(events);
  }

  /** Removes a property. Nothing happens when it does not exist. */
  delete(property: PropertyPath): void {
    checkPath(property);
    const timestamp = this.now();
    const entry = this.store.delete(property);
    if (entry) this.dispatch([this.deletionEvent(entry, timestamp)]);
  }

  /** Removes every property `pattern` matches; all are gone before the first event is delivered. */
  deleteMatches(pattern: Pattern): void {
    checkPattern(pattern);
    const timestamp = this.now();
    const removed = this.store.match(pattern);
    for (const entry of removed) this.store.delete(entry.property);
    this.dispatch(removed.map((entry) => this.deletionEvent(entry, timestamp)));
  }

  /**
   * Calls `listener` for every change of a property `pattern` matches, synchronously and in the
   * table's single order of changes. Subscribe first, then read, to miss nothing.
   * Returns the function that ends the subscription.
   */
  subscribe(pattern: Pattern, listener: PropertyListener): () => void {
    checkPattern(pattern);
    if (typeof listener !== "function") {
      throw new TypeError("listener must be a function");
    }
    const subscription = this.subscriptions.add(Object.freeze([...pattern]), listener);
    return () => {
      if (subscription.active) this.subscriptions.remove(subscription);
    };
  }

  /** Writes the table to disk now if anything changed since the last write. */
  async flush(): Promise<void> {
    await this.requirePersistence().flush();
  }

  /** Writes the table, copies it into `snapshots/`, and returns the snapshot's id. */
  async snapshot(): Promise<string> {
    return this.requirePersistence().snapshot();
  }

  /** Saved snapshots, oldest first. */
  async snapshots(): Promise<SnapshotInfo[]> {
    return this.persistence ? this.persistence.snapshots() : [];
  }

  /**
   * Replaces the whole table with a snapshot's content. Unlike the Elixir original, subscribers
   * hear about every property that changed, so nobody keeps acting on a value that is gone.
   */
  async restoreSnapshot(id: string): Promise<void> {
    const restored = await this.requirePersistence().readSnapshot(id);
    const timestamp = this.now();
    const events: PropertyEvent[] = [];
    const keep = new Set(restored.map(([property]) => pathKey(property)));
    for (const entry of this.store.all()) {
      if (keep.has(pathKey(entry.property))) continue;
      this.store.delete(entry.property);
      events.push(this.deletionEvent(entry, timestamp));
    }
    for (const [property, value] of restored) {
      const event = this.write(property, value, timestamp);
      if (event) events.push(event);
    }
    this.dispatch(events);
    await this.persistence!.flush({ force: true });
  }

  /** Stops the persistence timer and writes pending changes. The table stays usable in memory. */
  async close(): Promise<void> {
    await this.persistence?.close();
  }

  private requirePersistence(): TablePersistence {
    if (!this.persistence) throw new Error("persistence is not enabled for this table");
    return this.persistence;
  }

  /** Applies one write to the store; returns its event, or nothing for a no-op. */
  private write(
    property: PropertyPath,
    value: unknown,
    timestamp: number,
  ): PropertyEvent | undefined {
    const existing = this.store.get(property);
    if (existing && isDeepStrictEqual(existing.value, value)) return undefined;
    const previousValue = existing?.value;
    const previousTimestamp = existing ? existing.timestamp : this.startedAt;
    this.store.set(property, value, timestamp);
    return {
      table: this,
      property: existing ? existing.property : Object.freeze([...property]),
      value,
      previousValue,
      timestamp,
      previousTimestamp,
      deleted: false,
    };
  }

  private deletionEvent(entry: Entry, timestamp: number): PropertyEvent {
    return {
      table: this,
      property: entry.property,
      value: undefined,
      previousValue: entry.value,
      timestamp,
      previousTimestamp: entry.timestamp,
      deleted: true,
    };
  }

  /**
   * Delivers events in one total order. A write made by a subscriber is stored at once, but its
   * events wait until the current event has reached every subscriber, so all subscribers see
   * all changes in the same order.
   */
  private dispatch(events: PropertyEvent[]): void {
    if (events.length === 0) return;
    this.persistence?.markDirty();
    this.pending.push(...events);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let index = 0; index < this.pending.length; index++) {
        const event = this.pending[index]!;
        for (const subscription of this.subscriptions.collect(event.property)) {
          if (subscription.active) this.deliver(subscription, event);
        }
      }
    } finally {
      this.pending.length = 0;
      this.dispatching = false;
    }
  }

  private deliver(subscription: Subscription<PropertyListener>, event: PropertyEvent): void {
    try {
      subscription.listener(event);
    } catch (error) {
      try {
        this.onSubscriberError(error, event, subscription.pattern);
      } catch (handlerError) {
        defaultSubscriberErrorHandler(handlerError, event, subscription.pattern);
      }
    }
  }
}

function toPair(entry: Entry): [PropertyPath, unknown] {
  return [entry.property, entry.value];
}

/** Collision-free key for a path (segments may contain any character). */
function pathKey(property: PropertyPath): string {
  return JSON.stringify(property);
}

/** Checks every path, then every value, before anything is stored; `#` becomes the index. */
function checkEntries(
  entries: ReadonlyArray<readonly [PropertyPath, unknown]>,
  what: string,
): void {
  for (const [index, [property]] of entries.entries()) {
    checkPath(property, `${what.replace("#", String(index))} path`);
  }
  for (const [index, [, value]] of entries.entries()) {
    checkValue(value, what.replace("#", String(index)));
  }
}

function checkValue(value: unknown, what: string): void {
  if (value === undefined) {
    throw new TypeError(`${what} is undefined: use delete() to remove a property`);
  }
}

function describePattern(pattern: Pattern): string {
  const shown = pattern.map((segment) =>
    typeof segment === "string" ? JSON.stringify(segment) : segment === ANY ? "ANY" : "END",
  );
  return `[${shown.join(", ")}]`;
}

function defaultSubscriberErrorHandler(
  error: unknown,
  event: PropertyEvent,
  pattern: Pattern,
): void {
  const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.emitWarning(
    `subscriber for ${describePattern(pattern)} threw on ${JSON.stringify(event.property)}: ${reason}`,
    { type: "PropertyTableSubscriberError" },
  );
}
