#!/usr/bin/env bash
# A 3-node Apache Kafka cluster (KRaft) on 127.0.0.1, next to the single-node default of deploy/kafka.sh and from the
# same Maven Central jars (.infra/kafka-libs). Every node is a combined broker + controller, so the three form the
# metadata quorum too: any one node can die and the cluster keeps electing leaders, accepting writes and serving
# consumer groups. Topics get 3 replicas, and a write needs 2 in-sync ones (min.insync.replicas=2, with the api's
# acks=-1), so an acknowledged event is on two disks before the api answers 202.
#
#   deploy/kafka-cluster.sh start | stop | restart | status | brokers | kill-node N | stop-node N | start-node N | wipe
#
# brokers prints the bootstrap list for KAFKA_BROKERS; kill-node sends SIGKILL (a crash), stop-node SIGTERM; wipe
# stops the cluster and deletes its data. Each node keeps data/, server.properties, node.log and node.pid under
# $KAFKA_CLUSTER_DIR/node-N.
# Settings:
#   KAFKA_CLUSTER_PORT (9192)    node N's broker listens on KAFKA_CLUSTER_PORT+N-1, its controller on +10 from there
#   KAFKA_CLUSTER_NODES (3)      3 to 9
#   KAFKA_CLUSTER_DIR ($FLYWHEEL_INFRA_DIR/kafka-cluster, default .infra/kafka-cluster)
#   KAFKA_CLUSTER_HEAP (384m)    -Xmx of each node; the machine runs three JVMs
#   KAFKA_CLUSTER_SESSION_MS (5000) a node that stops heartbeating is fenced (its leaderships move) after this long
#   KAFKA_CLUSTER_JVM_OPTS (-XX:+UseG1GC) the tests pass "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC": twice as fast to start
# Class data sharing archives (one per JVM and options) are kept in .infra/kafka-cds.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
INFRA="${FLYWHEEL_INFRA_DIR:-$ROOT/.infra}"
DIR="${KAFKA_CLUSTER_DIR:-$INFRA/kafka-cluster}"
LIBS="$ROOT/.infra/kafka-libs"
BASE="${KAFKA_CLUSTER_PORT:-9192}"
NODES="${KAFKA_CLUSTER_NODES:-3}"
HEAP="${KAFKA_CLUSTER_HEAP:-384m}"
SESSION_MS="${KAFKA_CLUSTER_SESSION_MS:-5000}"
JVM_OPTS="${KAFKA_CLUSTER_JVM_OPTS:--XX:+UseG1GC}"

log() { echo "[kafka-cluster] $*" >&2; }

