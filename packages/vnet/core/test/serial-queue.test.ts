import { describe, expect, it } from "vitest";
import { SerialQueue } from "../src/serial-queue.js";

describe("SerialQueue", () => {
  it("runs tasks one at a time in the order they were added", async () => {
    const errors: unknown[] = [];
    const queue = new SerialQueue((error) => errors.push(error));
    const log: string[] = [];
    let running = 0;
    const task = (name: string, ticks: number) => async () => {
      running++;
      expect(running).toBe(1);
      for (let tick = 0; tick < ticks; tick++) await Promise.resolve();
      log.push(name);
      running--;
    };
    void queue.add(task("slow", 5));
    void queue.add(task("fast", 0));
    await queue.add(task("last", 1));
    expect(log).toEqual(["slow", "fast", "last"]);
    expect(errors).toEqual([]);
  });

  it("reports a failing task and goes on with the next", async () => {
    const errors: unknown[] = [];
    const queue = new SerialQueue((error) => errors.push(error));
    const log: string[] = [];
    const failure = new Error("boom");
    await expect(
      queue.add(() => {
        throw failure;
      }),
    ).resolves.toBeUndefined();
    await queue.add(() => {
      log.push("after");
    });
    expect(errors).toEqual([failure]);
    expect(log).toEqual(["after"]);
  });

  it("settled() waits for tasks that tasks added", async () => {
    const queue = new SerialQueue(() => {});
    const log: string[] = [];
    void queue.add(async () => {
      await Promise.resolve();
      void queue.add(async () => {
        await Promise.resolve();
        log.push("added by a task");
      });
      log.push("first");
    });
    await queue.settled();
    expect(log).toEqual(["first", "added by a task"]);
  });
});
