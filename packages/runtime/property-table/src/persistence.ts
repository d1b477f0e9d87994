import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  fsyncDirectory,
  openEnvelope,
  readFirstValidSync,
  sealEnvelope,
  writeFileAtomic,
} from "@runtime/atomic-file";
import { checkPath, type PropertyPath } from "./path.js";

/** Keep the table on disk, crash-safe. */
export interface PersistenceOptions {
  /** Directory for `data.ptable`, its backup and `snapshots/`. Created if missing. */
  directory: string;
  /** Also write every this many milliseconds, but only when something changed (flash wear). */
  intervalMs?: number;
  /** Snapshots kept in `snapshots/`; the oldest beyond this are deleted. Default 25. */
  maxSnapshots?: number;
  /** Where restore problems and failed periodic writes are reported. Default `console`. */
  logger?: Pick<Console, "warn">;
}

export interface SnapshotInfo {
  id: string;
  /** Modification time of the snapshot file (wall clock, ms since the epoch). */
  mtimeMs: number;
}

const FORMAT = { magic: "PTABLE", version: 1 } as const;
const SNAPSHOT_ID = /^[0-9A-F]{16}$/;

type Pairs = Array<[PropertyPath, unknown]>;

function encode(pairs: Pairs): Buffer {
  const payload = Buffer.from(JSON.stringify({ properties: pairs }), "utf8");
  return sealEnvelope(payload, FORMAT);
}

function decode(bytes: Buffer): Pairs {
  const { version, payload } = openEnvelope(bytes, FORMAT);
  if (version !== FORMAT.version) throw new Error(`unsupported format version ${version}`);
  const document = JSON.parse(payload.toString("utf8")) as { properties?: unknown };
  if (!Array.isArray(document.properties)) throw new Error("no properties list in file");
  return document.properties.map((pair: unknown, index: number) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`entry ${index} is not a pair`);
    checkPath(pair[0], `entry ${index} path`);
    return [pair[0], pair[1]] as [PropertyPath, unknown];
  });
}

/**
 * The table's files: `data.ptable` (current), `data.ptable.backup` (the one before), and
 * `snapshots/<ID>`. Files are checksummed envelopes around JSON, written with
 * {@link writeFileAtomic}; start-up reads the main file, then the backup, and never fails.
 */
export class TablePersistence {
  private readonly mainPath: string;
  private readonly backupPath: string;
  private readonly snapshotDirectory: string;
  private readonly logger: Pick<Console, "warn">;
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private read: (() => Pairs) | undefined;

  constructor(private readonly options: PersistenceOptions) {
    this.mainPath = join(options.directory, "data.ptable");
    this.backupPath = join(options.directory, "data.ptable.backup");
    this.snapshotDirectory = join(options.directory, "snapshots");
    this.logger = options.logger ?? console;
    if (options.maxSnapshots !== undefined && !(options.maxSnapshots >= 1)) {
      throw new RangeError(`maxSnapshots must be at least 1: got ${options.maxSnapshots}`);
    }
  }

  /** Reads the saved properties; a missing or corrupt file is reported and gives an empty list. */
  restore(): Pairs {
    mkdirSync(this.options.directory, { recursive: true });
    const result = readFirstValidSync([this.mainPath, this.backupPath], decode);
    const problems = result.rejected.filter(
      (attempt) => (attempt.error as NodeJS.ErrnoException).code !== "ENOENT",
    );
    for (const attempt of problems) {
      this.logger.warn(`PropertyTable: ignoring ${attempt.path}: ${attempt.error.message}`);
    }
    if (result.found) {
      if (result.path === this.backupPath) {
        this.logger.warn(`PropertyTable: restored from backup ${this.backupPath}`);
      }
      return result.value;
    }
    if (problems.length > 0) this.logger.warn("PropertyTable: starting from initial properties");
    return [];
  }

  /** Connects the table's contents and starts the interval timer. */
  attach(read: () => Pairs): void {
    this.read = read;
    if (this.options.intervalMs) {
      this.timer = setInterval(() => {
        this.flush().catch((error: Error) =>
          this.logger.warn(`PropertyTable: periodic write failed: ${error.message}`),
        );
      }, this.options.intervalMs);
      this.timer.unref();
    }
  }

  markDirty(): void {
    this.dirty = true;
  }

  /** Writes when dirty (or forced); writes are serialized, never interleaved. */
  flush(options: { force?: boolean } = {}): Promise<void> {
    const run = async () => {
      if (!this.dirty && !options.force) return;
      this.dirty = false;
      try {
        await writeFileAtomic(this.mainPath, encode(this.read!()), { backupPath: this.backupPath });
      } catch (error) {
        this.dirty = true;
        throw error;
      }
    };
    const next = this.writing.then(run, run);
    this.writing = next.catch(() => {});
    return next;
  }

  async snapshot(): Promise<string> {
    await this.flush({ force: true });
    await mkdir(this.snapshotDirectory, { recursive: true });
    const id = randomBytes(8).toString("hex").toUpperCase();
    await copyFile(this.mainPath, join(this.snapshotDirectory, id));
    const maxSnapshots = this.options.maxSnapshots ?? 25;
    const existing = await this.snapshots();
    for (const old of existing.slice(0, Math.max(0, existing.length - maxSnapshots))) {
      await rm(join(this.snapshotDirectory, old.id), { force: true });
    }
    await fsyncDirectory(this.snapshotDirectory);
    return id;
  }

  async snapshots(): Promise<SnapshotInfo[]> {
    const names = await readdir(this.snapshotDirectory).catch(() => [] as string[]);
    const infos = await Promise.all(
      names
        .filter((name) => SNAPSHOT_ID.test(name))
        .map(async (id) => ({
          id,
          mtimeMs: (await stat(join(this.snapshotDirectory, id))).mtimeMs,
        })),
    );
    return infos.sort((a, b) => a.mtimeMs - b.mtimeMs || a.id.localeCompare(b.id));
  }

  async readSnapshot(id: string): Promise<Pairs> {
    if (!SNAPSHOT_ID.test(id)) throw new TypeError(`not a snapshot id: ${JSON.stringify(id)}`);
    return decode(await readFile(join(this.snapshotDirectory, id)));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
