// startFwup against real processes: small Node scripts that print framed output, so the whole
// path through @runtime/command (start, raw stdout, stdin, process groups) is exercised. They are
// not fwup; they only produce bytes in its documented format.
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createCommandRunner, DEFAULT_PATH } from "@runtime/command";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FwupError, type FwupFrame, fwupOutcomeError, startFwup } from "../src/index.js";

let dir: string;
let runner: ReturnType<typeof createCommandRunner>;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kv-fwup-test-"));
  runner = createCommandRunner({
    path: `${dir}:${dirname(process.execPath)}:${DEFAULT_PATH}`,
    killGraceMs: 500,
  });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FRAME_HELPER = `
function frame(type, code, text = "") {
  const body = Buffer.from(text, "utf8");
  const record = Buffer.alloc(8 + body.length);
  record.writeUInt32BE(4 + body.length, 0);
  record.write(type, 4, "latin1");
  record.writeUInt16BE(code, 6);
  body.copy(record, 8);
  return record;
}`;

/** Installs a fake `fwup` executable (a Node script) in the test's PATH directory. */
async function fakeFwup(body: string, name = "fwup"): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/usr/bin/env node\n${FRAME_HELPER}\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

describe("startFwup", () => {
  it("adds --framing, decodes records as they arrive, and reports success", async () => {
    await fakeFwup(`
      require("node:fs").writeFileSync(${JSON.stringify(join(dir, "argv"))}, JSON.stringify(process.argv.slice(2)));
      process.stdout.write(Buffer.concat([frame("PR", 0), frame("WN", 0, "a->b")]));
      process.stdout.write(frame("PR", 100).subarray(0, 3));
      setTimeout(() => process.stdout.write(Buffer.concat([frame("PR", 100).subarray(3), frame("OK", 0, "Success!")])), 20);
    `);
    const seen: FwupFrame[] = [];
    const session = startFwup(runner, ["-a", "-i", "x.fw", "-t", "status"], {
      onFrame: (frame) => seen.push(frame),
    });
    const outcome = await session.outcome;
    expect(outcome).toMatchObject({ ok: true, exitCode: 0, signal: null, errorMessage: undefined });
    expect(outcome.frames).toEqual(seen);
    expect(seen.map((frame) => `${frame.type}:${frame.code}:${frame.text}`)).toEqual([
      "PR:0:",
      "WN:0:a->b",
      "PR:100:",
      "OK:0:Success!",
    ]);
    const { readFile } = await import("node:fs/promises");
    expect(JSON.parse(await readFile(join(dir, "argv"), "utf8"))).toEqual([
      "-a",
      "-i",
      "x.fw",
      "-t",
      "status",
      "--framing",
    ]);
  });

  it("a throwing onFrame callback is reported as a warning and does not stop fwup", async () => {
    await fakeFwup(`process.stdout.write(Buffer.concat([frame("PR", 50), frame("OK", 0)]));`);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    try {
      const outcome = await startFwup(runner, [], {
        onFrame: () => {
          throw new Error("reporter offline");
        },
      }).outcome;
      expect(outcome).toMatchObject({ ok: true });
      expect(outcome.frames).toHaveLength(2);
      await vi.waitFor(() =>
        expect(warnings).toContain("startFwup: onFrame threw: reporter offline"),
      );
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("a failure carries fwup's own message (first ER record) and the exit status", async () => {
    await fakeFwup(`
      process.stdout.write(Buffer.concat([frame("ER", 0, "Couldn't find applicable task 'revert'"), frame("ER", 0, "second")]));
      process.exitCode = 1;
    `);
    const outcome = await startFwup(runner, ["-t", "revert"]).outcome;
    expect(outcome).toMatchObject({
      ok: false,
      exitCode: 1,
      errorMessage: "Couldn't find applicable task 'revert'",
    });
    const error = fwupOutcomeError(outcome, "revert");
    expect(error).toBeInstanceOf(FwupError);
    expect(error).toMatchObject({
      code: "FWUP_FAILED",
      task: "revert",
      fwupMessage: "Couldn't find applicable task 'revert'",
      exitCode: 1,
    });
    expect(error?.message).toBe(
      "fwup task revert failed: Couldn't find applicable task 'revert' (fwup exited with 1)",
    );
  });

  it("a non-zero exit without an ER record is 'Unknown', like nerves_runtime", async () => {
    await fakeFwup("process.exitCode = 3;");
    const error = fwupOutcomeError(await startFwup(runner, []).outcome);
    expect(error).toMatchObject({ code: "FWUP_FAILED", fwupMessage: "Unknown", exitCode: 3 });
  });

  it("output that is not framing kills fwup and rejects with FWUP_BAD_OUTPUT", async () => {
    await fakeFwup(`process.stdout.write("Success!\\n"); setInterval(() => {}, 1000);`);
    const error = await startFwup(runner, [], { task: "validate" }).outcome.catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(FwupError);
    expect(error).toMatchObject({ code: "FWUP_BAD_OUTPUT", task: "validate" });
    expect((error as Error).message).toMatch(/Invalid framing/);
  });

  it("trailing garbage after the last record is FWUP_BAD_OUTPUT", async () => {
    await fakeFwup(`process.stdout.write(Buffer.concat([frame("OK", 0), Buffer.from([0, 0])]));`);
    await expect(startFwup(runner, []).outcome).rejects.toMatchObject({
      code: "FWUP_BAD_OUTPUT",
      message: expect.stringMatching(/2 trailing byte/),
    });
  });

  it("a missing executable is FWUP_NOT_FOUND", async () => {
    await expect(
      startFwup(runner, [], { fwupPath: "fwup-not-installed" }).outcome,
    ).rejects.toMatchObject({
      code: "FWUP_NOT_FOUND",
      message: expect.stringMatching(/can't find fwup/),
    });
  });

  it("the time limit kills fwup's process group: FWUP_TIMEOUT", async () => {
    await fakeFwup("setInterval(() => {}, 1000);");
    await expect(startFwup(runner, [], { timeoutMs: 200 }).outcome).rejects.toMatchObject({
      code: "FWUP_TIMEOUT",
    });
  });

  it("streams framed input, waits for fwup to keep up, and ends with a zero-length record", async () => {
    // The fake reads [u32 length][bytes] records from stdin until the zero-length one, then
    // reports how many bytes and records it got, as fwup would report progress and OK.
    await fakeFwup(`
      const chunks = [];
      process.stdin.on("data", (chunk) => chunks.push(chunk));
      process.stdin.on("end", () => {
        const input = Buffer.concat(chunks);
        let offset = 0, records = 0, bytes = 0, ended = false;
        while (offset + 4 <= input.length) {
          const length = input.readUInt32BE(offset);
          offset += 4 + length;
          if (length === 0) { ended = true; break; }
          records++; bytes += length;
        }
        process.stdout.write(Buffer.concat([frame("WN", 0, records + " records, " + bytes + " bytes, ended=" + ended), frame("OK", 0)]));
      });
    `);
    const session = startFwup(runner, ["--apply"], { input: true });
    const chunk = Buffer.alloc(256 * 1024, 7);
    for (let index = 0; index < 20; index++) await session.write(chunk);
    const outcome = await session.finish();
    expect(outcome.ok).toBe(true);
    expect(outcome.frames[0]?.text).toBe(`20 records, ${20 * chunk.length} bytes, ended=true`);
  });

  it("--exit-handshake: closes stdin after OK and takes the status from the trailer", async () => {
    await fakeFwup(`
      process.stdout.write(Buffer.concat([frame("OK", 0), Buffer.from([0x1a, 0])]));
      // Like fwup: block until stdin is closed, then exit.
      process.stdin.resume();
      process.stdin.on("end", () => process.exit(0));
    `);
    const outcome = await startFwup(runner, ["--apply"], { exitHandshake: true }).outcome;
    expect(outcome).toMatchObject({ ok: true, exitCode: 0 });
  });

  it("rejects a write after fwup failed", async () => {
    await fakeFwup("setInterval(() => {}, 1000);");
    const session = startFwup(runner, [], { input: true, timeoutMs: 100 });
    await expect(session.outcome).rejects.toMatchObject({ code: "FWUP_TIMEOUT" });
    await expect(session.write(Buffer.from("x"))).rejects.toMatchObject({ code: "FWUP_TIMEOUT" });
  });
});
