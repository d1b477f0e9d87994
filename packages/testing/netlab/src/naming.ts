// Names of everything a lab creates outside its own memory: network namespaces and temp dirs.
// Both carry the owning PID, so a later run can tell a leak (owner dead) from a concurrent run
// (owner alive) without any shared state between processes.

/** `nl<pid>x<sequence>`: the prefix of every namespace of one lab. */
const OWNED_NAMESPACE = /^nl(\d+)x(\d+)-/;
const OWNED_TEMP_DIR = /^netlab-(\d+)-/;
const ROLE = /^[a-z0-9][a-z0-9_]{0,15}$/;

/** The id of lab number `sequence` in process `pid`; namespaces are `<id>-<role>`. */
export function labId(pid: number, sequence: number): string {
  return `nl${pid}x${sequence}`;
}

export function namespaceName(id: string, role: string): string {
  if (!ROLE.test(role)) {
    throw new TypeError(
      `namespace role ${JSON.stringify(role)}: use 1-16 characters of a-z, 0-9 and _ (starting with a letter or digit)`,
    );
  }
  return `${id}-${role}`;
}

/** The PID that owns a namespace this library created, or undefined for anybody else's. */
export function namespaceOwnerPid(name: string): number | undefined {
  const match = OWNED_NAMESPACE.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** The prefix of a lab's temp dir (mkdtemp appends random characters). */
export function tempDirPrefix(pid: number, labName: string): string {
  const label = labName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  return `netlab-${pid}-${label || "lab"}-`;
}

export function tempDirOwnerPid(name: string): number | undefined {
  const match = OWNED_TEMP_DIR.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Linux interface names: 1-15 bytes, no slash, colon or whitespace, not "." or "..". */
export function assertInterfaceName(name: string): void {
  if (
    name.length === 0 ||
    Buffer.byteLength(name) > 15 ||
    /[/:\s]/.test(name) ||
    name === "." ||
    name === ".."
  ) {
    throw new TypeError(
      `invalid interface name ${JSON.stringify(name)} (1-15 characters, no / : or spaces)`,
    );
  }
}

/** True when a process with this PID exists (EPERM means it exists but is not ours to signal). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
