// The message channel between a test and a Node child started with `spawnNode`. The runner from
// @runtime/command gives a child stdin and stdout only (no Node IPC fd), so messages travel as
// JSON lines marked with a prefix that ordinary output never starts with.

/** Prefix of a message line; everything else on stdout is ordinary output. */
export const IPC_PREFIX = "\u001enetlab-ipc ";

/** Set to "1" in the child's environment when the channel is on. */
export const IPC_ENV = "NETLAB_IPC";

export function encodeMessage(message: unknown): string {
  const json = JSON.stringify(message);
  if (json === undefined) throw new TypeError("message is not JSON-serialisable");
  return `${IPC_PREFIX}${json}\n`;
}

/** The message in a line, or undefined when the line is ordinary output. */
export function decodeMessage(line: string): { message: unknown } | undefined {
  if (!line.startsWith(IPC_PREFIX)) return undefined;
  try {
    return { message: JSON.parse(line.slice(IPC_PREFIX.length)) };
  } catch {
    return undefined;
  }
}
