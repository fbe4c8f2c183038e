#!/usr/bin/env bash
# `npm run lint` (and every full `npm test`): the import rules of DESIGN.md. dependency-cruiser checks the imports
# (.dependency-cruiser.js: apps never import apps, libs never import apps, drivers only in their libs — for test/ and
# scripts/ too —, libs only by their public entry point, no cycles); process.env is not an import, so it is checked here: only libs/config reads it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
status=0
npx --no-install depcruise --config .dependency-cruiser.js apps libs test scripts || status=1
if grep -rnE --include='*.ts' 'process\.env|process\[' apps libs | grep -v '^libs/config/'; then
  echo "[lint] only libs/config reads process.env (above: reads elsewhere)" >&2
  status=1
fi
exit $status
