#!/usr/bin/env bash
# Stops what infra-up and quickstart started (the api, the ingest-worker, the trainer and the Kafka broker). PostgreSQL is the
# machine's own server and is left running; the data under .infra/ is kept (delete it to start from scratch).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
for name in api ingest-worker trainer; do
  pidfile=".infra/run/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "[infra] stopping $name" >&2
    kill "$(cat "$pidfile")"; sleep 1
  fi
  rm -f "$pidfile"
done
bash deploy/kafka.sh stop
