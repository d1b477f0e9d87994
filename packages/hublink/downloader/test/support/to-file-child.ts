// Run by test/to-file.test.ts as a separate process that gets SIGKILLed mid-download:
// `node --import tsx to-file-child.ts <url> <path> <sha256>`. Prints one line per checkpoint-ish
// progress so the parent knows it is under way.
import { download } from "../../src/index.js";

const [url, path, sha256] = process.argv.slice(2);
if (!url || !path || !sha256) throw new Error("usage: to-file-child <url> <path> <sha256>");
const job = download(url, { sha256, progressInterval: 0, retry: { timeBetweenRetries: 10 } });
job.on("progress", (event) => console.log(`bytes ${event.bytes}`));
await job.toFile(path, { checkpointBytes: 64 * 1024, checkpointInterval: 50 });
console.log("done");
