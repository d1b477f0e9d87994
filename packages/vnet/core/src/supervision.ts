import type { RunningProcess, SupervisedProcess } from "@runtime/command";

/**
 * Calls `listener` for every process a supervisor runs, the first included: `supervise()` starts
 * the first process (and emits its `start` event) before the caller can subscribe.
 */
export function onEveryStart(
  supervised: SupervisedProcess,
  listener: (process: RunningProcess) => void,
): void {
  const first = supervised.current();
  if (first) listener(first);
  supervised.on("start", (process) => {
    if (process !== first) listener(process);
  });
}

/** Forwards every output line of every run of `supervised` to `log`, prefixed with `label`. */
export function logOutput(
  supervised: SupervisedProcess,
  label: string,
  log: (line: string) => void,
): void {
  onEveryStart(supervised, (process) => {
    process.on("line", (line) => log(`${label}: ${line}`));
  });
}
