// One measured download in a fresh process, so its RSS figures belong to the download alone:
// `node --import tsx bench/download-child.ts <warm-up url> <url> <iterate|file> [target] [sha256]`.
// Prints one JSON line: bytes, milliseconds, RSS before and peak RSS (bytes).
import { performance } from "node:perf_hooks";
import { download } from "../src/index.js";

const [warmUpUrl, url, mode, target, sha256] = process.argv.slice(2);
if (!warmUpUrl || !url || (mode !== "iterate" && mode !== "file")) {
  throw new Error("usage: download-child <warm-up url> <url> <iterate|file> [target] [sha256]");
}

// Warm up with a small file, so the baseline holds the loaded code and not the data.
for await (const _chunk of download(warmUpUrl)) {
}
const baselineRss = process.memoryUsage().rss;
let peakRss = baselineRss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 5);

const started = performance.now();
let bytes = 0;
const options = sha256 ? { sha256 } : {};
if (mode === "iterate") {
  for await (const chunk of download(url, options)) bytes += chunk.length;
} else {
  if (!target) throw new Error("file mode needs a target path");
  bytes = (await download(url, options).toFile(target)).bytes;
}
const milliseconds = performance.now() - started;
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
console.log(JSON.stringify({ bytes, milliseconds, baselineRss, peakRss }));
