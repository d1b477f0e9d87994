// Helpers for the integration tests: temporary image files and the real U-Boot tools
// (u-boot-tools' mkenvimage, libubootenv-tool's fw_printenv / fw_setenv), run through the
// project's command runner.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type CommandRunner, createCommandRunner, DEFAULT_PATH } from "@runtime/command";
import { type EnvLocation, formatFwEnvConfig } from "../../src/index.js";

/** A runner whose PATH also has this Node (for stand-ins written in Node) and `extra` first. */
export function testRunner(extra: string[] = []): CommandRunner {
  return createCommandRunner({
    path: [...extra, dirname(process.execPath), DEFAULT_PATH].join(":"),
    timeoutMs: 30_000,
    killGraceMs: 500,
  });
}

export interface Workspace {
  dir: string;
  path(name: string): string;
  cleanup(): Promise<void>;
}

export async function workspace(prefix: string): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), `kv-${prefix}-`));
  return {
    dir,
    path: (name) => join(dir, name),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Writes a fw_env.config for `locations` and returns its path. */
export async function writeConfig(
  space: Workspace,
  locations: readonly EnvLocation[],
  name = "fw_env.config",
): Promise<string> {
  const path = space.path(name);
  await writeFile(path, formatFwEnvConfig(locations));
  return path;
}

/** `mkenvimage [-r] -s SIZE -o OUT INPUT` with `key=value` lines as input. */
export async function mkenvimage(
  runner: CommandRunner,
  space: Workspace,
  entries: Record<string, string>,
  options: { size: number; redundant: boolean; output: string },
): Promise<void> {
  const input = space.path(`input-${Math.random().toString(36).slice(2)}.txt`);
  await writeFile(
    input,
    Object.entries(entries)
      .map(([key, value]) => `${key}=${value}\n`)
      .join(""),
  );
  await runner.run([
    "mkenvimage",
    ...(options.redundant ? ["-r"] : []),
    "-s",
    `0x${options.size.toString(16)}`,
    "-o",
    options.output,
    input,
  ]);
}

/** `fw_printenv -c CONFIG`, parsed (values must not contain newlines). */
export async function fwPrintenv(
  runner: CommandRunner,
  config: string,
): Promise<Record<string, string>> {
  const { stdout } = await runner.run(["fw_printenv", "-c", config]);
  const entries: Array<[string, string]> = [];
  for (const line of stdout.split("\n")) {
    if (line === "") continue;
    const equals = line.indexOf("=");
    entries.push([line.slice(0, equals), line.slice(equals + 1)]);
  }
  return Object.fromEntries(entries);
}

/** `fw_setenv -c CONFIG -s SCRIPT` with `key=value` lines (an empty value deletes). */
export async function fwSetenv(
  runner: CommandRunner,
  space: Workspace,
  config: string,
  changes: Record<string, string>,
): Promise<void> {
  const script = space.path("fw_setenv.script");
  await writeFile(
    script,
    Object.entries(changes)
      .map(([key, value]) => `${key}=${value}\n`)
      .join(""),
  );
  await runner.run(["fw_setenv", "-c", config, "-s", script]);
}
