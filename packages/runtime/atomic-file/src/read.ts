import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

export interface ReadAttempt {
  path: string;
  error: Error;
}

export type FirstValid<T> =
  | { found: true; value: T; path: string; rejected: ReadAttempt[] }
  | { found: false; rejected: ReadAttempt[] };

/**
 * Reads `paths` in order (e.g. the main file, then its backup) and returns the first whose bytes
 * `decode` accepts, with the reasons every earlier candidate was rejected. A missing file counts
 * as rejected with its ENOENT error; nothing here throws for bad content.
 */
export async function readFirstValid<T>(
  paths: readonly string[],
  decode: (bytes: Buffer, path: string) => T,
): Promise<FirstValid<T>> {
  const rejected: ReadAttempt[] = [];
  for (const path of paths) {
    try {
      const bytes = await readFile(path);
      return { found: true, value: decode(bytes, path), path, rejected };
    } catch (error) {
      rejected.push({ path, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  return { found: false, rejected };
}

/** Synchronous {@link readFirstValid}, for start-up code that must have its state before going on. */
export function readFirstValidSync<T>(
  paths: readonly string[],
  decode: (bytes: Buffer, path: string) => T,
): FirstValid<T> {
  const rejected: ReadAttempt[] = [];
  for (const path of paths) {
    try {
      return { found: true, value: decode(readFileSync(path), path), path, rejected };
    } catch (error) {
      rejected.push({ path, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  return { found: false, rejected };
}
