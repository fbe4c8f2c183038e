#!/usr/bin/env bash
# `npm run quickstart`: everything on this machine's local defaults — install, build, PostgreSQL, a Kafka broker,
# migrations and topics, then the api (port 8080), the ingest-worker and the trainer in the background, a project
# with a sample of feedback sent through the API, and the closed-loop demo. Idempotent: running it again reuses
# what is up.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
bash deploy/infra-up.sh
source deploy/services.sh
start_services

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
  FLYWHEEL_SERVICES_UP=1 bash deploy/demo.sh --rounds 5
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
