// The transport's own floor, for comparison: undici's dispatch with a handler that only counts
// bytes, in a fresh process. `node --import tsx bench/transport-floor-child.ts <url>`.
import { performance } from "node:perf_hooks";
import { Agent } from "undici";

const [url] = process.argv.slice(2);
if (!url) throw new Error("usage: transport-floor-child <url>");
const target = new URL(url);
const agent = new Agent();
const baselineRss = process.memoryUsage().rss;
let peakRss = baselineRss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 5);
const started = performance.now();
let bytes = 0;
await new Promise<void>((resolve, reject) => {
  agent.dispatch(
    {
      origin: target.origin,
      path: target.pathname,
      method: "GET",
      headersTimeout: 0,
      bodyTimeout: 0,
    },
    {
      // undici takes a handler without onRequestStart for one of the deprecated kind.
      onRequestStart() {},
      onResponseData(_controller, chunk: Buffer) {
        bytes += chunk.length;
      },
      onResponseEnd: () => resolve(),
      onResponseError: (_controller, error) => reject(error),
    },
  );
});
const milliseconds = performance.now() - started;
clearInterval(sampler);
await agent.close();
console.log(JSON.stringify({ bytes, milliseconds, baselineRss, peakRss }));
