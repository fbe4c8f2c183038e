#!/usr/bin/env bash
# `npm run quickstart`: everything on this machine's local defaults — install, build, PostgreSQL, a Kafka broker,
# migrations and topics, then the api (port 8080), the ingest-worker and the trainer in the background, a project
# with a sample of feedback sent through the API, and the closed-loop demo. Idempotent: running it again reuses
# what is up.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
RUN=.infra/run; LOGS=.infra/logs
mkdir -p "$RUN" "$LOGS"
PORT="${PORT:-8080}"
API="http://127.0.0.1:$PORT"

bash deploy/infra-up.sh

start() { # name, entry
  local pidfile="$RUN/$1.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "[quickstart] $1 already running (pid $(cat "$pidfile"))" >&2; return; fi
  nohup node "$2" >"$LOGS/$1.log" 2>&1 &
  echo $! >"$pidfile"
  echo "[quickstart] started $1 (pid $!, log $LOGS/$1.log)" >&2
}
start api dist/apps/api/src/main.js
start ingest-worker dist/apps/ingest-worker/src/main.js
start trainer dist/apps/trainer/src/main.js

for _ in $(seq 1 60); do curl -fs "$API/health/ready" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "$API/health/ready" >/dev/null || { echo "[quickstart] the api did not become ready; see $LOGS/api.log" >&2; exit 1; }

PROJECT=.infra/quickstart-project.json
if [ ! -s "$PROJECT" ]; then
  node dist/apps/cli/src/main.js project create --name quickstart --feature-dim 8 --json >"$PROJECT"
fi
INGEST_KEY="$(node -p "require('./$PROJECT').ingestKey")"
SECRET_KEY="$(node -p "require('./$PROJECT').secretKey")"
PROJECT_ID="$(node -p "require('./$PROJECT').projectId")"
echo "[quickstart] sending sample generations and events through the API" >&2
node dist/scripts/send-samples.js --api "$API" --key "$INGEST_KEY" --dim 8 >&2

if [ "${QUICKSTART_DEMO:-1}" != "0" ]; then
  echo "[quickstart] running the closed-loop demo (npm run demo; QUICKSTART_DEMO=0 skips it)" >&2
  bash deploy/demo.sh --rounds 5
fi

cat <<TXT

Flywheel is running on its local defaults.
  API              $API            (OpenAPI: $API/docs)
  Dashboard        $API/dashboard  (paste the secret key)
  Health           $API/health/ready
  Prometheus       $API/metrics  and  http://127.0.0.1:9464/metrics (ingest-worker)
  Project          $PROJECT_ID     (keys in $PROJECT)
  Ingest key       $INGEST_KEY
  Secret key       $SECRET_KEY
  Demo chart       artifacts/demo.html  (the flywheel over rounds; npm run demo runs it again)
  Logs             $LOGS/api.log, $LOGS/ingest-worker.log, $LOGS/trainer.log, .infra/kafka/broker.log

Try:
  curl -s -H "Authorization: Bearer $SECRET_KEY" "$API/v1/project"
  curl -s -H "Authorization: Bearer $SECRET_KEY" "$API/v1/videos/sample-0-0"
Stop everything with: npm run infra:down
TXT
