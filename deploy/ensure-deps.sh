#!/usr/bin/env bash
# Installs node modules when missing or older than package-lock.json, and builds when sources changed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[deps] npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
stamp=dist/.build-stamp
# Rebuild when a source is newer than the last build, or when dist/ holds unrewritten @flywheel/ imports (a bare
# `tsc` without tsc-alias): such a build would not start.
if [ ! -f "$stamp" ] || [ -n "$(find apps libs packages migrations test scripts tsconfig*.json -newer "$stamp" -name '*.ts' -o -newer "$stamp" -name 'tsconfig*.json' 2>/dev/null | head -n 1)" ] \
   || grep -rlq --include='*.js' "require(\"@flywheel/" dist 2>/dev/null; then
  echo "[deps] building (tsc)" >&2
  npm run -s build >&2
  touch "$stamp"
fi
