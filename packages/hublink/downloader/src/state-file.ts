// The small state file next to a partial download: which resource the partial holds, how many of
// its bytes are durable, and the validators needed to resume it safely. A checksummed envelope
// (@runtime/atomic-file) around JSON, so a torn or corrupted file is recognised and ignored.
import { openEnvelope, sealEnvelope } from "@runtime/atomic-file";

export const STATE_MAGIC = "HLDLPART";
export const STATE_VERSION = 1;

export interface PartialState {
  /** Origin and path of the URL (see `resumeKeyOf`). */
  key: string;
  /** Bytes at the start of the partial file that were fsynced before this state was written. */
  bytes: number;
  etag?: string;
  lastModified?: string;
  total?: number;
  /** The expectations the partial was downloaded under. */
  sha256?: string;
  size?: number;
}

export function encodePartialState(state: PartialState): Buffer {
  const payload: PartialState = { key: state.key, bytes: state.bytes };
  for (const name of ["etag", "lastModified", "total", "sha256", "size"] as const) {
    if (state[name] !== undefined)
      (payload as unknown as Record<string, unknown>)[name] = state[name];
  }
  return sealEnvelope(Buffer.from(JSON.stringify(payload)), {
    magic: STATE_MAGIC,
    version: STATE_VERSION,
  });
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** Decodes and checks a state file; throws (with the reason) when it cannot be trusted. */
export function decodePartialState(bytes: Uint8Array): PartialState {
  const { version, payload } = openEnvelope(bytes, { magic: STATE_MAGIC });
  if (version !== STATE_VERSION) throw new Error(`unsupported state version ${version}`);
  const value: unknown = JSON.parse(payload.toString("utf8"));
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error("state is not an object");
  }
  const record = value as Record<string, unknown>;
  if (typeof record["key"] !== "string" || record["key"] === "")
    throw new Error("state has no key");
  if (!isCount(record["bytes"])) throw new Error("state has no byte count");
  const state: PartialState = { key: record["key"], bytes: record["bytes"] };
  for (const name of ["etag", "lastModified", "sha256"] as const) {
    const field = record[name];
    if (field === undefined) continue;
    if (typeof field !== "string") throw new Error(`state field ${name} is not a string`);
    state[name] = field;
  }
  for (const name of ["total", "size"] as const) {
    const field = record[name];
    if (field === undefined) continue;
    if (!isCount(field)) throw new Error(`state field ${name} is not a byte count`);
    state[name] = field;
  }
  if (state.total !== undefined && state.bytes > state.total) {
    throw new Error("state holds more bytes than the total");
  }
  return state;
}
