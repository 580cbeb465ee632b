#!/usr/bin/env bash
# The README's test command (npm test): installs what the tests need on a fresh machine, then runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-fund --no-audit
bash scripts/services.sh
# The type check runs beside the tests (neither needs the other), its output shown after theirs; either failing
# fails the command.
tsc_log=$(mktemp)
trap 'rm -f "$tsc_log"' EXIT
npx tsc -p . >"$tsc_log" 2>&1 &
tsc_pid=$!
tests=0
npx vitest run "$@" || tests=$?
typecheck=0
wait "$tsc_pid" || typecheck=$?
cat "$tsc_log"
if [ "$typecheck" -ne 0 ]; then
  echo "npm test: the type check (tsc -p .) failed (exit $typecheck)" >&2
  exit "$typecheck"
fi
exit "$tests"