case "$NODES" in [3-9]) ;; *) log "KAFKA_CLUSTER_NODES must be between 3 and 9, got $NODES"; exit 2 ;; esac
[[ "$BASE" =~ ^[0-9]+$ ]] && [ "$BASE" -ge 1024 ] && [ "$BASE" -le 65500 ] || { log "KAFKA_CLUSTER_PORT must be a port (1024-65500), got $BASE"; exit 2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- 3<&-; }
broker_port() { echo $((BASE + $1 - 1)); }
controller_port() { echo $((BASE + 10 + $1 - 1)); }
node_dir() { echo "$DIR/node-$1"; }
pid_of() { cat "$(node_dir "$1")/node.pid" 2>/dev/null || true; }
is_running() { local pid; pid="$(pid_of "$1")"; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
nodes() { seq 1 "$NODES"; }

check_node() {
  [[ "${1:-}" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le "$NODES" ] || { log "node must be 1..$NODES, got '${1:-}'"; exit 2; }
}

voters() {
  local list=() n
  for n in $(nodes); do list+=("$n@127.0.0.1:$(controller_port "$n")"); done
  (IFS=,; echo "${list[*]}")
}

brokers() {
  local list=() n
  for n in $(nodes); do list+=("127.0.0.1:$(broker_port "$n")"); done
  (IFS=,; echo "${list[*]}")
}

write_config() {
  local n="$1" home; home="$(node_dir "$n")"
  mkdir -p "$home/data"
  cat >"$home/server.properties" <<CONF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(voters)
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n")
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$home/data
num.partitions=1
auto.create.topics.enable=false
# Durability: three copies of everything, a write needs two in sync (the producer sends acks=-1), and a replica
# that fell behind never becomes leader (it could have lost acknowledged writes).
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
# A crashed node is fenced, and its partitions get new leaders, after this long without a heartbeat.
broker.session.timeout.ms=$SESSION_MS
broker.heartbeat.interval.ms=$((SESSION_MS / 5))
group.initial.rebalance.delay.ms=0
log.retention.hours=168
log.segment.bytes=134217728
num.network.threads=2
num.io.threads=2
num.replica.fetchers=1
background.threads=2
delete.topic.enable=true
CONF
}

format_missing() {
  local n pids=() cluster_id
  if [ -f "$DIR/cluster.id" ]; then cluster_id="$(cat "$DIR/cluster.id")"; else
    # Kafka's Uuid: 16 random bytes, base64url without padding, never starting with "-" (StorageTool random-uuid).
    cluster_id="-"
    while [[ "$cluster_id" == -* ]]; do cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"; done
    echo "$cluster_id" >"$DIR/cluster.id"
  fi
  for n in $(nodes); do
    [ -f "$(node_dir "$n")/data/meta.properties" ] && continue
    log "formatting KRaft storage of node $n"
    java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.xml" \
      -cp "$LIBS/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$(node_dir "$n")/server.properties" >"$(node_dir "$n")/format.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || { log "formatting failed:"; cat "$DIR"/node-*/format.log >&2; exit 1; }; done
}

prepare() {
  bash "$ROOT/deploy/kafka.sh" fetch
  mkdir -p "$DIR"
  local layout="$BASE:$NODES"
  if [ -f "$DIR/layout" ] && [ "$(cat "$DIR/layout")" != "$layout" ]; then
    # The voters' addresses are part of the quorum's state: new ports need new storage.
    log "ports or node count changed since $DIR was formatted; formatting again (its topics are dropped)"
    for n in $(nodes); do is_running "$n" && { log "node $n still runs: stop the cluster first"; exit 1; }; done
    rm -rf "$DIR"/node-* "$DIR/cluster.id"
  fi
  echo "$layout" >"$DIR/layout"
  for n in $(nodes); do write_config "$n"; done
  format_missing
}

# Class data sharing: node 1 writes the classes it loaded to an archive when it exits normally, and every start after
# maps that archive instead of loading the ~1,900 classes again: about 40% less CPU to start (one archive per JVM
# and options; the JVM checks it and starts without it if it does not fit).
class_archive() {
  local archive
  archive="$ROOT/.infra/kafka-cds/$(printf '%s' "$(java -version 2>&1) $JVM_OPTS $HEAP" | md5sum | cut -c1-12).jsa"
  if [ -s "$archive" ]; then echo "-XX:SharedArchiveFile=$archive -Xlog:cds=off -Xlog:cds+dynamic=off"
  elif [ "$1" = 1 ]; then mkdir -p "$(dirname "$archive")"; echo "-XX:ArchiveClassesAtExit=$archive -Xlog:cds=off -Xlog:cds+dynamic=off"
  fi
}

launch() {
  local n="$1" home port; home="$(node_dir "$n")"; port="$(broker_port "$n")"
  if is_running "$n"; then return 0; fi
  if port_open "$port" || port_open "$(controller_port "$n")"; then
    log "port $port or $(controller_port "$n") is taken by another process: choose another KAFKA_CLUSTER_PORT"; exit 1
  fi
  log "starting node $n (broker 127.0.0.1:$port, controller :$(controller_port "$n"))"
  : >"$home/node.log"
  # shellcheck disable=SC2086 # the options are lists of flags
  nohup java -Xms128m -Xmx"$HEAP" $JVM_OPTS $(class_archive "$n") -Djava.awt.headless=true -Dflywheel.kafka.cluster="$DIR" \
    -Dlog4j2.configurationFile="$ROOT/deploy/kafka/log4j2.xml" -cp "$LIBS/*" kafka.Kafka "$home/server.properties" \
    >"$home/node.log" 2>&1 &
  echo $! >"$home/node.pid"
}

# A node is up when its broker has registered with the quorum and been unfenced ("Kafka Server started").
await_nodes() {
  local n pending
  for _ in $(seq 1 240); do
    pending=0
    for n in "$@"; do
      if ! is_running "$n"; then log "node $n exited; last lines of $(node_dir "$n")/node.log:"; tail -n 30 "$(node_dir "$n")/node.log" >&2; exit 1; fi
      grep -q "Kafka Server started" "$(node_dir "$n")/node.log" 2>/dev/null && port_open "$(broker_port "$n")" || pending=1
    done
    [ "$pending" = 0 ] && { log "up: $(brokers)"; return 0; }
    sleep 0.5
  done
  log "nodes $* did not start within 120 s; see $DIR/node-*/node.log"; exit 1
}

start() {
  prepare
  local n started=()
  for n in $(nodes); do launch "$n"; started+=("$n"); done
  await_nodes "${started[@]}"
}

start_node() {
  check_node "$1"
  prepare
  launch "$1"
  await_nodes "$1"
}

stop_node() {
  local n="$1" signal="$2" pid
  pid="$(pid_of "$n")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "node $n: SIG$signal (pid $pid)"
    kill -s "$signal" "$pid" 2>/dev/null || true
  fi
}

await_exit() {
  local n pid
  for n in "$@"; do
    pid="$(pid_of "$n")"
    [ -z "$pid" ] && continue
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$(node_dir "$n")/node.pid"
  done
}

stop() {
  local n
  # All at once: a controller quorum that loses its majority while nodes shut down one by one makes the last
  # ones wait for a quorum that never comes back.
  for n in $(nodes); do stop_node "$n" TERM; done
  await_exit $(nodes)
}

status() {
  local n down=0
  for n in $(nodes); do
    if is_running "$n" && port_open "$(broker_port "$n")"; then echo "node $n running 127.0.0.1:$(broker_port "$n") (pid $(pid_of "$n"))"
    else echo "node $n stopped"; down=1; fi
  done
  return $((down * 3))
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  brokers) brokers ;;
  kill-node) check_node "${2:-}"; stop_node "$2" KILL; await_exit "$2" ;;
  stop-node) check_node "${2:-}"; stop_node "$2" TERM; await_exit "$2" ;;
  start-node) start_node "${2:-}" ;;
  wipe) stop; rm -rf "$DIR"; log "removed $DIR" ;;
  *) echo "usage: $0 start|stop|restart|status|brokers|kill-node N|stop-node N|start-node N|wipe" >&2; exit 2 ;;
esac
