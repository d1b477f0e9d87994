/**
 * Runs async tasks one at a time, in the order they were added: what a service needs when
 * daemon events and property changes must be applied in sequence. A failing task is reported to
 * `onError` and does not stop the ones after it.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Adds a task; resolves when it has run (never rejects). */
  add(task: () => void | Promise<void>): Promise<void> {
    this.tail = this.tail.then(task).catch((error: unknown) => {
      this.onError(error);
    });
    return this.tail;
  }

  /** Resolves once every task added so far, and any they added in turn, has run. */
  async settled(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.tail;
      await tail;
    } while (tail !== this.tail);
  }
}
