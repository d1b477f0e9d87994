#!/usr/bin/env bash
# The project's main job for now: a PropertyTable fed live from /sys/class/net.
# Runs until Ctrl-C (or for DEMO_SECONDS seconds when set).
set -euo pipefail
BOOTSTRAP_SKIP_DEBIAN=1 source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec pnpm --silent --filter @examples/live-interfaces start
