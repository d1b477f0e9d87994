// The bench's hub, in its own process so the client's memory figure is the client's alone.
import { TestHub } from "@hublink/test-hub";

let hub: TestHub | undefined;
let counting:
  | { identifier: string; expected: number; seen: number; startedAt: number; done?: () => void }
  | undefined;

process.on("message", async (message: { type: string; identifier?: string; expected?: number }) => {
  if (message.type === "start") {
    hub = await TestHub.start({ idleTimeoutMs: 600_000, firmwareServer: false });
    const { key, secret } = hub.addProduct({ name: "bench", sharedSecrets: true })
      .sharedSecrets[0]!;
    process.send?.({ url: hub.url, key, secret });
  } else if (message.type === "count") {
    counting = {
      identifier: message.identifier!,
      expected: message.expected!,
      seen: 0,
      startedAt: 0,
    };
    hub!.on("updateStatus", (identifier) => {
      if (!counting || identifier !== counting.identifier) return;
      if (counting.seen === 0) counting.startedAt = performance.now();
      counting.seen++;
      if (counting.seen === counting.expected) counting.done?.();
    });
    process.send?.({ ok: true });
  } else if (message.type === "wait") {
    const state = counting!;
    if (state.seen < state.expected) await new Promise<void>((resolve) => (state.done = resolve));
    process.send?.({ elapsedMs: performance.now() - state.startedAt });
  } else if (message.type === "stop") {
    await hub?.stop();
    process.send?.({ ok: true });
  }
});
