#!/usr/bin/env bash
# Brings up what Flywheel needs on this machine, idempotently: node modules, the build, PostgreSQL (the local
# server at PGHOST:PGPORT), a single-node Kafka broker, the database (created if missing, migrated) and the topics.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
log() { echo "[infra] $*" >&2; }

bash deploy/ensure-deps.sh

PGHOST="${PGHOST:-127.0.0.1}"; PGPORT="${PGPORT:-5432}"
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; then
  if [ "$PGHOST" = "127.0.0.1" ] && command -v pg_ctlcluster >/dev/null; then
    log "starting the local PostgreSQL cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
  pg_isready -q -h "$PGHOST" -p "$PGPORT" || { log "PostgreSQL is not answering at $PGHOST:$PGPORT"; exit 1; }
fi
log "PostgreSQL is up at $PGHOST:$PGPORT"

bash deploy/kafka.sh start
node dist/apps/cli/src/main.js infra init
