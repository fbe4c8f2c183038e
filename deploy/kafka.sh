#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft, broker+controller) on 127.0.0.1, fetched from Maven Central with mvn.
#   deploy/kafka.sh fetch|start|stop|status|restart
# The jars are cached in .infra/kafka-libs; each broker keeps data/, broker.log and broker.pid under
# $FLYWHEEL_INFRA_DIR/kafka (default .infra/kafka; the test run uses its own on other ports). All ignored by git.
# Settings: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), FLYWHEEL_INFRA_DIR (.infra).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
INFRA="${FLYWHEEL_INFRA_DIR:-$ROOT/.infra}"
HOME_DIR="$INFRA/kafka"
LIBS="$ROOT/.infra/kafka-libs"
DATA="$HOME_DIR/data"
PORT="${KAFKA_PORT:-9092}"
CPORT="${KAFKA_CONTROLLER_PORT:-9093}"
PIDFILE="$HOME_DIR/broker.pid"
LOG="$HOME_DIR/broker.log"
CONF="$HOME_DIR/server.properties"

log() { echo "[kafka] $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- 3<&-; }

fetch() {
  if [ -f "$LIBS/.complete" ] && cmp -s "$ROOT/deploy/kafka/pom.xml" "$LIBS/.complete"; then return 0; fi
  command -v mvn >/dev/null || { log "mvn not found: install Apache Maven (apt-get install maven)"; exit 1; }
  log "fetching the Kafka broker jars from Maven Central into $LIBS"
  rm -rf "$LIBS"; mkdir -p "$LIBS"
  mvn -q -B -f "$ROOT/deploy/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime >&2
  cp "$ROOT/deploy/kafka/pom.xml" "$LIBS/.complete"
}

java_cmd() {
  java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.xml" -cp "$LIBS/*" "$@"
}

write_config() {
  mkdir -p "$DATA"
  cat >"$CONF" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA
num.partitions=1
# Topics are created explicitly by the project, with their partition counts.
auto.create.topics.enable=false
# Single node: every internal topic must fit on one replica, or consumer groups never find their coordinator.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.segment.bytes=268435456
num.network.threads=2
num.io.threads=4
delete.topic.enable=true
CONF
}

is_running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
  if is_running && port_open "$PORT"; then log "already running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"; return 0; fi
  if port_open "$PORT"; then log "something else listens on 127.0.0.1:$PORT; using it as the broker"; return 0; fi
  fetch
  if [ -f "$HOME_DIR/port" ] && [ "$(cat "$HOME_DIR/port")" != "$PORT" ] && [ -d "$DATA" ]; then
    # KRaft storage formatted with --standalone records the controller's address; a new port needs a new format.
    log "ports changed since $DATA was formatted; formatting it again (its topics are dropped)"
    rm -rf "$DATA"
  fi
  write_config
  if [ ! -f "$DATA/meta.properties" ]; then
    log "formatting KRaft storage in $DATA"
    cluster_id="$(java_cmd kafka.tools.StorageTool random-uuid | tail -n 1)"
    java_cmd kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$CONF" >&2
  fi
  log "starting broker on 127.0.0.1:$PORT"
  nohup java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.xml" -cp "$LIBS/*" kafka.Kafka "$CONF" >"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  echo "$PORT" >"$HOME_DIR/port"
  for _ in $(seq 1 120); do
    if port_open "$PORT" && grep -q "Kafka Server started" "$LOG" 2>/dev/null; then log "broker is up"; return 0; fi
    is_running || { log "broker exited; last lines of $LOG:"; tail -n 30 "$LOG" >&2; exit 1; }
    sleep 0.5
  done
  log "broker did not answer within 60 s; see $LOG"; exit 1
}

stop() {
  if ! is_running; then log "not running"; rm -f "$PIDFILE"; return 0; fi
  local pid; pid="$(cat "$PIDFILE")"
  log "stopping broker (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
}

case "${1:-start}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if is_running && port_open "$PORT"; then echo "running"; else echo "stopped"; exit 3; fi ;;
  *) echo "usage: $0 fetch|start|stop|restart|status" >&2; exit 2 ;;
esac
