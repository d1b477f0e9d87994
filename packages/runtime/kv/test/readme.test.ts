// The README's first example must run as written: extract it, point its import at the sources,
// run it in a fresh Node process and compare its output with the output shown in the README.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kv-readme-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Starting Node with tsx takes seconds on a loaded machine: a generous time limit.
it("the README example runs and prints what the README shows", { timeout: 30_000 }, async () => {
  const readme = await readFile(join(packageDir, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Example"));
  const codeBlock = /```ts\n([\s\S]*?)```\n/.exec(section);
  const code = codeBlock?.[1];
  const afterCode = section.slice((codeBlock?.index ?? 0) + (codeBlock?.[0].length ?? 0));
  const shown = /^\s*```\n([\s\S]*?)```/.exec(afterCode)?.[1];
  expect(code).toBeDefined();
  expect(shown).toBeDefined();
  const source = code!.replace(
    'from "@runtime/kv"',
    `from ${JSON.stringify(join(packageDir, "src/index.ts"))}`,
  );
  const script = join(dir, "example.mts");
  await writeFile(script, source);
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", script],
    {
      cwd: packageDir,
      timeout: 30_000,
      // Workspace packages resolve to their sources, so no build is needed first.
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: join(packageDir, "../../../tsconfig.sources.json"),
      },
    },
  );
  const lines = `${stdout}${stderr}`.split("\n").filter(Boolean);
  const expected = shown!.split("\n").filter(Boolean);
  // Same lines (stderr's warning interleaves differently than the README shows it).
  expect(lines.filter((line) => !line.startsWith("check with:")).sort()).toEqual(
    [...expected].sort(),
  );
  const example = /kv-example-[^/]+/.exec(stdout)?.[0];
  if (example) await rm(join(tmpdir(), example), { recursive: true, force: true });
});
