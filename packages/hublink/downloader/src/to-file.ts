// `download.toFile(path)`: the package's only file I/O. Bytes go to `<path>.partial`, fsynced at
// checkpoints, each followed by an atomic rewrite of `<path>.partial.state`; once every byte is in
// and verified, the partial file is fsynced and renamed to `path`. A later call (after a crash or
// a reboot) finds the state, trusts exactly the checkpointed bytes, re-hashes them, and resumes.
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, open, readdir, rename, rm, stat, truncate } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fsyncDirectory, readFirstValid, writeFileAtomic } from "@runtime/atomic-file";
import { fieldPath, ValidationError, type ValidationIssue } from "@runtime/errors";
import { alreadyConsumed, type CompleteEvent, type Download } from "./download.js";
import { DownloadError, HttpStatusError } from "./errors.js";
import { resumeKeyOf } from "./http.js";
import { internals } from "./internal.js";
import type { ResumePoint } from "./policy.js";
import { decodePartialState, encodePartialState, type PartialState } from "./state-file.js";

export interface ToFileOptions {
  /** Where the bytes go until they are complete and verified. Default `<path>.partial`. */
  partialPath?: string;
  /** The resume state file. Default `<path>.partial.state`. */
  statePath?: string;
  /** Continue a partial download found on disk. Default true. */
  resume?: boolean;
  /** Checkpoint (fsync + state write) at least every this many bytes. Default 8 MiB. */
  checkpointBytes?: number;
  /** ... and at least this often, in milliseconds, while bytes arrive. Default 10 000. */
  checkpointInterval?: number;
  /** Mode of the created file. Default 0o644. */
  mode?: number;
}

export interface FileResult extends CompleteEvent {
  path: string;
  /** Bytes taken from an earlier partial download (0 when it started from scratch). */
  resumedFrom: number;
}

const TO_FILE_OPTIONS = new Set([
  "partialPath",
  "statePath",
  "resume",
  "checkpointBytes",
  "checkpointInterval",
  "mode",
]);

function checkOptions(path: unknown, options: ToFileOptions, resumeFromGiven: boolean): void {
  const issues: ValidationIssue[] = [];
  if (typeof path !== "string" || path === "") {
    issues.push({ path: "path", value: path, reason: "must be a non-empty file path" });
  }
  const record = options as Record<string, unknown>;
  for (const [name, value] of Object.entries(record)) {
    const at = fieldPath("toFile", name);
    if (!TO_FILE_OPTIONS.has(name)) {
      issues.push({ path: at, value, reason: "is not a toFile option" });
    } else if (value === undefined) {
    } else if (name === "partialPath" || name === "statePath") {
      if (typeof value !== "string" || value === "" || value === path) {
        issues.push({ path: at, value, reason: "must be a file path other than the target" });
      }
    } else if (name === "resume") {
      if (typeof value !== "boolean") issues.push({ path: at, value, reason: "must be a boolean" });
    } else if (name === "mode") {
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 0o7777) {
        issues.push({ path: at, value, reason: "must be a file mode such as 0o644" });
      }
    } else if (!Number.isSafeInteger(value) || (value as number) < 1) {
      issues.push({ path: at, value, reason: "must be an integer >= 1" });
    }
  }
  if (resumeFromGiven) {
    issues.push({
      path: "resumeFrom",
      value: "(set)",
      reason: "cannot be used with toFile, which resumes from its own state file",
    });
  }
  if (issues.length > 0) throw new ValidationError(issues);
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function hashPrefix(path: string, bytes: number): Promise<Hash> {
  const hash = createHash("sha256");
  if (bytes === 0) return hash;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1 })) {
    hash.update(chunk as Buffer);
  }
  return hash;
}

async function writeAll(handle: FileHandle, chunk: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < chunk.length) {
    const { bytesWritten } = await handle.write(
      chunk,
      written,
      chunk.length - written,
      position + written,
    );
    written += bytesWritten;
  }
}

/**
 * A crash in the middle of a checkpoint leaves writeFileAtomic's temporary file
 * (`.<name>.<random>.tmp`) behind; on a device that reboots often they would pile up.
 */
async function removeStrayTemporaries(statePath: string): Promise<void> {
  const directory = dirname(statePath);
  const prefix = `.${basename(statePath)}.`;
  const names = await readdir(directory).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith(prefix) && name.endsWith(".tmp")) {
      await rm(join(directory, name), { force: true });
    }
  }
}

/** Errors after which the partial data is worthless. */
function partialIsWorthless(error: unknown): boolean {
  if (error instanceof HttpStatusError) return error.status === 404 || error.status === 410;
  return (
    error instanceof DownloadError &&
    (error.code === "INTEGRITY" || error.code === "RANGE_NOT_SATISFIABLE")
  );
}

