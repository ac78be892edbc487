#!/bin/sh
# Entrypoint of the flash-sale kafka image (deploy/docker/infra.Dockerfile, target kafka): Apache Kafka 4.1.2 as a
# single KRaft node (broker and controller in one process) for the optional in-cluster profile. Runs as uid 1000
# with a read-only root file system; everything it writes lives in the volume mounted at /var/lib/kafka:
#   config/server.properties   written from the environment at every start
#   data/                      the log directory, formatted (kafka.tools.StorageTool format --standalone) once
#   tmp/                       the JVM's temporary files
# Then execs the broker as PID 1: SIGTERM is a controlled shutdown. Environment:
#   KAFKA_ADVERTISED_HOST   the host clients are told to connect to: in Kubernetes the Service's DNS name
#                           (default: this container's first address, `hostname -i`)
#   KAFKA_PORT              client listener port (9092), on KAFKA_LISTEN_HOST (0.0.0.0)
#   KAFKA_CONTROLLER_PORT   controller listener (9093), on 127.0.0.1 only: nothing outside the pod needs it. Keep it
#                           fixed for the life of the volume (the quorum's voter record holds it).
#   KAFKA_CLUSTER_ID        cluster id used when formatting (default: random)
#   KAFKA_NUM_PARTITIONS    default partitions of new topics (6); topics come from scripts/create-topics.js anyway
#   KAFKA_HEAP_OPTS         (-Xms256m -Xmx512m)   KAFKA_JVM_OPTS   extra JVM options
#   KAFKA_EXTRA_PROPERTIES  more server.properties lines (newline separated), appended last
set -eu

HOME_DIR=/opt/kafka
STATE=/var/lib/kafka
PROPS="$STATE/config/server.properties"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
LISTEN_HOST="${KAFKA_LISTEN_HOST:-0.0.0.0}"
ADVERTISED_HOST="${KAFKA_ADVERTISED_HOST:-$(hostname -i 2>/dev/null | awk '{ print $1 }')}"
ADVERTISED_HOST="${ADVERTISED_HOST:-127.0.0.1}"

log() { echo "kafka-entrypoint: $*"; }

if ! mkdir -p "$STATE/config" "$STATE/data" "$STATE/tmp" 2>/dev/null || [ ! -w "$STATE/data" ]; then
  log "cannot write $STATE as uid $(id -u): mount a writable volume there (Kubernetes: fsGroup 1000)" >&2
  exit 1
fi

cat >"$PROPS" <<PROPS
# Written by the image's entrypoint from the environment at every start; edits are lost.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://$LISTEN_HOST:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$ADVERTISED_HOST:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$STATE/data
num.partitions=${KAFKA_NUM_PARTITIONS:-6}
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=12
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.segment.bytes=67108864
log.retention.hours=24
${KAFKA_EXTRA_PROPERTIES:-}
PROPS

JVM_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:-UsePerfData -XX:+ExitOnOutOfMemoryError \
-Djava.io.tmpdir=$STATE/tmp -Dlog4j2.configurationFile=$HOME_DIR/config/log4j2.properties ${KAFKA_JVM_OPTS:-}"

if [ ! -f "$STATE/data/meta.properties" ]; then
  id="${KAFKA_CLUSTER_ID:-}"
  while [ -z "$id" ] || [ "${id#-}" != "$id" ]; do # what StorageTool random-uuid prints, without a JVM
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  done
  log "formatting $STATE/data for cluster $id"
  # shellcheck disable=SC2086 # the option list splits on purpose
  java $JVM_OPTS -cp "$HOME_DIR/libs/*" kafka.tools.StorageTool format --standalone -t "$id" -c "$PROPS"
fi

log "starting: PLAINTEXT://$LISTEN_HOST:$PORT advertised as $ADVERTISED_HOST:$PORT"
# shellcheck disable=SC2086
exec java $JVM_OPTS -cp "$HOME_DIR/libs/*" kafka.Kafka "$PROPS"
