// Everything that removes what labs leave on the machine: the asynchronous path (destroy, leak
// sweep) and the synchronous one for signals and `exit`, when the event loop can no longer run.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CommandRunner, DEFAULT_PATH } from "@runtime/command";
import { namespaceOwnerPid, processAlive, tempDirOwnerPid } from "./naming.js";
import { waitFor } from "./wait.js";

/** True while the process exists and is not a zombie waiting to be reaped. */
export function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the command name, which is in parentheses and may contain spaces.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

function isGone(stderr: string): boolean {
  return /No such file|Cannot find|does not exist|not found/i.test(stderr);
}

function sigkill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

function parsePids(stdout: string): number[] {
  return stdout
    .split("\n")
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

/**
 * Kills every process inside a namespace and deletes it. A namespace that is already gone is not
 * an error. Waits (bounded) until the killed processes are really gone, so a test that checks
 * "no process left" right after destroy sees the truth.
 */
export async function removeNamespace(runner: CommandRunner, name: string): Promise<void> {
  const pids = await runner.run(["ip", "netns", "pids", name], { allowFailure: true });
  if (pids.exitCode === 0) {
    const victims = parsePids(pids.stdout);
    for (const pid of victims) sigkill(pid);
    await waitFor(() => victims.every((pid) => !processRunning(pid)), {
      timeoutMs: 5_000,
      description: `processes in ${name} to die`,
    });
  }
  const removed = await runner.run(["ip", "netns", "del", name], { allowFailure: true });
  if (removed.exitCode !== 0 && !isGone(removed.stderr)) {
    throw new Error(`ip netns del ${name}: ${removed.stderr.trim()}`);
  }
}

/** Names of every network namespace on the machine. */
export async function listNamespaces(runner: CommandRunner): Promise<string[]> {
  const { stdout } = await runner.run(["ip", "-json", "netns", "list"]);
  const trimmed = stdout.trim();
  if (!trimmed) return [];
  const list = JSON.parse(trimmed) as { name: string }[];
  return list.map((entry) => entry.name);
}

export interface SweepResult {
  /** Leaked namespaces removed. */
  namespaces: string[];
  /** Leaked temp dirs (names in the temp root) removed. */
  tempDirs: string[];
  /** What could not be removed; the sweep goes on past each failure. */
  errors: string[];
}

/**
 * Removes what crashed earlier runs left behind: namespaces and temp dirs named after a PID that
 * no longer exists. Anything whose owner is alive belongs to a concurrent run and is left alone.
 */
export async function sweepLeakedLabs(
  runner: CommandRunner,
  tmpRoot: string = tmpdir(),
): Promise<SweepResult> {
  const result: SweepResult = { namespaces: [], tempDirs: [], errors: [] };
  for (const name of await listNamespaces(runner)) {
    const owner = namespaceOwnerPid(name);
    if (owner === undefined || processAlive(owner)) continue;
    // Two runs may sweep the same leak at once; removeNamespace tolerates the loser's "gone".
    try {
      await removeNamespace(runner, name);
      result.namespaces.push(name);
    } catch (error) {
      result.errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  let entries: string[] = [];
  try {
    entries = await readdir(tmpRoot);
  } catch {
    // No temp root: nothing to sweep.
  }
  for (const entry of entries) {
    const owner = tempDirOwnerPid(entry);
    if (owner === undefined || processAlive(owner)) continue;
    try {
      await rm(join(tmpRoot, entry), { recursive: true, force: true });
      result.tempDirs.push(entry);
    } catch (error) {
      result.errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  return result;
}

/** What the synchronous cleanup needs to know about one lab. */
export interface LabFootprint {
  processGroups(): number[];
  namespaceNames(): string[];
  readonly dir: string;
}

function runSync(argv: string[]): { status: number | null; stdout: string } {
  const [file, ...args] = argv as [string, ...string[]];
  const result = spawnSync(file, args, {
    encoding: "utf8",
    env: { PATH: DEFAULT_PATH, LC_ALL: "C" },
    timeout: 5_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { status: result.status, stdout: result.stdout ?? "" };
}

/**
 * Best-effort cleanup that never yields to the event loop: for SIGINT/SIGTERM handlers and the
 * `exit` hook, where async work would never finish.
 */
export function destroyLabSync(lab: LabFootprint): void {
  for (const group of lab.processGroups()) {
    try {
      process.kill(-group, "SIGKILL");
    } catch {
      sigkill(group);
    }
  }
  for (const name of lab.namespaceNames()) {
    const pids = runSync(["ip", "netns", "pids", name]);
    if (pids.status === 0) for (const pid of parsePids(pids.stdout)) sigkill(pid);
    runSync(["ip", "netns", "del", name]);
  }
  try {
    rmSync(lab.dir, { recursive: true, force: true });
  } catch {
    // Best effort: the next sweep removes it (its name carries our PID).
  }
}

/** Temp dirs (names only) in `tmpRoot` owned by `pid`: for tests that check nothing is left. */
export function tempDirsOwnedBy(pid: number, tmpRoot: string = tmpdir()): string[] {
  try {
    return readdirSync(tmpRoot).filter((entry) => tempDirOwnerPid(entry) === pid);
  } catch {
    return [];
  }
}
