// These tests start real processes (sh, sleep); they need no root and run everywhere.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CommandError, createCommandRunner, DEFAULT_PATH } from "../src/index.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "command-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("run", () => {
  const runner = createCommandRunner();

  it("captures stdout and stderr and the exit status", async () => {
    const result = await runner.run(["sh", "-c", "echo out; echo err >&2"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe("out\n");
    expect(result.stderr).toBe("err\n");
  });

  it("runs with the forced PATH and none of the host's environment", async () => {
    process.env.HOST_ONLY_VARIABLE = "leak";
    try {
      const result = await runner.run(
        ["sh", "-c", 'echo "$PATH|$' + '{HOST_ONLY_VARIABLE:-unset}"'],
        {
          env: { EXTRA: "1" },
        },
      );
      expect(result.stdout.trim()).toBe(`${DEFAULT_PATH}|unset`);
    } finally {
      delete process.env.HOST_ONLY_VARIABLE;
    }
  });

  it("passes input on stdin", async () => {
    const result = await runner.run(["cat"], { input: "hello\n" });
    expect(result.stdout).toBe("hello\n");
  });

  it("rejects a non-zero exit with the status and stderr", async () => {
    const error = await runner.run(["sh", "-c", "echo bad thing >&2; exit 3"]).catch((e) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error.code).toBe("EXIT_STATUS");
    expect(error.exitCode).toBe(3);
    expect(error.stderr).toBe("bad thing\n");
    expect(error.message).toContain("exited with status 3: bad thing");
  });

  it("resolves a non-zero exit when failure is allowed", async () => {
    const result = await runner.run(["sh", "-c", "exit 4"], { allowFailure: true });
    expect(result.exitCode).toBe(4);
  });

  it("rejects a missing executable with ENOENT", async () => {
    const plain = createCommandRunner({ parentDeathSignal: false });
    const error = await plain.run(["/nonexistent/tool", "x"]).catch((e) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error.code).toBe("ENOENT");
  });

  it("rejects a missing executable with ENOENT also when wrapped in setpriv", async () => {
    // The default runner wraps commands in `setpriv --pdeathsig`; a missing executable must still
    // be ENOENT (not installed), never exit status 127 from setpriv.
    const error = await runner.run(["no-such-tool-on-any-path", "x"]).catch((e) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error.code).toBe("ENOENT");
    const byPath = await runner.run(["/nonexistent/tool"]).catch((e) => e);
    expect(byPath.code).toBe("ENOENT");
  });

  it("rejects a file that is not executable with ENOENT (cannot start)", async () => {
    const file = join(dir, "not-executable");
    await writeFile(file, "#!/bin/sh\necho hi\n", { mode: 0o644 });
    const error = await runner.run([file]).catch((e) => e);
    expect(error.code).toBe("ENOENT");
  });

  it("kills the whole process tree when the time limit passes", async () => {
    const pidFile = join(dir, "grandchild.pid");
    const error = await runner
      .run(["sh", "-c", `sleep 300 & echo $! > ${pidFile}; wait`], {
        timeoutMs: 300,
        killGraceMs: 200,
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error.code).toBe("TIMEOUT");
    const grandchild = Number((await readFile(pidFile, "utf8")).trim());
    await waitFor(() => !alive(grandchild));
  });

  it("kills the process tree when aborted", async () => {
    const controller = new AbortController();
    const pending = runner.run(["sleep", "300"], { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("user cancelled")), 100);
    const error = await pending.catch((e) => e);
    expect(error.code).toBe("ABORTED");
    expect(error.cause).toEqual(new Error("user cancelled"));
  });

  it("refuses an empty argv", async () => {
    await expect(runner.run([])).rejects.toThrow(TypeError);
  });
});

describe("start", () => {
  const runner = createCommandRunner({ killGraceMs: 500 });

  it("emits output lines and keeps the recent ones", async () => {
    const child = runner.start(["sh", "-c", "echo one; echo two >&2; echo three"]);
    const lines: string[] = [];
    child.on("line", (line, stream) => lines.push(`${stream}:${line}`));
    const exit = await child.exited;
    expect(exit.exitCode).toBe(0);
    expect(lines).toContain("stdout:one");
    expect(lines).toContain("stderr:two");
    expect(child.recentOutput()).toEqual(expect.arrayContaining(["one", "two", "three"]));
  });

  it("stop() kills the group, including children of the leader", async () => {
    const pidFile = join(dir, "child.pid");
    const child = runner.start(["sh", "-c", `sleep 300 & echo $! > ${pidFile}; wait`]);
    await waitFor(async () => (await readFile(pidFile, "utf8").catch(() => "")).trim() !== "");
    const grandchild = Number((await readFile(pidFile, "utf8")).trim());
    const exit = await child.stop();
    expect(exit.signal).toBe("SIGTERM");
    await waitFor(() => !alive(grandchild));
  });

  it("escalates to SIGKILL when SIGTERM is ignored", async () => {
    const child = runner.start([
      "sh",
      "-c",
      "trap '' TERM; echo ready; while :; do sleep 0.05; done",
    ]);
    await new Promise<void>((resolve) => child.on("line", () => resolve()));
    const exit = await child.stop({ graceMs: 200 });
    expect(exit.signal).toBe("SIGKILL");
  });

  it("reports a process that cannot start through `exited`, without throwing", async () => {
    const plain = createCommandRunner({ parentDeathSignal: false });
    const exit = await plain.start(["/nonexistent/daemon"]).exited;
    expect(exit.error).toBeInstanceOf(Error);
    expect(exit.exitCode).toBeNull();
  });

  it("reports a missing executable through `exited` also when wrapped in setpriv", async () => {
    const exit = await runner.start(["no-such-daemon-on-any-path"]).exited;
    expect(exit.error).toBeInstanceOf(Error);
    expect(exit.exitCode).toBeNull();
  });

  it("passes raw stdout bytes through when asked", async () => {
    const child = runner.start(["printf", "\\001\\002\\377"], { output: "raw" });
    const chunks: Buffer[] = [];
    for await (const chunk of child.stdout!) chunks.push(chunk as Buffer);
    expect([...Buffer.concat(chunks)]).toEqual([1, 2, 255]);
  });

  // Starting a second Node with tsx takes seconds on a loaded machine: a generous time limit.
  it("a daemon dies with its owner even when the owner is SIGKILLed", {
    timeout: 30_000,
  }, async () => {
    // A separate Node process owns the daemon; killing that owner with SIGKILL runs no cleanup
    // code at all, so only the kernel's parent-death signal (setpriv --pdeathsig) can end it.
    const script = `
      import { createCommandRunner } from ${JSON.stringify(new URL("../src/index.ts", import.meta.url).pathname)};
      const child = createCommandRunner().start(["sleep", "300"]);
      console.log(child.pid);
      setInterval(() => {}, 1000);
    `;
    const owner = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const daemonPid = await new Promise<number>((resolve) => {
      owner.stdout.once("data", (data: Buffer) => resolve(Number(data.toString().trim())));
    });
    expect(alive(daemonPid)).toBe(true);
    owner.kill("SIGKILL");
    await waitFor(() => !alive(daemonPid), 20_000);
  });
});

describe("parentDeathSignal: false per command", () => {
  it("skips the parent-death wrapper for that command only", async () => {
    const dir = await mkdtemp(join(tmpdir(), "command-pdeathsig-"));
    try {
      // A stand-in for setpriv that notes each use, then runs the command after "--".
      const setpriv = join(dir, "setpriv");
      const log = join(dir, "uses");
      await writeFile(
        setpriv,
        `#!/bin/sh\necho used >> ${log}\nwhile [ "$1" != "--" ]; do shift; done\nshift\nexec "$@"\n`,
        { mode: 0o755 },
      );
      const runner = createCommandRunner({ setprivPath: setpriv });
      expect((await runner.run(["echo", "wrapped"])).stdout).toBe("wrapped\n");
      expect((await runner.run(["echo", "plain"], { parentDeathSignal: false })).stdout).toBe(
        "plain\n",
      );
      expect((await readFile(log, "utf8")).trim().split("\n")).toEqual(["used"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
