#!/usr/bin/env bash
# The README's test command (npm test): installs what the tests need on a fresh machine, then runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-fund --no-audit
bash scripts/services.sh
npx tsc -p . 
npx vitest run "$@"
