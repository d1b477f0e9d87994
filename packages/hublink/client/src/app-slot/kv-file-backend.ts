// A KV backend in a file, for devices without a U-Boot environment (app-slot updates). Each write
// goes through @runtime/atomic-file (checksummed envelope, temp + fsync + rename, previous copy
// kept as a backup), so a power cut leaves the old or the new variables, never a mix.
import { openEnvelope, readFirstValid, sealEnvelope, writeFileAtomic } from "@runtime/atomic-file";
import { applyChanges, type EnvChanges, type KvBackend } from "@runtime/kv";

const FORMAT = { magic: "HLKV", version: 1 } as const;

export interface FileKvBackendOptions {
  /** The file; `<path>.bak` holds the previous copy. */
  path: string;
  /** Variables when neither copy exists yet (first start). Default none. */
  initial?: Record<string, string>;
}

function decode(bytes: Buffer): Record<string, string> {
  const { payload } = openEnvelope(bytes, FORMAT);
  const value: unknown = JSON.parse(payload.toString("utf8"));
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error("not an object");
  const entries: Record<string, string> = Object.create(null);
  for (const [key, item] of Object.entries(value))
    if (typeof item === "string") entries[key] = item;
  return entries;
}

export function fileKvBackend(options: FileKvBackendOptions): KvBackend {
  const backupPath = `${options.path}.bak`;
  const load = async (): Promise<Record<string, string>> => {
    const result = await readFirstValid([options.path, backupPath], decode);
    if (result.found) return result.value;
    const missing = result.rejected.every(
      (attempt) => (attempt.error as NodeJS.ErrnoException).code === "ENOENT",
    );
    if (missing) return { ...(options.initial ?? {}) };
    throw new Error(
      `no valid copy of ${options.path}: ${result.rejected.map((attempt) => `${attempt.path}: ${attempt.error.message}`).join("; ")}`,
    );
  };
  const write = async (entries: Record<string, string>) => {
    await writeFileAtomic(
      options.path,
      sealEnvelope(Buffer.from(JSON.stringify(entries), "utf8"), FORMAT),
      {
        mode: 0o600,
        backupPath,
      },
    );
    return entries;
  };
  return {
    description: `file ${options.path}`,
    load,
    async update(changes: EnvChanges) {
      return write(applyChanges(await load(), changes));
    },
    async replace(entries) {
      return write({ ...entries });
    },
  };
}
