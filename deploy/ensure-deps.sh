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
if [ ! -f "$stamp" ] || [ -n "$(find apps libs migrations test scripts tsconfig*.json -newer "$stamp" -name '*.ts' -o -newer "$stamp" -name 'tsconfig*.json' 2>/dev/null | head -n 1)" ]; then
  echo "[deps] building (tsc)" >&2
  npm run -s build >&2
  touch "$stamp"
fi
