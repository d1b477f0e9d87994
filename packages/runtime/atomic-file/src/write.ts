import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface WriteFileAtomicOptions {
  /** File mode of the new file. Default 0o644; use 0o600 for anything secret. */
  mode?: number;
  /**
   * Keep the previous content here (renamed, not copied). After a crash between the two renames
   * the previous content is still readable from this path.
   */
  backupPath?: string;
  /** fsync the directory after the rename so the rename itself is durable. Default true. */
  fsyncDirectory?: boolean;
}

/**
 * Replaces `path` with `data` so that after a power cut at any instant the file holds either the
 * complete old content or the complete new content, never a mix:
 * write a temporary file in the same directory, fsync it, (move the old file to `backupPath`),
 * rename the temporary file over `path`, fsync the directory.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temporary, "wx", options.mode ?? 0o644);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.backupPath) {
      await rename(path, options.backupPath).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "ENOENT") throw error;
      });
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  if (options.fsyncDirectory ?? true) await fsyncDirectory(directory);
}

/** Makes a completed rename or unlink in `directory` durable. */
export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
