#!/usr/bin/env bash
# Sourced by quickstart.sh and demo.sh: starts the api, the ingest-worker and the trainer in the background (pid
# files in .infra/run, logs in .infra/logs) unless they already run, and waits until the api and the worker are
# ready. An api or worker started some other way (no pid file) is reused rather than fought over its port.
RUN=.infra/run; LOGS=.infra/logs
mkdir -p "$RUN" "$LOGS"
PORT="${PORT:-8080}"
API="http://127.0.0.1:$PORT"
WORKER_HEALTH="http://127.0.0.1:${WORKER_METRICS_PORT:-9464}/health/ready"

start_service() { # name, entry, [health url]
  local pidfile="$RUN/$1.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "[services] $1 already running (pid $(cat "$pidfile"))" >&2; return; fi
  if [ -n "${3:-}" ] && curl -fs "$3" >/dev/null 2>&1; then echo "[services] $1 already answering at $3" >&2; return; fi
  nohup node "$2" >"$LOGS/$1.log" 2>&1 &
  echo $! >"$pidfile"
  echo "[services] started $1 (pid $!, log $LOGS/$1.log)" >&2
}

start_services() {
  start_service api dist/apps/api/src/main.js "$API/health/ready"
  start_service ingest-worker dist/apps/ingest-worker/src/main.js "$WORKER_HEALTH"
  start_service trainer dist/apps/trainer/src/main.js
  for _ in $(seq 1 60); do curl -fs "$API/health/ready" >/dev/null 2>&1 && curl -fs "$WORKER_HEALTH" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -fs "$API/health/ready" >/dev/null || { echo "[services] the api did not become ready; see $LOGS/api.log" >&2; exit 1; }
  curl -fs "$WORKER_HEALTH" >/dev/null || { echo "[services] the ingest-worker did not become ready; see $LOGS/ingest-worker.log" >&2; exit 1; }
}
