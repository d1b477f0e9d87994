/** Why a command did not succeed. */
export type CommandErrorCode =
  /** The executable does not exist or is not executable (spawn failed). */
  | "ENOENT"
  /** The time limit passed; the whole process group was killed. */
  | "TIMEOUT"
  /** The command exited with a non-zero status. */
  | "EXIT_STATUS"
  /** The command was killed by a signal it did not expect (not our time limit). */
  | "SIGNAL"
  /** The caller's AbortSignal fired; the process group was killed. */
  | "ABORTED";

export interface CommandErrorDetails {
  argv: readonly string[];
  exitCode?: number | undefined;
  signal?: string | undefined;
  stdout?: string;
  stderr?: string;
  durationMs?: number;
  cause?: unknown;
}

/** A command that failed, with everything needed to say why in a log line. */
export class CommandError extends Error {
  override readonly name = "CommandError";
  readonly code: CommandErrorCode;
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number | undefined;

  constructor(code: CommandErrorCode, reason: string, details: CommandErrorDetails) {
    super(`${details.argv.join(" ")}: ${reason}`, { cause: details.cause });
    this.code = code;
    this.argv = details.argv;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stdout = details.stdout ?? "";
    this.stderr = details.stderr ?? "";
    this.durationMs = details.durationMs;
  }
}
