#!/usr/bin/env bash
# `npm run demo`: the flywheel turning on this machine. Brings up what quickstart brings up (PostgreSQL, Kafka, the
# build, migrations, the api and the ingest-worker) plus the trainer, reusing whatever already answers, creates a
# fresh project, and runs the closed-loop demo (scripts/demo): synthetic users → api → Kafka → worker → satisfaction
# → reward model → preference set → Kafka → generator update, round after round. Extra arguments go to the demo:
#   npm run demo -- --rounds 8 --requests 100 --seed 3
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
RUN=.infra/run; LOGS=.infra/logs
mkdir -p "$RUN" "$LOGS"
PORT="${PORT:-8080}"
API="http://127.0.0.1:$PORT"
WORKER_HEALTH="http://127.0.0.1:${WORKER_METRICS_PORT:-9464}/health/ready"

bash deploy/infra-up.sh

start() { # name, entry — as in quickstart.sh
  local pidfile="$RUN/$1.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "[demo] $1 already running (pid $(cat "$pidfile"))" >&2; return; fi
  nohup node "$2" >"$LOGS/$1.log" 2>&1 &
  echo $! >"$pidfile"
  echo "[demo] started $1 (pid $!, log $LOGS/$1.log)" >&2
}
# An api or worker started some other way (no pid file) is reused rather than fought over its port.
if curl -fs "$API/health/ready" >/dev/null 2>&1; then echo "[demo] api already answering on $API" >&2; else start api dist/apps/api/src/main.js; fi
if curl -fs "$WORKER_HEALTH" >/dev/null 2>&1; then echo "[demo] ingest-worker already answering" >&2; else start ingest-worker dist/apps/ingest-worker/src/main.js; fi
start trainer dist/apps/trainer/src/main.js

for _ in $(seq 1 60); do curl -fs "$API/health/ready" >/dev/null 2>&1 && curl -fs "$WORKER_HEALTH" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "$API/health/ready" >/dev/null || { echo "[demo] the api did not become ready; see $LOGS/api.log" >&2; exit 1; }
curl -fs "$WORKER_HEALTH" >/dev/null || { echo "[demo] the ingest-worker did not become ready; see $LOGS/ingest-worker.log" >&2; exit 1; }

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
