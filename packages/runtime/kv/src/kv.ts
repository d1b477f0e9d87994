import { REDACTED } from "@runtime/errors";
import type { PropertyPath, PropertyTable } from "@runtime/property-table";
import { type EnvChanges, type KvBackend, memory } from "./backend.js";
import { copyEntries } from "./env-codec.js";
import {
  activeSlot,
  autoRevertDetected,
  FIRMWARE_FIELD_PREFIX,
  isFirmwareValid,
  otherSlot,
  slotEntries,
  validationStatus,
} from "./firmware-rules.js";
import { type EnvEntries, isSecretKey, validateEntries, validateKey } from "./validation.js";

export interface KvOpenOptions {
  /** Where the variables live: `ubootEnv()`, `memory()`, or your own {@link KvBackend}. */
  backend: KvBackend;
  /**
   * Used when `backend` cannot be loaded at open. Without it, `open` throws: the store never
   * switches to another backend on its own. With it, one warning is logged and every later
   * read and write goes to the fallback (see {@link KV.fallbackReason}).
   */
  fallback?: KvBackend;
  /** Publish the variables and a firmware view here. */
  table?: PropertyTable;
  /** Where variables are published: `[...prefix, key]`. Default `["kv"]`. */
  prefix?: readonly string[];
  /** Where the firmware view is published; `false` turns it off. Default `["firmware"]`. */
  firmwarePrefix?: readonly string[] | false;
  /** Variables whose values are published as `****`, besides the secret-looking names. */
  secretKeys?: readonly string[];
  logger?: Pick<Console, "warn">;
}

type Operation<T> = () => Promise<T>;

/**
 * A cached string → string store of firmware metadata and device settings, backed by the U-Boot
 * environment on a device and by memory on a development host.
 *
 * Reads are synchronous from the cache loaded at {@link KV.open} (or by {@link reload}). Writes
 * are queued and run one at a time: each re-reads the backend, merges the change, writes
 * durably, and only then updates the cache and the PropertyTable. Never interleaved.
 *
 * ```ts
 * const kv = await KV.open({ backend: ubootEnv(), table });
 * kv.getActive("nerves_fw_version"); // "1.4.2"
 * await kv.put("nerves_serial_number", "ABC123");
 * ```
 */
export class KV {
  /** Prototype-free (see `emptyEntries`): keys like `constructor` are plain data. */
  private contents: Record<string, string>;
  private backend: KvBackend;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly published = new Map<string, PropertyPath>();
  private readonly secretKeys: readonly string[];
  /** Why the primary backend was not used, when the application opted into a fallback. */
  readonly fallbackReason: Error | undefined;

  private constructor(
    backend: KvBackend,
    contents: Record<string, string>,
    private readonly options: KvOpenOptions,
    fallbackReason: Error | undefined,
  ) {
    this.backend = backend;
    this.contents = copyEntries(contents);
    this.fallbackReason = fallbackReason;
    this.secretKeys = options.secretKeys ?? [];
    this.publish();
  }

  /** Loads the backend and returns the store. Throws what the backend throws unless `fallback`. */
  static async open(options: KvOpenOptions): Promise<KV> {
    try {
      const contents = await options.backend.load();
      return new KV(options.backend, contents, options, undefined);
    } catch (error) {
      if (!options.fallback) throw error;
      const reason = error instanceof Error ? error : new Error(String(error));
      (options.logger ?? console).warn(
        `kv: ${options.backend.description} cannot be loaded (${reason.message}); ` +
          `using ${options.fallback.description} instead: writes will not reach the device's storage`,
      );
      const contents = await options.fallback.load();
      return new KV(options.fallback, contents, options, reason);
    }
  }

  /** A store over {@link memory} with these contents: for tests and host development. */
  static async inMemory(
    initial: EnvEntries = {},
    options: Omit<KvOpenOptions, "backend"> = {},
  ): Promise<KV> {
    return KV.open({ ...options, backend: memory(initial) });
  }

  /** The backend in use (the fallback after a failed open). */
  get backendDescription(): string {
    return this.backend.description;
  }

  /** The active firmware slot: `nerves_fw_active`, default `a`. */
  get activeSlot(): string {
    return activeSlot(this.contents);
  }

  /** The value of `key`, or `undefined`. */
  get(key: string): string | undefined {
    return Object.hasOwn(this.contents, key) ? this.contents[key] : undefined;
  }

  /** A copy of every variable. */
  getAll(): Record<string, string> {
    return copyEntries(this.contents);
  }

  /** The value of `<active slot>.<key>`. */
  getActive(key: string): string | undefined {
    return this.get(`${this.activeSlot}.${key}`);
  }

  /** Every `<active slot>.*` variable with the prefix removed. */
  getAllActive(): Record<string, string> {
    return slotEntries(this.contents, this.activeSlot);
  }