export async function writeToFile(
  download: Download,
  path: string,
  options: ToFileOptions,
): Promise<FileResult> {
  const inner = download[internals];
  const downloadOptions = inner.options;
  checkOptions(path, options, downloadOptions.resumeFrom !== undefined);
  // Before touching the disk: a second call must not clean up the first one's partial file.
  if (inner.consumed) throw alreadyConsumed();
  const partialPath = options.partialPath ?? `${path}.partial`;
  const statePath = options.statePath ?? `${partialPath}.state`;
  const checkpointBytes = options.checkpointBytes ?? 8 * 1024 * 1024;
  const checkpointInterval = options.checkpointInterval ?? 10_000;
  const key = resumeKeyOf(download.url);
  const hashing = downloadOptions.sha256 !== undefined || downloadOptions.computeSha256;

  let resume: ResumePoint | undefined;
  let resumeHash: Hash | undefined;
  if (options.resume !== false) {
    const saved = await readFirstValid([statePath], (bytes) => decodePartialState(bytes));
    if (saved.found) {
      const state = saved.value;
      const differs = (name: "sha256" | "size") =>
        state[name] !== undefined &&
        downloadOptions[name] !== undefined &&
        state[name] !== downloadOptions[name];
      const size = await sizeOf(partialPath);
      if (
        state.key === key &&
        !differs("sha256") &&
        !differs("size") &&
        size !== undefined &&
        size >= state.bytes
      ) {
        // Bytes written after the last checkpoint may not have reached the disk intact.
        if (size > state.bytes) await truncate(partialPath, state.bytes);
        resume = { bytes: state.bytes };
        if (state.etag !== undefined) resume.etag = state.etag;
        if (state.lastModified !== undefined) resume.lastModified = state.lastModified;
        if (state.total !== undefined) resume.total = state.total;
        if (hashing) resumeHash = await hashPrefix(partialPath, state.bytes);
      }
    }
  }
  if (resume === undefined) {
    await rm(partialPath, { force: true });
    await rm(statePath, { force: true });
  }
  await removeStrayTemporaries(statePath);

  const handle = await open(partialPath, resume ? "r+" : "w", options.mode ?? 0o644);
  let position = resume?.bytes ?? 0;
  let checkpointed = { bytes: position, at: performance.now() };
  const checkpoint = async () => {
    // The data must be on disk before the state file says it is.
    await handle.datasync();
    const point = download.resumeState();
    const state: PartialState = { key, bytes: position };
    if (point.etag !== undefined) state.etag = point.etag;
    if (point.lastModified !== undefined) state.lastModified = point.lastModified;
    if (point.total !== undefined) state.total = point.total;
    if (downloadOptions.sha256 !== undefined) state.sha256 = downloadOptions.sha256;
    if (downloadOptions.size !== undefined) state.size = downloadOptions.size;
    await writeFileAtomic(statePath, encodePartialState(state), { mode: options.mode ?? 0o644 });
    checkpointed = { bytes: position, at: performance.now() };
  };

  let completion: CompleteEvent | undefined;
  const onComplete = (event: CompleteEvent) => {
    completion = event;
  };
  download.on("complete", onComplete);
  let open_ = true;
  try {
    for await (const item of inner.run({ allowRestart: true, resume, resumeHash })) {
      if (item.type === "restart") {
        await handle.truncate(0);
        position = 0;
        await checkpoint();
        continue;
      }
      await writeAll(handle, item.chunk, position);
      position += item.chunk.length;
      if (
        position - checkpointed.bytes >= checkpointBytes ||
        performance.now() - checkpointed.at >= checkpointInterval
      ) {
        await checkpoint();
      }
    }
    await handle.datasync();
    await handle.close();
    open_ = false;
    await rename(partialPath, path);
    await fsyncDirectory(dirname(path));
    await rm(statePath, { force: true });
  } catch (error) {
    // Nothing worth resuming: no bytes, or bytes of a version the server no longer has.
    if (partialIsWorthless(error) || position === 0 || download.resumeState().bytes === 0) {
      if (open_) await handle.close().catch(() => {});
      open_ = false;
      await rm(partialPath, { force: true });
      await rm(statePath, { force: true });
    } else if (open_ && position > checkpointed.bytes) {
      // Keep what arrived so the next call resumes from here.
      await checkpoint().catch(() => {});
    }
    throw error;
  } finally {
    download.off("complete", onComplete);
    if (open_) await handle.close().catch(() => {});
  }
  if (completion === undefined) throw new Error("download ended without completing");
  return { ...completion, path, resumedFrom: resume?.bytes ?? 0 };
}
