#!/usr/bin/env bash
# `npm run demo`: the flywheel turning on this machine. Brings up what quickstart brings up (PostgreSQL, Kafka, the
# build, migrations, the api and the ingest-worker) plus the trainer, reusing whatever already answers, creates a
# fresh project, and runs the closed-loop demo (scripts/demo): synthetic users → api → Kafka → worker → satisfaction
# → reward model → preference set → Kafka → generator update, round after round. Extra arguments go to the demo:
#   npm run demo -- --rounds 8 --requests 100 --seed 3
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source deploy/services.sh
# quickstart.sh has just brought everything up; run on its own, the demo does it itself.
if [ "${FLYWHEEL_SERVICES_UP:-}" != "1" ]; then
  bash deploy/infra-up.sh
  start_services
fi

# A fresh project per run: its metrics, pairs and reward models hold this run's data only.
PROJECT=.infra/demo-project.json
node dist/apps/cli/src/main.js project create --name "demo-$(date -u +%Y%m%dT%H%M%SZ)" --feature-dim 8 --json >"$PROJECT"
echo "[demo] project $(node -p "require('./$PROJECT').projectId") (keys in $PROJECT)" >&2

node dist/scripts/demo/main.js --api "$API" --project "$PROJECT" --out artifacts "$@"

cat <<TXT

Open the chart: file://$ROOT/artifacts/demo.html   (data: artifacts/demo.json)
The demo's generator versions and lineage: curl -s -H "Authorization: Bearer \$(node -p "require('./$PROJECT').secretKey")" $API/v1/generators
The trainer keeps running in the background (pid in $RUN/trainer.pid); npm run infra:down stops the api, worker, trainer and Kafka.
TXT