  /** Sets one variable, or several at once (one write). */
  put(key: string, value: string): Promise<void>;
  put(entries: EnvEntries): Promise<void>;
  async put(keyOrEntries: string | EnvEntries, value?: string): Promise<void> {
    const entries: Array<[unknown, unknown]> =
      typeof keyOrEntries === "string"
        ? [[keyOrEntries, value]]
        : Object.entries(keyOrEntries as EnvEntries);
    validateEntries(entries, this.secretKeys);
    return this.write(new Map(entries as Array<[string, string]>));
  }

  /** Like {@link put}, with every key prefixed by the active slot (`a.` / `b.`). */
  putActive(key: string, value: string): Promise<void>;
  putActive(entries: EnvEntries): Promise<void>;
  async putActive(keyOrEntries: string | EnvEntries, value?: string): Promise<void> {
    // The slot is read when the write runs, not now: an earlier queued write may change it.
    const entries: Array<[unknown, unknown]> =
      typeof keyOrEntries === "string"
        ? [[keyOrEntries, value]]
        : Object.entries(keyOrEntries as EnvEntries);
    const prefixed = (slot: string) =>
      entries.map(([key, entryValue]) => [`${slot}.${String(key)}`, entryValue] as const);
    validateEntries(prefixed(this.activeSlot), this.secretKeys);
    return this.enqueue(async () => {
      const changes = new Map(prefixed(this.activeSlot) as Array<readonly [string, string]>);
      validateEntries(changes, this.secretKeys);
      await this.apply(() => this.backend.update(changes));
    });
  }

  /** Removes variables (one write). Absent keys are ignored. */
  async delete(keys: string | readonly string[]): Promise<void> {
    const list = typeof keys === "string" ? [keys] : [...keys];
    for (const key of list) validateKey(key);
    return this.write(new Map(list.map((key) => [key, null])));
  }

  /** Re-reads the backend (after another program changed it, e.g. fwup or `fw_setenv`). */
  reload(): Promise<void> {
    return this.enqueue(() => this.apply(() => this.backend.load()));
  }

  /**
   * Writes exactly `entries`, without reading the stored environment first. The recovery for a
   * single-copy environment whose only copy was corrupted (e.g. by a power cut during a write):
   * `update` refuses to merge into nothing, so write back what you know, e.g. the cached
   * `getAll()`. Throws when the backend has no `replace`.
   */
  async replaceAll(entries: EnvEntries): Promise<void> {
    validateEntries(Object.entries(entries), this.secretKeys);
    const copy = copyEntries(entries);
    return this.enqueue(async () => {
      const replace = this.backend.replace?.bind(this.backend);
      if (!replace) throw new TypeError(`${this.backend.description} cannot replace its contents`);
      await this.apply(() => replace(copy));
    });
  }

  private write(changes: EnvChanges): Promise<void> {
    return this.enqueue(() => this.apply(() => this.backend.update(changes)));
  }

  private enqueue<T>(operation: Operation<T>): Promise<T> {
    const result = this.queue.then(operation, operation);
    // The queue continues after a failure; the caller still sees it.
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async apply(operation: () => Promise<Record<string, string>>): Promise<void> {
    this.contents = copyEntries(await operation());
    this.publish();
  }

  /** Brings the PropertyTable in line with the contents: puts what changed, deletes what went. */
  private publish(): void {
    const table = this.options.table;
    if (!table) return;
    const wanted = new Map<string, [PropertyPath, unknown]>();
    const add = (path: PropertyPath, value: unknown) =>
      wanted.set(JSON.stringify(path), [path, value]);
    const prefix = this.options.prefix ?? ["kv"];
    for (const [key, value] of Object.entries(this.contents)) {
      add([...prefix, key], isSecretKey(key, this.secretKeys) ? REDACTED : value);
    }
    const firmwarePrefix = this.options.firmwarePrefix ?? ["firmware"];
    if (firmwarePrefix !== false) {
      const active = this.activeSlot;
      const inactive = otherSlot(active);
      add([...firmwarePrefix, "active_slot"], active);
      add([...firmwarePrefix, "inactive_slot"], inactive);
      add([...firmwarePrefix, "validation_status"], validationStatus(this.contents, active));
      add([...firmwarePrefix, "valid"], isFirmwareValid(this.contents, active));
      add([...firmwarePrefix, "auto_revert_detected"], autoRevertDetected(this.contents, active));
      const slots: Array<[string, string]> = [["active", active]];
      if (inactive !== active) slots.push(["inactive", inactive]);
      for (const [view, slot] of slots) {
        for (const [key, value] of Object.entries(slotEntries(this.contents, slot))) {
          if (!key.startsWith(FIRMWARE_FIELD_PREFIX)) continue;
          const name = key.slice(FIRMWARE_FIELD_PREFIX.length);
          add(
            [...firmwarePrefix, view, name],
            isSecretKey(`${slot}.${key}`, this.secretKeys) ? REDACTED : value,
          );
        }
      }
    }
    const removed = [...this.published.keys()].filter((id) => !wanted.has(id));
    for (const id of removed) {
      table.delete(this.published.get(id)!);
      this.published.delete(id);
    }
    table.putMany([...wanted.values()]);
    for (const [id, [path]] of wanted) this.published.set(id, path);
  }
}
