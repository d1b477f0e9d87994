import { describe, expect, it } from "vitest";
import { createCommandRunner, restartDelay, supervise } from "../src/index.js";
import { RecordingCommandRunner } from "../src/testing.js";

describe("restartDelay", () => {
  it("doubles from the initial delay up to the maximum", () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 1_000 };
    expect([0, 1, 2, 3, 4, 5].map((attempt) => restartDelay(policy, attempt))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
  });

  it("defaults to 1 s doubling to 60 s", () => {
    expect(restartDelay({}, 0)).toBe(1_000);
    expect(restartDelay({}, 10)).toBe(60_000);
  });
});

describe("supervise", () => {
  it("restarts a process that exits, with growing delays, until told to stop", async () => {
    const runner = new RecordingCommandRunner();
    const supervised = supervise(runner, ["daemon", "-f"], {
      restart: { initialDelayMs: 5, maxDelayMs: 20 },
    });
    const delays: Array<number | undefined> = [];
    supervised.on("exit", (_exit, delay) => delays.push(delay));
    for (let i = 0; i < 4; i++) {
      const current = runner.started.at(-1)!;
      current.exit({ exitCode: 1, signal: null });
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    expect(runner.started).toHaveLength(5);
    expect(delays).toEqual([5, 10, 20, 20]);
    await supervised.stop();
    expect(runner.started.at(-1)!.stopped).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(runner.started).toHaveLength(5);
  });

  it("gives up after maxRestarts consecutive quick exits", async () => {
    const runner = createCommandRunner();
    const supervised = supervise(runner, ["sh", "-c", "exit 7"], {
      restart: { initialDelayMs: 1, maxRestarts: 2 },
    });
    const starts: number[] = [];
    supervised.on("start", (_process, restarts) => starts.push(restarts));
    const lastExit = await new Promise((resolve) => supervised.on("give-up", resolve));
    expect(lastExit).toMatchObject({ exitCode: 7 });
    expect(supervised.restarts).toBe(2);
    await supervised.stop();
  });
});
