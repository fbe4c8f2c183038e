#!/usr/bin/env bash
# `npm test`: installs and builds what is missing, starts a dedicated Kafka broker for the tests (its own port and
# data under .infra/test, so stopping it in the outage test never touches a broker you run), makes sure PostgreSQL
# answers, then runs every jest project: unit tests and the integration tests against the real services.
# Each run creates its own database (dropped at the end) and each test file its own topic prefix.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

bash deploy/ensure-deps.sh

# Debian packages some tests drive: chromium (the dashboard, through playwright-core) and kcat (reads the
# preferences topic with a client other than kafkajs). Installed once; the tests also install them if missing.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v kcat >/dev/null || missing+=(kcat)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ]; then
  echo "[test] installing ${missing[*]}" >&2
  apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; } || echo "[test] could not install ${missing[*]}" >&2
fi

export FLYWHEEL_INFRA_DIR="$ROOT/.infra/test"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Our own broker if it is still up from a previous run (FLYWHEEL_KEEP_TEST_KAFKA=1); otherwise the first free pair
# of ports from 19092, so a broker someone else left running is never the one the outage test stops.
if [ -f "$FLYWHEEL_INFRA_DIR/kafka/port" ] && KAFKA_PORT="$(cat "$FLYWHEEL_INFRA_DIR/kafka/port")" \
   && [ -f "$FLYWHEEL_INFRA_DIR/kafka/broker.pid" ] && kill -0 "$(cat "$FLYWHEEL_INFRA_DIR/kafka/broker.pid")" 2>/dev/null; then
  :
else
  KAFKA_PORT="${FLYWHEEL_TEST_KAFKA_PORT:-19092}"
  while ! port_free "$KAFKA_PORT" || ! port_free "$((KAFKA_PORT + 1))"; do KAFKA_PORT=$((KAFKA_PORT + 2)); done
fi
export KAFKA_PORT KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1))
export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
export FLYWHEEL_TEST_KAFKA_MANAGED=1
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}"

if ! pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && break; sleep 1; done
fi
bash deploy/kafka.sh start
# test/kafka-cluster.test.ts runs a 3-node cluster from $FLYWHEEL_INFRA_DIR/kafka-cluster and stops it itself; this
# also stops it when the run is cut short, so no JVM outlives the tests.
stop_test_cluster() {
  if [ -d "$FLYWHEEL_INFRA_DIR/kafka-cluster" ]; then
    KAFKA_CLUSTER_DIR="$FLYWHEEL_INFRA_DIR/kafka-cluster" bash deploy/kafka-cluster.sh stop 2>/dev/null || true
  fi
}
trap stop_test_cluster EXIT
trap "exit 130" INT TERM

status=0
# ts-jest compiles each file on its own (isolatedModules) and the build leaves tests out: type-check everything
# once here, on full runs, so a type error in a test fails the suite too (jest still runs and reports).
if [ $# -eq 0 ] || [ "${1:-}" = "--json" ]; then
  echo "[test] type-checking (tsc --noEmit)" >&2
  npx tsc -p tsconfig.json --noEmit >&2 || { echo "[test] type errors above" >&2; status=1; }
  echo "[test] import rules (deploy/lint.sh)" >&2
  bash deploy/lint.sh >&2 || { echo "[test] import rules broken above" >&2; status=1; }
fi
npx jest --runInBand "$@" || status=$?
if [ "${FLYWHEEL_KEEP_TEST_KAFKA:-}" != "1" ]; then bash deploy/kafka.sh stop; fi
exit $status
