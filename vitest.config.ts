// One vitest config for the whole repository. Every package under packages/<family>/<name>
// becomes two projects: "<name>:unit" (test/**, pure, runs anywhere) and
// "<name>:integration" (test/integration/**, real Linux, usually root). Workspace packages are
// aliased to their sources, so tests never need a build.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineConfig } from "vitest/config";

const root = import.meta.dirname;

interface WorkspacePackage {
  name: string;
  shortName: string;
  dir: string;
}

function workspacePackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  const packagesDir = join(root, "packages");
  for (const family of readdirSync(packagesDir)) {
    const familyDir = join(packagesDir, family);
    for (const name of readdirSync(familyDir)) {
      const dir = join(familyDir, name);
      const manifest = join(dir, "package.json");
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { name: string };
      found.push({ name: pkg.name, shortName: `${family}/${name}`, dir });
    }
  }
  return found;
}

const packages = workspacePackages();
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
// Exact matches, so `@runtime/command/testing` is not read as `<src/index.ts>/testing`: the root
// name maps to src/index.ts and a subpath export `./x` to src/x.ts.
const alias = packages
  .filter((pkg) => existsSync(join(pkg.dir, "src/index.ts")))
  .flatMap((pkg) => [
    {
      find: new RegExp(`^${escapeRegExp(pkg.name)}$`),
      replacement: resolve(pkg.dir, "src/index.ts"),
    },
    {
      find: new RegExp(`^${escapeRegExp(pkg.name)}/([\\w-]+)$`),
      replacement: resolve(pkg.dir, "src/$1.ts"),
    },
  ]);

export default defineConfig({
  resolve: { alias },
  test: {
    projects: packages.flatMap((pkg) => [
      {
        extends: true,
        test: {
          name: `${pkg.shortName}:unit`,
          root: pkg.dir,
          include: ["test/**/*.test.ts"],
          exclude: ["test/integration/**", "**/node_modules/**"],
        },
      },
      {
        extends: true,
        test: {
          name: `${pkg.shortName}:integration`,
          root: pkg.dir,
          include: ["test/integration/**/*.test.ts"],
          // Real daemons and namespaces: processes, not threads, so a crashed test cannot leave a
          // thread-owned child behind, and long timeouts because DHCP and EAP take seconds.
          pool: "forks",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ]),
    passWithNoTests: true,
    restoreMocks: true,
    coverage: {
      provider: "v8",
      include: ["packages/*/*/src/**"],
    },
  },
});
