import { copyEntries } from "./env-codec.js";
import type { EnvEntries } from "./validation.js";

/**
 * Changes to apply in one write: a string sets a variable, `null` deletes it. Keys and values have
 * been validated by the store before a backend sees them.
 */
export type EnvChanges = ReadonlyMap<string, string | null>;

/**
 * Where a {@link KV} store keeps its variables. Implement this to keep them somewhere else
 * (an EEPROM, a file, a remote service).
 *
 * The store calls at most one method at a time (its queue serializes them), so a backend needs no
 * locking against its own store; it must lock against other writers of the same storage itself.
 */
export interface KvBackend {
  /** Shown in logs and errors, e.g. `U-Boot environment (/etc/fw_env.config)`. */
  readonly description: string;
  /** Reads every variable afresh from storage. Throws when storage cannot be read. */
  load(): Promise<Record<string, string>>;
  /**
   * Re-reads storage, applies `changes` on top, writes the result durably, and returns what is now
   * stored. Must not lose variables it did not change, and must refuse (throw) without writing
   * anything when the result cannot be stored.
   */
  update(changes: EnvChanges): Promise<Record<string, string>>;
  /**
   * Writes exactly `entries`, without reading first: the recovery path for storage that can no
   * longer be read (`KV.replaceAll`). Optional.
   */
  replace?(entries: EnvEntries): Promise<Record<string, string>>;
}

/** Applies changes to a copy of `entries` (`null` deletes). */
export function applyChanges(entries: EnvEntries, changes: EnvChanges): Record<string, string> {
  const next = copyEntries(entries);
  for (const [key, value] of changes) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

/**
 * A backend that keeps variables in memory: for tests, host development, and as an explicit
 * fallback (`KV.open({ fallback })`). Nothing survives the process.
 */
export function memory(initial: EnvEntries = {}): KvBackend {
  let contents = copyEntries(initial);
  return {
    description: "memory",
    async load() {
      return copyEntries(contents);
    },
    async update(changes) {
      contents = applyChanges(contents, changes);
      return copyEntries(contents);
    },
    async replace(entries) {
      contents = copyEntries(entries);
      return copyEntries(contents);
    },
  };
}
