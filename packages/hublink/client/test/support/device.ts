// Test devices: an in-memory KV like a freshly booted Nerves device, the fwup stand-in on PATH,
// and temp directories that are removed afterwards.
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createCommandRunner } from "@runtime/command";
import { KV } from "@runtime/kv";

export const FWUP_STAND_IN = resolve(
  import.meta.dirname,
  "../../../../runtime/kv/test/fixtures/fwup-stand-in.mjs",
);
/** A base64 Ed25519 public key shape (the stand-in only checks it is passed through). */
export const FWUP_KEY = "3Fjc1OK5F0e0j2z6bI5w3Yb6kQm8bR0bZz3u0eSWx1U=";

export async function tempDirectory(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "hublink-client-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A command runner whose PATH has `fwup` = the stand-in (and node, for its shebang). */
export async function standInRunner(directory: string) {
  const bin = join(directory, "bin");
  const { mkdir } = await import("node:fs/promises");
  await mkdir(bin, { recursive: true });
  await symlink(FWUP_STAND_IN, join(bin, "fwup"));
  return createCommandRunner({
    path: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
    parentDeathSignal: false,
  });
}

export function deviceKv(devpath: string, extra: Record<string, string> = {}): Promise<KV> {
  return KV.inMemory({
    nerves_fw_active: "a",
    nerves_fw_devpath: devpath,
    "a.nerves_fw_uuid": "11111111-1111-1111-1111-111111111111",
    "a.nerves_fw_version": "1.0.0",
    "a.nerves_fw_product": "acme",
    "a.nerves_fw_platform": "rpi4",
    "a.nerves_fw_architecture": "aarch64",
    ...extra,
  });
}

export async function until<T>(
  probe: () => T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
