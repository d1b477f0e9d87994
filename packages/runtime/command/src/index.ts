export type { CommandErrorCode, CommandErrorDetails } from "./errors.js";
export { CommandError } from "./errors.js";
export type { CommandRunnerOptions } from "./runner.js";
export { createCommandRunner, DEFAULT_PATH } from "./runner.js";
export type { RestartPolicy, SupervisedProcess, SupervisorEvents } from "./supervisor.js";
export { restartDelay, supervise } from "./supervisor.js";
export type {
  CommandResult,
  CommandRunner,
  ProcessEvents,
  ProcessExit,
  RunningProcess,
  RunOptions,
  StartOptions,
} from "./types.js";
