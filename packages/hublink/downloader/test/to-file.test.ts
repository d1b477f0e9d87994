// toFile: streaming to disk with checkpoints, verification, atomic finalization, and resuming
// after an abort, a reboot-like restart of the process, or a SIGKILL in the middle of writes.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileAtomic } from "@runtime/atomic-file";
import { ValidationError } from "@runtime/errors";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { download, type FileResult, HttpStatusError, IntegrityError } from "../src/index.js";
import { decodePartialState, encodePartialState } from "../src/state-file.js";
import { etagOf, FaultServer, patternBytes } from "./support/fault-server.js";
import { sameBytes, sha256, waitFor } from "./support/helpers.js";

const SOURCE = patternBytes(2 * 1024 * 1024, 11);
const ETAG = etagOf(SOURCE);
const quick = { retry: { timeBetweenRetries: 5 } };

let server: FaultServer;
let dir: string;
let target: string;
beforeEach(async () => {
  server = await FaultServer.start();
  server.setResource("/fw.fw", { content: SOURCE });
  dir = await mkdtemp(join(tmpdir(), "downloader-to-file-"));
  target = join(dir, "fw.fw");
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function readState() {
  return decodePartialState(await readFile(`${target}.partial.state`));
}

/** Starts a download to `target` and aborts it once the server has sent `bytes`. */
async function interruptedAt(bytes: number) {
  server.script("/fw.fw", [{ kind: "serve", stallAt: bytes }]);
  const controller = new AbortController();
  const job = download(server.url("/fw.fw"), { sha256: sha256(SOURCE), signal: controller.signal });
  const saving = job
    .toFile(target, { checkpointBytes: 64 * 1024 })
    .catch((error: unknown) => error);
  await waitFor(
    () => job.bytes,
    (held) => held >= bytes,
    { what: "the stall point" },
  );
  controller.abort(new Error("power cut"));
  return saving;
}

describe("toFile", () => {
  it("writes the verified file atomically and leaves nothing else behind", async () => {
    const job = download(server.url("/fw.fw"), { sha256: sha256(SOURCE), size: SOURCE.length });
    const result = await job.toFile(target);
    expect(result).toMatchObject({
      path: target,
      bytes: SOURCE.length,
      sha256: sha256(SOURCE),
      resumedFrom: 0,
    });
    expect(sameBytes(await readFile(target), SOURCE)).toBe("same");
    expect(await readdir(dir)).toEqual(["fw.fw"]);
    expect((await stat(target)).mode & 0o777).toBe(0o644);
  });

  it("keeps a partial file and its state when interrupted, and resumes from the checkpoint", async () => {
    const error = await interruptedAt(1_000_000);
    expect(error).toMatchObject({ code: "ABORTED" });
    expect((await readdir(dir)).sort()).toEqual(["fw.fw.partial", "fw.fw.partial.state"]);
    const state = await readState();
    expect(state).toMatchObject({ etag: ETAG, total: SOURCE.length, sha256: sha256(SOURCE) });
    // On abort every received byte is checkpointed.
    expect(state.bytes).toBe(1_000_000);
    expect((await stat(`${target}.partial`)).size).toBe(state.bytes);

    // "After the reboot": a new download of a freshly presigned URL for the same file.
    const result = await download(server.url("/fw.fw?X-Amz-Signature=new"), {
      sha256: sha256(SOURCE),
    }).toFile(target);
    expect(result).toMatchObject({ resumedFrom: 1_000_000, sha256: sha256(SOURCE) });
    expect(server.requests.at(-1)).toMatchObject({
      range: "bytes=1000000-",
      ifRange: ETAG,
      status: 206,
    });
    expect(sameBytes(await readFile(target), SOURCE)).toBe("same");
    expect(await readdir(dir)).toEqual(["fw.fw"]);
  });

  it("removes temporary state files a crash mid-checkpoint left behind", async () => {
    const stray = join(dir, ".fw.fw.partial.state.0123456789ab.tmp");
    await writeFile(stray, "half a state");
    await download(server.url("/fw.fw")).toFile(target);
    expect(await readdir(dir)).toEqual(["fw.fw"]);
  });

  it("deletes a partial the server proved stale when the refetch then fails", async () => {
    await interruptedAt(600_000);
    // The server lost the file's tail: the resume gets a 416 naming a shorter length, and the
    // fetch from zero that follows fails too.
    server.script("/fw.fw", [
      { kind: "status", status: 416, headers: { "content-range": "bytes */500000" } },
      { kind: "status", status: 500 },
    ]);
    const error = await download(server.url("/fw.fw"), {
      retry: { maxDisconnects: 1, timeBetweenRetries: 5 },
    })
      .toFile(target)
      .catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: "HTTP_STATUS", status: 500 });
    expect(server.ranges("/fw.fw").slice(-2)).toEqual(["bytes=600000-", "-"]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("trusts only checkpointed bytes: a longer partial file is cut back to the state", async () => {
    await interruptedAt(600_000);
    const state = await readState();
    // Bytes written after the last checkpoint (possibly garbage after a power cut).
    await writeFile(`${target}.partial`, Buffer.alloc(5_000, 0xff), { flag: "a" });
    await download(server.url("/fw.fw"), { sha256: sha256(SOURCE) }).toFile(target);
    expect(server.requests.at(-1)?.range).toBe(`bytes=${state.bytes}-`);
    expect(sameBytes(await readFile(target), SOURCE)).toBe("same");
  });

  it("starts over when the partial is shorter than its state claims, or the state is corrupt", async () => {
    await interruptedAt(600_000);
    await truncate(`${target}.partial`, 1_000);
    await download(server.url("/fw.fw")).toFile(target);
    expect(server.requests.at(-1)?.range).toBeUndefined();
    expect(sameBytes(await readFile(target), SOURCE)).toBe("same");

    await rm(target);
    await interruptedAt(600_000);
    const stateBytes = await readFile(`${target}.partial.state`);
    stateBytes.writeUInt8(
      stateBytes.readUInt8(stateBytes.length - 1) ^ 0xff,
      stateBytes.length - 1,
    );
    await writeFile(`${target}.partial.state`, stateBytes);
    await download(server.url("/fw.fw")).toFile(target);
    expect(server.requests.at(-1)?.range).toBeUndefined();
    expect(sameBytes(await readFile(target), SOURCE)).toBe("same");
  });

  it("starts over for another resource, another expected SHA-256, or resume: false", async () => {
    await interruptedAt(600_000);
    server.setResource("/other.fw", { content: SOURCE });
    await download(server.url("/other.fw")).toFile(target);
    expect(server.requests.at(-1)).toMatchObject({ path: "/other.fw", range: undefined });

    await rm(target);
    await interruptedAt(600_000);
    const wrongHash = sha256(Buffer.from("another firmware"));
    await expect(
      download(server.url("/fw.fw"), { sha256: wrongHash }).toFile(target),
    ).rejects.toBeInstanceOf(IntegrityError);
    expect(server.requests.at(-1)?.range).toBeUndefined();

    await interruptedAt(600_000);
    await download(server.url("/fw.fw")).toFile(target, { resume: false });
    expect(server.requests.at(-1)?.range).toBeUndefined();
    expect(sameBytes(await readFile(target), SOURCE)).toBe("same");
  });

  it("truncates and starts over when the file changed while the partial sat on disk", async () => {
    await interruptedAt(600_000);
    const NEW = patternBytes(SOURCE.length - 1234, 12);
    server.setResource("/fw.fw", { content: NEW });
    const job = download(server.url("/fw.fw"), { computeSha256: true });
    const restarts: number[] = [];
    job.on("restart", (event) => restarts.push(event.discardedBytes));
    const result = await job.toFile(target);
    expect(restarts).toEqual([600_000]);
    expect(server.requests.at(-1)).toMatchObject({
      range: "bytes=600000-",
      ifRange: ETAG,
      status: 200,
    });
    expect(result).toMatchObject({ bytes: NEW.length, sha256: sha256(NEW), restarts: 1 });
    expect(sameBytes(await readFile(target), NEW)).toBe("same");
  });

  it("restarts cleanly when a server ignores the Range of a partial without validators", async () => {
    server.setResource("/fw.fw", { content: SOURCE, etag: null });
    await interruptedAt(600_000);
    expect((await readState()).etag).toBeUndefined();
    server.script("/fw.fw", [{ kind: "serve", ignoreRange: true }]);
    await download(server.url("/fw.fw"), { sha256: sha256(SOURCE) }).toFile(target);
    expect(sameBytes(await readFile(target), SOURCE)).toBe("same");
  });

  it("finishes a partial that was already complete (crash before the rename) with one 416", async () => {
    await writeFile(`${target}.partial`, SOURCE);
    await writeFileAtomic(
      `${target}.partial.state`,
      encodePartialState({
        key: `http://127.0.0.1:${server.port}/fw.fw`,
        bytes: SOURCE.length,
        etag: ETAG,
        total: SOURCE.length,
      }),
    );
    const result = await download(server.url("/fw.fw"), { sha256: sha256(SOURCE) }).toFile(target);
    expect(result.resumedFrom).toBe(SOURCE.length);
    expect(server.requests.map((request) => request.status)).toEqual([416]);
    expect(sameBytes(await readFile(target), SOURCE)).toBe("same");
  });

  it("removes the partial download when verification fails", async () => {
    const wrong = sha256(Buffer.from("not it"));
    const error = await download(server.url("/fw.fw"), { sha256: wrong })
      .toFile(target)
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(await readdir(dir)).toEqual([]);
  });

  it("clears the partial state on a 404 during a resumed download (NervesHubLink 2.12.0)", async () => {
    await interruptedAt(600_000);
    server.script("/fw.fw", [{ kind: "status", status: 404 }]);
    const error = await download(server.url("/fw.fw"), quick)
      .toFile(target)
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error).toMatchObject({ status: 404, partialStale: true });
    expect(await readdir(dir)).toEqual([]);
  });

  it("keeps the partial on a 403, so a fresh URL can continue it", async () => {
    await interruptedAt(600_000);
    server.script("/fw.fw", [{ kind: "status", status: 403 }]);
    await expect(download(server.url("/fw.fw")).toFile(target)).rejects.toMatchObject({
      status: 403,
    });
    expect((await readdir(dir)).sort()).toEqual(["fw.fw.partial", "fw.fw.partial.state"]);
    const result = await download(server.url("/fw.fw?fresh=1")).toFile(target);
    expect(result.resumedFrom).toBe(600_000);
  });

  it("keeps resuming through drops within one call", async () => {
    server.script("/fw.fw", [
      { kind: "serve", dropAt: 500_000 },
      { kind: "serve", dropAt: 1_500_000, reset: true },
    ]);
    const result = await download(server.url("/fw.fw"), {
      ...quick,
      sha256: sha256(SOURCE),
    }).toFile(target);
    expect(result.attempts).toBe(3);
    expect(sameBytes(await readFile(target), SOURCE)).toBe("same");
  });

  it("refuses a second consumer without touching the first one's partial file", async () => {
    server.script("/fw.fw", [{ kind: "serve", stallAt: 600_000 }]);
    const job = download(server.url("/fw.fw"));
    const first = job
      .toFile(target, { checkpointBytes: 64 * 1024 })
      .catch((error: unknown) => error);
    await waitFor(
      () => job.bytes,
      (held) => held >= 600_000,
    );
    await expect(job.toFile(target)).rejects.toMatchObject({ code: "ALREADY_CONSUMED" });
    expect((await readdir(dir)).sort()).toContain("fw.fw.partial");
    job.abort();
    expect(await first).toMatchObject({ code: "ABORTED" });
    expect((await readState()).bytes).toBe(600_000);
  });

  it("rejects bad options before touching the disk", async () => {
    const job = download(server.url("/fw.fw"));
    await expect(job.toFile(target, { checkpointBytes: 0 })).rejects.toThrow(
      /toFile.checkpointBytes/,
    );
    await expect(job.toFile(target, { partialPath: target })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(job.toFile(target, { color: "red" } as never)).rejects.toThrow(
      /not a toFile option/,
    );
    await expect(download(server.url("/fw.fw"), { resumeFrom: 5 }).toFile(target)).rejects.toThrow(
      /resumeFrom/,
    );
    expect(await readdir(dir)).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });
});

describe("cutting writes short", () => {
  // A child process downloads to the file and is SIGKILLed at points chosen by how far the
  // (rate-limited) server got: mid-write, between a write and its checkpoint, mid-checkpoint.
  // Every restart must resume from a state that matches the partial file, and the end result
  // must be the source, byte for byte. (SIGKILL keeps the page cache, so this proves the write
  // ordering, not the fsyncs.)
  it("always resumes to the exact file after SIGKILLs", async () => {
    server.setResource("/slow.fw", { content: SOURCE });
    // Resolves workspace packages to their sources in the child, so it needs no build.
    const tsconfig = new URL("../../../../tsconfig.sources.json", import.meta.url).pathname;
    const child = new URL("./support/to-file-child.ts", import.meta.url).pathname;
    let killedAt = 0;
    for (const fraction of [0.2, 0.45, 0.7]) {
      server.script("/slow.fw", [{ kind: "serve", rate: 4 * 1024 * 1024 }]);
      const before = server.bodyBytesSent();
      const process_ = spawn(
        process.execPath,
        ["--import", "tsx", child, server.url("/slow.fw"), target, sha256(SOURCE)],
        {
          stdio: ["ignore", "pipe", "pipe"],
          env: { PATH: process.env.PATH ?? "", TSX_TSCONFIG_PATH: tsconfig },
        },
      );
      let stderr = "";
      process_.stderr.on("data", (data: Buffer) => {
        stderr += data.toString();
      });
      const exited = once(process_, "exit");
      await waitFor(
        () => server.bodyBytesSent() - before,
        (sent) => sent >= SOURCE.length * fraction - killedAt || process_.exitCode !== null,
        { timeoutMs: 30_000, what: `the child to download (${stderr})` },
      );
      process_.kill("SIGKILL");
      await exited;
      const partial = await stat(`${target}.partial`).catch(() => undefined);
      const state = await readState().catch(() => undefined);
      if (state && partial) expect(partial.size).toBeGreaterThanOrEqual(state.bytes);
      killedAt = state?.bytes ?? 0;
    }
    expect(killedAt).toBeGreaterThan(0);
    const result: FileResult = await download(server.url("/slow.fw"), {
      sha256: sha256(SOURCE),
    }).toFile(target);
    expect(result.resumedFrom).toBe(killedAt);
    expect(server.requests.at(-1)?.range).toBe(`bytes=${killedAt}-`);
    expect(sameBytes(await readFile(target), SOURCE)).toBe("same");
  }, 60_000);
});
