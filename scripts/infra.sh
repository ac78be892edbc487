#!/usr/bin/env bash
# Local infrastructure for the mesh, on 127.0.0.1 only: Redis, PostgreSQL and Apache Kafka (KRaft, one node).
#   bash scripts/infra.sh up|down|status|reset|install|verify
# Idempotent: `up` installs what is missing (Debian packages; Kafka's jars from Maven Central, cached in
# .cache/), starts what is not answering, and creates the database, roles, schemas and topics.
# Data and logs live in .infra/ (git-ignored). Ports: REDIS_PORT, PG_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="$ROOT/.infra"
CACHE="$ROOT/.cache"
REDIS_PORT="${REDIS_PORT:-6379}"
PG_PORT="${PG_PORT:-5432}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_VERSION=4.1.2
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
SERVICE_ROLES=(promotion inventory orders payment)

log() { printf '[infra] %s\n' "$*"; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# --- install -------------------------------------------------------------------------------------------------
apt_updated=false
apt_install() {
  if [ "$apt_updated" = false ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=true
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
  [ -x "$PG_BIN/postgres" ] || missing+=("postgresql-$PG_VERSION")
  command -v psql >/dev/null || missing+=("postgresql-client-$PG_VERSION")
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  command -v runuser >/dev/null || missing+=(util-linux)
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
  # Debian's packages may start their own servers on the default ports (where an init system exists); ours
  # must own the ports, so stop any we did not start.
  stray_system_servers
  if [ ! -f "$KAFKA_LIBS/.complete" ]; then
    log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central"
    mkdir -p "$KAFKA_LIBS"
    mvn -q -B -f "$ROOT/infra/kafka/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$KAFKA_LIBS"
    touch "$KAFKA_LIBS/.complete"
  fi
}

stray_system_servers() {
  if [ -f /var/run/redis/redis-server.pid ] && [ ! -f "$STATE/redis/redis.pid" ]; then
    kill "$(cat /var/run/redis/redis-server.pid)" 2>/dev/null || true
  fi
}

# --- readiness -------------------------------------------------------------------------------------------------
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
pg_up() { "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" -q 2>/dev/null; }
kafka_up() { (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null; }

wait_for() { # name, check, log file, seconds
  local name=$1 check=$2 logfile=$3 seconds=${4:-60}
  for _ in $(seq 1 $((seconds * 5))); do
    if "$check"; then return 0; fi
    sleep 0.2
  done
  [ -f "$logfile" ] && tail -n 40 "$logfile" >&2
  die "$name did not answer within ${seconds}s (log: $logfile)"
}

# --- Redis -------------------------------------------------------------------------------------------------------
redis_start() {
  if redis_up; then log "redis already answering on $REDIS_PORT"; return; fi
  mkdir -p "$STATE/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$STATE/redis" \
    --daemonize yes --pidfile "$STATE/redis/redis.pid" --logfile "$STATE/redis/redis.log" --maxclients 10000
  wait_for redis redis_up "$STATE/redis/redis.log" 20
  log "redis up on 127.0.0.1:$REDIS_PORT"
}

redis_stop() {
  if redis_up; then redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
  rm -f "$STATE/redis/redis.pid"
}

# --- PostgreSQL ----------------------------------------------------------------------------------------------------
as_postgres() { runuser -u postgres -- "$@"; }

pg_start() {
  local data="$STATE/postgres/data"
  if pg_up; then log "postgres already answering on $PG_PORT"; else
    mkdir -p "$STATE/postgres"
    chown postgres:postgres "$STATE/postgres"
    if [ ! -f "$data/PG_VERSION" ]; then
      log "initialising a PostgreSQL cluster in $data"
      as_postgres "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    # fsync off: this cluster is for development and tests only; never use these settings in production.
    as_postgres "$PG_BIN/pg_ctl" -D "$data" -l "$STATE/postgres/postgres.log" -w -t 60 -o \
      "-p $PG_PORT -k $STATE/postgres -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
      start >/dev/null
    wait_for postgres pg_up "$STATE/postgres/postgres.log" 30
    log "postgres up on 127.0.0.1:$PG_PORT"
  fi
  pg_provision
}

psql_admin() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -v client_min_messages=warning -qAt "$@"; }

pg_provision() {
  if [ "$(psql_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'flashsale'")" != 1 ]; then
    psql_admin -d postgres -c "CREATE DATABASE flashsale"
  fi
  for role in "${SERVICE_ROLES[@]}"; do
    # One role per service, owning one schema; it sees only its own tables by default.
    psql_admin -d flashsale <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE "$role" LOGIN PASSWORD '$role';
  END IF;
END \$\$;
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS "$role" AUTHORIZATION "$role";
ALTER ROLE "$role" SET search_path = "$role";
REVOKE ALL ON SCHEMA public FROM "$role";
GRANT CONNECT ON DATABASE flashsale TO "$role";
SQL
  done
  psql_admin -d flashsale -c "REVOKE CREATE ON SCHEMA public FROM PUBLIC"
  log "database flashsale with schemas ${SERVICE_ROLES[*]}"
}

pg_stop() {
  local data="$STATE/postgres/data"
  if [ -f "$data/postmaster.pid" ]; then as_postgres "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true; fi
}

# --- Kafka -----------------------------------------------------------------------------------------------------------
kafka_config() {
  local dir="$STATE/kafka"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=6
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.segment.bytes=67108864
log.retention.hours=24
PROPS
}

kafka_java() { java -Xms256m -Xmx768m -Dkafka.logs.dir="$STATE/kafka" \
  -Dlog4j2.configurationFile="$ROOT/infra/kafka/log4j2.properties" -cp "$KAFKA_LIBS/*" "$@"; }

kafka_start() {
  local dir="$STATE/kafka"
  if ! kafka_up; then
    mkdir -p "$dir"
    kafka_config
    if [ ! -f "$dir/data/meta.properties" ]; then
      log "formatting Kafka storage"
      kafka_java kafka.tools.StorageTool format --standalone -t "$(kafka_java kafka.tools.StorageTool random-uuid)" \
        -c "$dir/server.properties" >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "kafka format failed"; }
    fi
    log "starting Kafka $KAFKA_VERSION"
    # Its own session, so the broker outlives the shell (and the terminal) that started it.
    setsid java -Xms256m -Xmx768m -Dkafka.logs.dir="$dir" -Dlog4j2.configurationFile="$ROOT/infra/kafka/log4j2.properties" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" </dev/null >"$dir/stdout.log" 2>&1 &
    echo $! >"$dir/kafka.pid"
    wait_for kafka kafka_up "$dir/server.log" 90
  else
    log "kafka already answering on $KAFKA_PORT"
  fi
  # Topics (and, with them, proof that the broker serves metadata).
  KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" node "$ROOT/scripts/create-topics.js"
}

kafka_stop() {
  local pidfile="$STATE/kafka/kafka.pid" pids
  pids="$(cat "$pidfile" 2>/dev/null || true) $(pgrep -f "kafka.Kafka $STATE/kafka/server.properties" || true)"
  [ -n "${pids// /}" ] || return 0
  kill $pids 2>/dev/null || true
  for _ in $(seq 1 150); do
    kill -0 $pids 2>/dev/null || break
    sleep 0.2
  done
  kill -9 $pids 2>/dev/null || true
  rm -f "$pidfile"
}

# --- commands ----------------------------------------------------------------------------------------------------------
status() {
  local ok=0
  if redis_up; then log "redis     up    127.0.0.1:$REDIS_PORT"; else log "redis     down"; ok=1; fi
  if pg_up; then log "postgres  up    127.0.0.1:$PG_PORT"; else log "postgres  down"; ok=1; fi
  if kafka_up; then log "kafka     up    127.0.0.1:$KAFKA_PORT"; else log "kafka     down"; ok=1; fi
  return $ok
}

endpoints() {
  cat <<EOF
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
DATABASE_URL (per service)=postgresql://<role>:<role>@127.0.0.1:$PG_PORT/flashsale?schema=<role>  (roles: ${SERVICE_ROLES[*]})
EOF
}

case "${1:-up}" in
  install) install ;;
  up)
    install
    mkdir -p "$STATE"
    redis_start
    pg_start
    kafka_start
    endpoints
    ;;
  down)
    kafka_stop
    pg_stop
    redis_stop
    log "stopped"
    ;;
  status) status ;;
  reset)
    "$0" down
    rm -rf "$STATE/redis" "$STATE/postgres" "$STATE/kafka"
    log "data wiped"
    ;;
  verify) node "$ROOT/scripts/verify-kafka.js" ;;
  *) die "usage: $0 up|down|status|reset|install|verify" ;;
esac
