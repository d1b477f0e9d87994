// Against a real nginx on loopback: the happy path, a download aborted mid-way and resumed from
// its partial file, a file replaced on the server between the two, 416 and 404 as nginx sends
// them. Every result is compared byte for byte with the source.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeIntegration } from "@testing/netlab";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { download, HttpStatusError } from "../../src/index.js";
import { patternBytes } from "../support/fault-server.js";
import { collect, sameBytes, sha256 } from "../support/helpers.js";
import { type Nginx, startNginx } from "../support/nginx.js";

const SIZE = 48 * 1024 * 1024;

describeIntegration("downloads from nginx", { tools: ["nginx"] }, () => {
  let nginx: Nginx;
  let source: Buffer;
  let dir: string;
  let target: string;

  beforeAll(async () => {
    nginx = await startNginx();
    source = patternBytes(SIZE, 21);
    await writeFile(join(nginx.root, "fw.fw"), source);
  });
  afterAll(async () => {
    await nginx?.stop();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "downloader-nginx-test-"));
    target = join(dir, "fw.fw");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts toFile and aborts it once `fraction` of the file is on disk. */
  async function abortedAt(fraction: number) {
    const controller = new AbortController();
    const job = download(nginx.url("/fw.fw"), { signal: controller.signal, progressInterval: 0 });
    job.on("progress", (event) => {
      if (event.bytes >= SIZE * fraction) controller.abort(new Error("reboot"));
    });
    const error = await job
      .toFile(target, { checkpointBytes: 1024 * 1024 })
      .catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: "ABORTED" });
    const partial = await stat(`${target}.partial`);
    expect(partial.size).toBeGreaterThanOrEqual(SIZE * fraction);
    expect(partial.size).toBeLessThan(SIZE);
    return partial.size;
  }

  it("downloads the file byte for byte, verified by SHA-256", async () => {
    const job = download(nginx.url("/fw.fw"), { sha256: sha256(source), size: SIZE });
    expect(sameBytes(await collect(job), source)).toBe("same");
    expect((await nginx.accessLog()).at(-1)).toMatchObject({
      status: 200,
      range: "-",
      bytes: SIZE,
    });
  });

  it("resumes a download aborted mid-way from its partial file", async () => {
    const held = await abortedAt(0.4);
    const result = await download(nginx.url("/fw.fw"), { sha256: sha256(source) }).toFile(target);
    expect(result).toMatchObject({ resumedFrom: held, bytes: SIZE, sha256: sha256(source) });
    // nginx answered the resume with exactly the missing bytes.
    expect((await nginx.accessLog()).at(-1)).toMatchObject({
      status: 206,
      range: `bytes=${held}-`,
      bytes: SIZE - held,
    });
    expect(sameBytes(await readFile(target), source)).toBe("same");
    expect(await readdir(dir)).toEqual(["fw.fw"]);
  });

  it("starts over when the file on the server changed in between (If-Range)", async () => {
    await abortedAt(0.3);
    const replaced = patternBytes(SIZE - 4096, 22);
    try {
      // Same path, new content: nginx's ETag (mtime and size) no longer matches the partial's.
      await writeFile(join(nginx.root, "fw.fw"), replaced);
      const job = download(nginx.url("/fw.fw"), { sha256: sha256(replaced) });
      const restarts: number[] = [];
      job.on("restart", (event) => restarts.push(event.discardedBytes));
      await job.toFile(target);
      expect(restarts).toHaveLength(1);
      expect((await nginx.accessLog()).at(-1)).toMatchObject({
        status: 200,
        bytes: replaced.length,
      });
      expect(sameBytes(await readFile(target), replaced)).toBe("same");
    } finally {
      await writeFile(join(nginx.root, "fw.fw"), source);
    }
  });

  it("completes a resume point at the end with nginx's 416", async () => {
    const probe = download(nginx.url("/fw.fw"));
    const iterator = probe[Symbol.asyncIterator]();
    await iterator.next();
    const { etag } = probe.resumeState();
    await iterator.return?.();
    expect(etag).toMatch(/^"/);
    const job = download(nginx.url("/fw.fw"), {
      resumeFrom: { bytes: SIZE, etag: etag as string },
    });
    expect((await collect(job)).length).toBe(0);
    expect((await nginx.accessLog()).at(-1)).toMatchObject({
      status: 416,
      range: `bytes=${SIZE}-`,
    });
  });

  it("does not retry nginx's 404", async () => {
    const before = (await nginx.accessLog()).length;
    const error = await collect(
      download(nginx.url("/missing.fw"), { retry: { timeBetweenRetries: 5 } }),
    ).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((await nginx.accessLog()).slice(before).map((entry) => entry.status)).toEqual([404]);
  });
});
