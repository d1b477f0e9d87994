#!/usr/bin/env bash
# The whole test suite, exactly what CI runs: set-up, lint, build, type-check, package checks
# (publint + attw), every test including the integration tests against real Linux, and the unit
# tests once more on Node 22 (current LTS) so the packages stay compatible with it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }

step "lint and format (biome)"
pnpm lint

step "build (turbo, tsup)"
pnpm build

step "type-check"
pnpm typecheck

step "package checks (publint, attw)"
pnpm check:packages

step "tests on $(node --version) (unit and integration)"
if [ "$(id -u)" -ne 0 ] && [ "${REQUIRE_INTEGRATION:-0}" != "1" ]; then
  echo "not root: integration tests will skip with a reason"
fi
pnpm vitest run

step "the demo (README's first command) shows live changes"
if [ "$(id -u)" -eq 0 ]; then
  demo_output=$(DEMO_SECONDS=6 pnpm --silent --filter @examples/live-interfaces start)
  echo "$demo_output" | tail -n 6
  # As root the demo creates a veth pair and pulls its peer's cable: the carrier change must show.
  grep -q 'carrier: true → false' <<<"$demo_output" || { echo "demo showed no live change"; exit 1; }
else
  echo "not root: the demo's veth exercise needs root; skipped"
fi

step "unit tests on Node 22"
node22_dir="$repo_root/.cache/node22"
if [ ! -x "$node22_dir/node_modules/.bin/node" ]; then
  mkdir -p "$node22_dir"
  (cd "$node22_dir" && npm init -y >/dev/null && npm install --no-save --no-fund --no-audit node@22 >/dev/null)
fi
"$node22_dir/node_modules/.bin/node" --version
"$node22_dir/node_modules/.bin/node" node_modules/vitest/vitest.mjs run --project '*:unit'
