import type { Clock } from "../clock.js";

interface PendingTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A clock that only moves when told to. Timers fire in order of their due time (then of
 * creation) during `advance`; a timer set by a callback fires in the same `advance` if due.
 * Between timers, `advance` lets pending promise callbacks run, so async work that a timer
 * started gets to continue before the next timer fires.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly pending = new Map<number, PendingTimer>();

  constructor(start = 1_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { id, at: this.current + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Timers not yet fired, soonest first, as [due in ms]. */
  pendingTimers(): number[] {
    return [...this.pending.values()].map((timer) => timer.at - this.current).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    await flushPromises();
    for (;;) {
      const due = [...this.pending.values()]
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.pending.delete(due.id);
      this.current = Math.max(this.current, due.at);
      due.callback();
      await flushPromises();
    }
    this.current = target;
    await flushPromises();
  }
}

/** Lets queued promise callbacks and I/O completions that are already due run. */
export async function flushPromises(rounds = 5): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
