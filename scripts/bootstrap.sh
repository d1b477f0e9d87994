#!/usr/bin/env bash
# Sourced by scripts/demo.sh and scripts/test.sh: makes a fresh Debian machine with Node.js and npm
# ready to build and test this repository. Safe to run again; it only does what is missing.
set -euo pipefail

PNPM_VERSION="10.34.9"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

log() { printf '\033[1m[bootstrap]\033[0m %s\n' "$*"; }

node_major_minor=$(node -p 'process.versions.node.split(".").slice(0,2).join(".")')
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=18)?0:1)'; then
  log "Node.js >= 20.18 is required (found ${node_major_minor})"
  exit 1
fi

# pnpm, pinned, installed with npm (corepack cannot verify signatures on this machine kind).
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  log "installing pnpm@${PNPM_VERSION} with npm"
  npm install --global --no-fund --no-audit "pnpm@${PNPM_VERSION}" >/dev/null
fi

# Debian packages for the integration tests: only as root, only when something is missing.
install_debian_packages() {
  local wanted missing=()
  mapfile -t wanted < <(grep -vE '^\s*(#|$)' scripts/debian-packages.txt)
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "not root: skipping Debian packages (${missing[*]}); integration tests will skip"
    return 0
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts nginx on install; the tests start their own instances on loopback.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
  pkill -x nginx >/dev/null 2>&1 || true
}
if [ "${BOOTSTRAP_SKIP_DEBIAN:-0}" != "1" ]; then install_debian_packages; fi

log "installing dependencies with pnpm"
pnpm install --frozen-lockfile --reporter=silent
