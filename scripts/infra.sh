#!/usr/bin/env bash
# Local infrastructure for the mesh, on 127.0.0.1 only: Redis, PostgreSQL, Apache Kafka (KRaft, one node) and a
# Prometheus that scrapes what the mesh and the tests register and evaluates the shipped alert rules.
#
#   bash scripts/infra.sh up        install what is missing, start what is not answering, create the database,
#                                   roles, schemas and topics, and the local certificates (.infra/pki); prints
#                                   the endpoints (the default command)
#   bash scripts/infra.sh down      stop the servers this script started (others are left alone); `down kafka`,
#                                   `down redis`, `down postgres` or `down prometheus` stops only that one (`up`
#                                   brings it back)
#   bash scripts/infra.sh status    one line per server; exit 0 only when all four answer
#   bash scripts/infra.sh reset     down, then delete their data (.infra/{redis,postgres,kafka,prometheus})
#   bash scripts/infra.sh install   only the install step (Debian packages, Kafka's jars), plus shellcheck for
#                                   `npm run lint` and grpcurl for the gRPC tests; used by .ci/run and npm test
#   bash scripts/infra.sh verify    prove kafkajs works against the broker (scripts/verify-kafka.js)
#
# Idempotent and safe to run concurrently (a lock serialises runs). Debian packages come from apt (apt-get update
# runs once, only when something is missing), Kafka's jars from Maven Central through infra/kafka/pom.xml, cached in
# .cache/kafka-<version>/libs. Data and logs live in .infra/ (INFRA_DIR overrides). Ports: REDIS_PORT (6379),
# PG_PORT (5432), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), PROMETHEUS_PORT (9091; `off`: no Prometheus);
# new topics get at most KAFKA_PARTITIONS_MAX (4) partitions. Runs as root (PostgreSQL then runs as the `postgres`
# user) or as a user with passwordless sudo for apt. The settings trade durability for speed: they are for
# development and tests only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STATE="${INFRA_DIR:-$ROOT/.infra}"
CACHE="$ROOT/.cache"
REDIS_PORT="${REDIS_PORT:-6379}"
PG_PORT="${PG_PORT:-5432}"
PG_MAX_CONNECTIONS="${PG_MAX_CONNECTIONS:-300}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
# One replica of each service runs locally: partitions beyond the order consumer's concurrency only cost (docs/adr/0008-kafka-partition-counts.md).
KAFKA_PARTITIONS_MAX="${KAFKA_PARTITIONS_MAX:-4}"
KAFKA_VERSION=4.1.2
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
KAFKA_POM="$ROOT/infra/kafka/pom.xml"
KAFKA_LOG4J="$ROOT/infra/kafka/log4j2.properties"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-9091}"
# The chart renders the same file into a PrometheusRule (docs/adr/0015-one-rules-file-for-prometheus-and-the-chart.md).
PROMETHEUS_RULES="$ROOT/deploy/helm/flash-sale/files/prometheus/rules.yaml"
DATABASE=flashsale
# The tests' own database and Kafka topics (packages/testing), and the topics of the benchmark and the fault
# harness (bench/): none of them reads or writes what a mesh started by `npm start` uses (docs/operations.md, "Isolation").
TEST_DATABASE=flashsale_test
TOPIC_PREFIXES=("" test. bench. chaos.)
SERVICE_ROLES=(promotion inventory orders payment)
# INFRA_HOST: the address all three listen on (127.0.0.1). scripts/k8s/test-k8s.sh runs a second set on the
# cluster bridge's host address for pods; INFRA_CLIENT_CIDR then lets that network log in to PostgreSQL with a
# password (scram-sha-256), besides trust on the host itself.
HOST="${INFRA_HOST:-127.0.0.1}"
CLIENT_CIDR="${INFRA_CLIENT_CIDR:-}"
# REDIS_PASSWORD: a Redis this script starts requires it of every client (test-k8s.sh sets one for that second set);
# unset: none, as on 127.0.0.1.
REDIS_PASSWORD="${REDIS_PASSWORD:-}"

LOG_TAG=infra
APT_LOG="$STATE/install.log"
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# Commands take a lock on "$STATE/.infra.lock", one infra.sh at a time per state folder (two `npm test` runs may
# start together). Every server started below closes fd 9 (`9>&-`), so the lock is released when this script exits.

# --- install ---------------------------------------------------------------------------------------------------
KAFKA_LAUNCHER="" # the background job formatting and launching Kafka during `up`
cleanup() {
  release_policy_guard
  # If `up` failed elsewhere, let the launcher finish, so a started broker has its pid file (`down` stops it).
  if [ -n "$KAFKA_LAUNCHER" ]; then wait "$KAFKA_LAUNCHER" 2>/dev/null || true; fi
}
trap cleanup EXIT

install_packages() { # packages...: installed, and kept from running their own servers
  apt_install "$@"
  quiet_system_services "$@"
}

# The packages we just installed must not run their own servers, now (an init system that ignored policy-rc.d) or
# after a reboot. Only what this run installed is touched: a server someone set up on purpose is left alone.
quiet_system_services() {
  local package
  for package in "$@"; do
    case "$package" in
      redis-server)
        if [ -d /run/systemd/system ]; then "${SUDO[@]}" systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
        if [ -x /etc/init.d/redis-server ]; then "${SUDO[@]}" /etc/init.d/redis-server stop >/dev/null 2>&1 || true; fi
        ;;
      postgresql | postgresql-[0-9]*)
        if [ -d /run/systemd/system ]; then "${SUDO[@]}" systemctl disable --now postgresql >/dev/null 2>&1 || true; fi
        if command -v pg_lsclusters >/dev/null; then
          local version name _port status _rest
          while read -r version name _port status _rest; do
            [ "$status" = online ] && { "${SUDO[@]}" pg_ctlcluster "$version" "$name" stop -m fast >/dev/null 2>&1 || true; }
            if [ -f "/etc/postgresql/$version/$name/start.conf" ]; then
              echo manual | "${SUDO[@]}" tee "/etc/postgresql/$version/$name/start.conf" >/dev/null
            fi
          done < <(pg_lsclusters -h 2>/dev/null || true)
        fi
        ;;
      # Debian's prometheus recommends the node exporter; either would listen on the ports 9090 and 9100.
      prometheus | prometheus-node-exporter)
        local unit
        for unit in prometheus prometheus-node-exporter; do
          if [ -d /run/systemd/system ]; then "${SUDO[@]}" systemctl disable --now "$unit" >/dev/null 2>&1 || true; fi
          if [ -x "/etc/init.d/$unit" ]; then "${SUDO[@]}" "/etc/init.d/$unit" stop >/dev/null 2>&1 || true; fi
        done
        ;;
    esac
  done
}

java_major() { # java binary -> major version (8 for 1.8)
  "$1" -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]) + 0; exit }'
}
JAVA=""
find_java() {
  local candidate
  for candidate in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java || true)" /usr/lib/jvm/java-17-openjdk-*/bin/java \
    /usr/lib/jvm/java-2[0-9]-openjdk-*/bin/java; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && [ "$(java_major "$candidate")" -ge 17 ] 2>/dev/null; then
      JAVA=$candidate
      return 0
    fi
  done
  return 1
}

pg_bin_dir() { # the binaries matching an existing cluster, else the newest installed
  local version
  if [ -f "$STATE/postgres/data/PG_VERSION" ]; then
    version=$(cat "$STATE/postgres/data/PG_VERSION")
    [ -x "/usr/lib/postgresql/$version/bin/postgres" ] && { echo "/usr/lib/postgresql/$version/bin"; return 0; }
    return 1
  fi
  find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null | sort -V | tail -n 1 | xargs -r dirname
}

kafka_jars_current() {
  [ -f "$KAFKA_LIBS/.complete" ] && [ "$(cat "$KAFKA_LIBS/.complete")" = "$(sha256sum "$KAFKA_POM" | cut -c1-64)" ]
}

install() { # extra commands, each from the Debian package of the same name (`install` adds the lint tools)
  local missing=() tool
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
  [ -n "$(pg_bin_dir || true)" ] || missing+=(postgresql)
  command -v psql >/dev/null || missing+=(postgresql-client)
  find_java || missing+=(openjdk-17-jre-headless)
  if ! kafka_jars_current; then command -v mvn >/dev/null || missing+=(maven); fi
  command -v flock >/dev/null && command -v runuser >/dev/null || missing+=(util-linux)
  # promtool (same package) checks and tests the alert rules in `npm run lint`, whether Prometheus runs or not.
  command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
  if [ ${#missing[@]} -gt 0 ]; then install_packages "${missing[@]}"; fi
  find_java || die "no Java 17 or newer found (JAVA_HOME, PATH, /usr/lib/jvm) even after installing openjdk-17-jre-headless"
  [ -n "$(pg_bin_dir || true)" ] || die "PostgreSQL $(cat "$STATE/postgres/data/PG_VERSION" 2>/dev/null) binaries not found for $STATE/postgres/data"
  kafka_jars
}

kafka_jars() {
  kafka_jars_current && return 0
  local t0 tmp="$KAFKA_LIBS.tmp.$$"
  t0=$(now_ms)
  log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into ${KAFKA_LIBS#"$ROOT"/}"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  mvn -q -B -f "$KAFKA_POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1 || {
    tail_log "$tmp.log"
    rm -rf "$tmp"
    die "mvn could not fetch Kafka's jars (log: $tmp.log)"
  }
  ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "mvn ran, but $tmp has no kafka_2.13-$KAFKA_VERSION.jar"
  sha256sum "$KAFKA_POM" | cut -c1-64 >"$tmp/.complete"
  rm -rf "$KAFKA_LIBS" "$tmp.log"
  mv "$tmp" "$KAFKA_LIBS"
  log "kafka jars: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars, $(du -sh "$KAFKA_LIBS" | cut -f1) in $(since "$t0")"
}

need_node() {
  command -v node >/dev/null || die "node is not installed (Node >= 20.19 is needed for the topic script)"
  node -e 'require.resolve("kafkajs")' 2>/dev/null || die "kafkajs is not installed in $ROOT/node_modules: run npm ci first"
}

# --- Redis -------------------------------------------------------------------------------------------------------
redis_cli() {
  if [ -n "$REDIS_PASSWORD" ]; then
    REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h "$HOST" -p "$REDIS_PORT" "$@"
  else
    redis-cli -h "$HOST" -p "$REDIS_PORT" "$@"
  fi
}
redis_up() { [ "$(redis_cli ping 2>/dev/null)" = PONG ]; }
redis_ours() { [ "$(redis_cli config get dir 2>/dev/null | sed -n 2p)" = "$STATE/redis" ]; }

redis_start() {
  local t0 dir="$STATE/redis"
  t0=$(now_ms)
  if redis_up; then
    if redis_ours; then log "redis     already up on $HOST:$REDIS_PORT"; else
      log "redis     $HOST:$REDIS_PORT already answers, started elsewhere ($(redis_cli config get dir 2>/dev/null | sed -n 2p)); using it"
    fi
    return 0
  fi
  port_open "$REDIS_PORT" && die "port $REDIS_PORT is taken by something that is not Redis: set REDIS_PORT"
  mkdir -p "$dir"
  # The password goes in this file, which only this user reads, not on the command line that process lists show.
  # Inside double quotes, Redis's configuration reads \\ and \" as the characters themselves.
  local quoted=${REDIS_PASSWORD//\\/\\\\}
  (umask 077 && : >"$dir/auth.conf")
  [ -z "$REDIS_PASSWORD" ] || printf 'requirepass "%s"\n' "${quoted//\"/\\\"}" >"$dir/auth.conf"
  # Protected mode refuses every client of a non-loopback address without a password; that address (INFRA_HOST)
  # is the cluster bridge's, which only this machine's pods reach.
  # Lazy freeing: a finished sale's hashes (a million fields at full size) expire, or are deleted, on a background
  # thread instead of holding every command for up to a second (docs/performance.md, "Redis stays responsive").
  redis-server "$dir/auth.conf" --port "$REDIS_PORT" --bind "$HOST" --save '' --appendonly no --dir "$dir" --daemonize yes \
    --lazyfree-lazy-expire yes --lazyfree-lazy-server-del yes --lazyfree-lazy-user-del yes \
    --protected-mode "$([ "$HOST" = 127.0.0.1 ] && echo yes || echo no)" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --maxclients 10000 9>&- ||
    { tail_log "$dir/redis.log"; die "redis-server did not start"; }
  wait_until "redis" redis_up "$dir/redis.log" 20
  log "redis     started on $HOST:$REDIS_PORT in $(since "$t0")"
}

redis_stop() {
  local dir="$STATE/redis" pid t0
  t0=$(now_ms)
  pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
  if redis_up && redis_ours; then
    redis_cli shutdown nosave >/dev/null 2>&1 || true
  elif pid_alive "$pid" && [[ "$(pid_cmdline "$pid")" == redis-server* ]]; then
    kill "$pid" 2>/dev/null || true
  elif redis_up; then
    log "redis     $HOST:$REDIS_PORT was not started by infra.sh: left running"
    return 0
  else
    log "redis     not running"
    return 0
  fi
  for _ in $(seq 1 100); do pid_alive "$pid" || redis_up || break; sleep 0.1; done
  rm -f "$dir/redis.pid"
  log "redis     stopped in $(since "$t0")"
}

# --- PostgreSQL ----------------------------------------------------------------------------------------------------
PG_BIN=""
as_pg_owner() { # PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_up() { "$PG_BIN/pg_isready" -h "$HOST" -p "$PG_PORT" -q -t 2 2>/dev/null; }
pg_pid() { head -n 1 "$STATE/postgres/data/postmaster.pid" 2>/dev/null || true; }
pg_ours() { # our data folder's postmaster is alive and listens on PG_PORT
  local pid
  pid=$(pg_pid)
  pid_alive "$pid" && [ "$(sed -n 4p "$STATE/postgres/data/postmaster.pid" 2>/dev/null)" = "$PG_PORT" ]
}
psql_admin() { # superuser, over TCP (trust on loopback), quiet, stop at the first error
  PGOPTIONS='-c client_min_messages=warning' psql -X -w -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U postgres "$@"
}

pg_start() {
  local t0 dir="$STATE/postgres" data="$STATE/postgres/data"
  t0=$(now_ms)
  PG_BIN=$(pg_bin_dir) || die "no PostgreSQL binaries for $data"
  if pg_up; then
    if pg_ours; then log "postgres  already up on $HOST:$PG_PORT"; else
      log "postgres  $HOST:$PG_PORT already answers, started elsewhere; using it"
    fi
  else
    port_open "$PG_PORT" && die "port $PG_PORT is taken by something that is not PostgreSQL: set PG_PORT"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres:postgres "$dir"
      runuser -u postgres -- test -w "$dir" ||
        die "the postgres user cannot reach $dir (a parent folder is private?): set INFRA_DIR to a folder it can reach"
    fi
    if [ ! -f "$data/PG_VERSION" ]; then
      log "postgres  initialising a cluster in ${data#"$ROOT"/}"
      as_pg_owner "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
        { tail_log "$dir/initdb.log"; die "initdb failed"; }
    fi
    # This machine itself (INFRA_HOST) is trusted like loopback; then INFRA_CLIENT_CIDR logs in with a password.
    # pg_hba.conf takes the first line that matches, so the order matters.
    local line
    for line in "host all all $HOST/32 trust" "host all all $CLIENT_CIDR scram-sha-256"; do
      case "$line" in "host all all 127.0.0.1/32 trust" | "host all all  scram-sha-256") continue ;; esac
      grep -qxF "$line" "$data/pg_hba.conf" || as_pg_owner sh -c "printf '%s\\n' '$line' >>'$data/pg_hba.conf'"
    done
    # fsync and synchronous_commit off: a development and test cluster only, never for data that matters.
    as_pg_owner "$PG_BIN/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 60 -o "-p $PG_PORT -k '$dir' \
-c listen_addresses=$HOST -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
-c max_connections=$PG_MAX_CONNECTIONS" start >/dev/null 9>&- || { tail_log "$dir/postgres.log"; die "PostgreSQL did not start"; }
    wait_until "postgres" pg_up "$dir/postgres.log" 30
    log "postgres  started on $HOST:$PG_PORT in $(since "$t0")"
  fi
  pg_provision
}

# The database, and per service a LOGIN role (password = name) owning the schema of the same name, with its
# search_path there. Roles get no rights on each other's schemas, and nobody creates objects in `public`.
pg_provision() {
  local t0
  t0=$(now_ms)
  local err
  err=$(psql_admin -d postgres -c "SELECT 1" 2>&1 >/dev/null) || {
    printf '%s\n' "$err" >&2
    if pg_ours; then die "cannot connect to PostgreSQL on $HOST:$PG_PORT as postgres"; fi
    if command -v pg_lsclusters >/dev/null; then pg_lsclusters >&2 || true; fi
    die "PostgreSQL on $HOST:$PG_PORT was not started by infra.sh and refuses user postgres without a password \
(a Debian system cluster? stop it with pg_ctlcluster VERSION main stop), or choose another PG_PORT"
  }
  # The same file the postgres image runs at start (deploy/docker/postgres/bootstrap.sql); its role names are
  # SERVICE_ROLES above.
  local database
  for database in "$DATABASE" "$TEST_DATABASE"; do
    psql_admin -d postgres -v database="$database" -f "$ROOT/deploy/docker/postgres/bootstrap.sql"
  done
  log "postgres  databases $DATABASE and $TEST_DATABASE, roles and schemas ${SERVICE_ROLES[*]} ready ($(since "$t0"))"
}

pg_stop() {
  local data="$STATE/postgres/data"
  PG_BIN=$(pg_bin_dir 2>/dev/null) || PG_BIN=""
  local t0
  t0=$(now_ms)
  if [ -n "$PG_BIN" ] && pid_alive "$(pg_pid)"; then
    as_pg_owner "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
    log "postgres  stopped in $(since "$t0")"
  elif [ -n "$PG_BIN" ] && pg_up; then
    log "postgres  $HOST:$PG_PORT was not started by infra.sh: left running"
  else
    log "postgres  not running"
  fi
}

# --- Kafka -----------------------------------------------------------------------------------------------------------
kafka_pid() { cat "$STATE/kafka/kafka.pid" 2>/dev/null || true; }
kafka_ours() {
  local pid
  pid=$(kafka_pid)
  pid_alive "$pid" && [[ "$(pid_cmdline "$pid")" == *"kafka.Kafka $STATE/kafka/server.properties"* ]]
}
# A real metadata request (kafkajs, as the services use it): prints the cluster id.
kafka_probe() {
  node -e '
    const { Kafka, logLevel } = require("kafkajs");
    const admin = new Kafka({ clientId: "infra-probe", brokers: [process.argv[1]], logLevel: logLevel.NOTHING,
      connectionTimeout: 1000, requestTimeout: 3000, retry: { retries: 0 } }).admin();
    admin.connect().then(() => admin.describeCluster())
      .then((c) => { console.log(c.clusterId); process.exit(c.brokers.length > 0 ? 0 : 1); }, () => process.exit(1));
  ' "$HOST:$KAFKA_PORT" 2>/dev/null
}
kafka_java() { "$JAVA" -Xms256m -Xmx768m -Dkafka.logs.dir="$STATE/kafka" -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
  -cp "$KAFKA_LIBS/*" "$@"; }

kafka_config() {
  local dir="$STATE/kafka"
  cat >"$dir/server.properties" <<PROPS
# Generated by scripts/infra.sh from the ports; edits are overwritten at the next start.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=6
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
PROPS
}

kafka_cluster_id() { # what StorageTool random-uuid prints (base64url of 16 random bytes), without starting a JVM
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    [[ "$id" == -* ]] || break # Kafka never hands out ids that look like command-line options
  done
  echo "$id"
}

# Runs in the background while Redis and PostgreSQL start: format once, then start the broker in its own session.
kafka_launch() {
  local dir="$STATE/kafka" t0
  mkdir -p "$dir"
  if [ -f "$dir/controller.port" ] && [ "$(cat "$dir/controller.port")" != "$KAFKA_CONTROLLER_PORT" ]; then
    die "kafka storage in $dir was formatted for controller port $(cat "$dir/controller.port"), not $KAFKA_CONTROLLER_PORT: \
use KAFKA_CONTROLLER_PORT=$(cat "$dir/controller.port") or run: bash scripts/infra.sh reset"
  fi
  kafka_config
  if [ ! -f "$dir/data/meta.properties" ]; then
    t0=$(now_ms)
    kafka_java kafka.tools.StorageTool format --standalone -t "$(kafka_cluster_id)" -c "$dir/server.properties" \
      >"$dir/format.log" 2>&1 || { tail_log "$dir/format.log"; die "formatting Kafka's storage failed"; }
    log "kafka     storage formatted in $(since "$t0")"
  fi
  echo "$KAFKA_CONTROLLER_PORT" >"$dir/controller.port"
  if [ -f "$dir/server.log" ]; then mv -f "$dir/server.log" "$dir/server.log.prev"; fi
  setsid "$JAVA" -Xms256m -Xmx768m -Dkafka.logs.dir="$dir" -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" </dev/null >"$dir/stdout.log" 2>&1 9>&- &
  echo $! >"$dir/kafka.pid"
}

kafka_fail() {
  tail_log "$STATE/kafka/stdout.log" 20
  tail_log "$STATE/kafka/server.log" 40
  die "$*"
}

kafka_wait() { # the log line, then a metadata request
  local dir="$STATE/kafka" pid deadline=$((SECONDS + 90))
  pid=$(kafka_pid)
  until grep -q 'Kafka Server started' "$dir/server.log" 2>/dev/null; do
    pid_alive "$pid" || kafka_fail "Kafka (pid $pid) exited during start-up"
    [ $SECONDS -lt $deadline ] || kafka_fail "Kafka did not log 'Kafka Server started' within 90 s"
    sleep 0.2
  done
  until kafka_probe >/dev/null; do
    pid_alive "$pid" || kafka_fail "Kafka (pid $pid) exited during start-up"
    [ $SECONDS -lt $deadline ] || kafka_fail "Kafka started but did not answer a metadata request within 90 s"
    sleep 0.3
  done
}

kafka_topics() {
  local t0
  t0=$(now_ms)
  local prefix
  for prefix in "${TOPIC_PREFIXES[@]}"; do
    KAFKA_BROKERS="$HOST:$KAFKA_PORT" KAFKA_TOPICS_TIMEOUT_MS=60000 KAFKA_PARTITIONS_MAX="$KAFKA_PARTITIONS_MAX" \
      KAFKA_TOPIC_PREFIX="$prefix" node "$ROOT/scripts/create-topics.js" |
      sed 's/^/[infra] /' || kafka_fail "could not create the Kafka topics"
  done
  log "kafka     topics checked in $(since "$t0")"
}

kafka_stop() {
  local pid t0
  pid=$(kafka_pid)
  if kafka_ours; then
    t0=$(now_ms)
    kill "$pid" 2>/dev/null || true # SIGTERM: a controlled shutdown
    for _ in $(seq 1 300); do pid_alive "$pid" || break; sleep 0.2; done
    if pid_alive "$pid"; then
      warn "kafka (pid $pid) still running after 60 s: killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/kafka/kafka.pid"
    log "kafka     stopped in $(since "$t0")"
  elif port_open "$KAFKA_PORT"; then
    log "kafka     $HOST:$KAFKA_PORT was not started by infra.sh: left running"
  else
    rm -f "$STATE/kafka/kafka.pid"
    log "kafka     not running"
  fi
}

# --- Prometheus --------------------------------------------------------------------------------------------------
# Debian's prometheus, a plain process with its data in .infra/prometheus. It scrapes whatever a file in
# .infra/prometheus/targets/ names (`npm start` writes mesh.json; each test writes a file of its own and deletes it)
# and evaluates the chart's rules file, every second, so that a test sees a sample or an alert within seconds.
prom_enabled() { [ "$PROMETHEUS_PORT" != off ]; }
prom_get() { # path -> the HTTP status code of a GET (no curl on a bare Debian machine)
  # shellcheck disable=SC2016 # the single-quoted script is bash's own, with its own positional parameters
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$0" >&3 && head -n 1 <&3' \
    "$HOST" "$PROMETHEUS_PORT" "$1" 2>/dev/null | awk '{ print $2 }'
}
prom_up() { [ "$(prom_get /-/ready)" = 200 ]; }
prom_pid() { cat "$STATE/prometheus/prometheus.pid" 2>/dev/null || true; }
prom_ours() {
  local pid
  pid=$(prom_pid)
  pid_alive "$pid" && [[ "$(pid_cmdline "$pid")" == *"--storage.tsdb.path=$STATE/prometheus/data"* ]]
}

prom_config() {
  local dir="$STATE/prometheus"
  mkdir -p "$dir/targets" "$dir/data"
  cat >"$dir/prometheus.yml" <<YAML
# Generated by scripts/infra.sh; edits are overwritten at the next \`up\`.
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $PROMETHEUS_RULES
scrape_configs:
  # Each target file sets its own \`job\` label (a test's is unique to it), which replaces this name, and a
  # \`service\` label, which the samples carry too: honoured, they keep theirs rather than gaining exported_service.
  - job_name: flash-sale
    honor_labels: true
    file_sd_configs:
      - files: ['$dir/targets/*.json']
        refresh_interval: 1s
YAML
  promtool check config "$dir/prometheus.yml" >"$dir/check.log" 2>&1 ||
    { tail_log "$dir/check.log"; die "promtool refuses the configuration or ${PROMETHEUS_RULES#"$ROOT"/}"; }
}

prom_start() {
  local t0 dir="$STATE/prometheus" pid
  prom_enabled || return 0
  t0=$(now_ms)
  if prom_up; then
    if prom_ours; then
      # SIGHUP reloads the configuration and the rules file: `up` after editing the rules applies them.
      prom_config
      kill -HUP "$(prom_pid)"
      log "prometheus already up on $HOST:$PROMETHEUS_PORT; configuration and rules reloaded"
    else
      log "prometheus $HOST:$PROMETHEUS_PORT already answers, started elsewhere; using it"
    fi
    return 0
  fi
  port_open "$PROMETHEUS_PORT" && die "port $PROMETHEUS_PORT is taken by something that is not Prometheus: set PROMETHEUS_PORT"
  prom_config
  if [ -f "$dir/prometheus.log" ]; then mv -f "$dir/prometheus.log" "$dir/prometheus.log.prev"; fi
  # Started as one simple command, so that $! is Prometheus itself; two days of samples are plenty locally.
  setsid prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --storage.tsdb.retention.time=2d --web.listen-address="$HOST:$PROMETHEUS_PORT" --web.enable-lifecycle \
    </dev/null >"$dir/prometheus.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$dir/prometheus.pid"
  wait_until "prometheus" prom_up "$dir/prometheus.log" 30
  log "prometheus started on http://$HOST:$PROMETHEUS_PORT (pid $pid) in $(since "$t0")"
}

prom_stop() {
  local pid t0
  prom_enabled || return 0
  pid=$(prom_pid)
  if prom_ours; then
    t0=$(now_ms)
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do pid_alive "$pid" || break; sleep 0.2; done
    if pid_alive "$pid"; then
      warn "prometheus (pid $pid) still running after 30 s: killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$STATE/prometheus/prometheus.pid"
    log "prometheus stopped in $(since "$t0")"
  elif prom_up; then
    log "prometheus $HOST:$PROMETHEUS_PORT was not started by infra.sh: left running"
  else
    rm -f "$STATE/prometheus/prometheus.pid"
    log "prometheus not running"
  fi
}

# --- the mesh's certificates -------------------------------------------------------------------------------------
# Every process started locally (npm start, the tests, the bench, the fault harness) talks mutual TLS with the
# certificates in .infra/pki: a CA and one per workload, kept while valid for more than a day (packages/pki).
pki_init() {
  local t0 out="$STATE/pki.log"
  t0=$(now_ms)
  node "$ROOT/packages/pki/bin/flash-pki.js" init --dir "$ROOT/.infra/pki" >"$out" 2>&1 ||
    { tail_log "$out"; die "could not create the local certificates in .infra/pki"; }
  log "pki       certificates in .infra/pki checked in $(since "$t0") ($(grep -c ' issued' "$out" || true) issued)"
}

# --- helpers for all three ---------------------------------------------------------------------------------------
wait_until() { # name, check, log file, seconds
  local name=$1 check=$2 logfile=$3 deadline=$((SECONDS + ${4:-60}))
  until "$check"; do
    if [ $SECONDS -ge $deadline ]; then
      tail_log "$logfile"
      die "$name did not answer within ${4:-60} s (log: $logfile)"
    fi
    sleep 0.1
  done
}

endpoints() {
  local role
  echo "REDIS_URL=redis://$HOST:$REDIS_PORT"
  echo "KAFKA_BROKERS=$HOST:$KAFKA_PORT"
  echo "PG_ADMIN_URL=postgresql://postgres@$HOST:$PG_PORT/$DATABASE"
  for role in "${SERVICE_ROLES[@]}"; do
    echo "DATABASE_URL ($role)=postgresql://$role:$role@$HOST:$PG_PORT/$DATABASE?schema=$role"
  done
  if prom_enabled; then echo "PROMETHEUS_URL=http://$HOST:$PROMETHEUS_PORT"; fi
}

# --- commands ----------------------------------------------------------------------------------------------------------
cmd_up() {
  local t0 kafka_t0 launcher
  t0=$(now_ms)
  install
  need_node
  # Kafka is the slowest: format and launch it in the background while Redis and PostgreSQL start.
  if port_open "$KAFKA_PORT"; then
    if kafka_ours; then log "kafka     already up on $HOST:$KAFKA_PORT"; else
      log "kafka     $HOST:$KAFKA_PORT already answers, started elsewhere; using it"
    fi
  else
    port_open "$KAFKA_CONTROLLER_PORT" && die "controller port $KAFKA_CONTROLLER_PORT is taken: set KAFKA_CONTROLLER_PORT"
    log "kafka     starting $KAFKA_VERSION (KRaft, one node)"
    kafka_t0=$(now_ms)
    kafka_launch &
    KAFKA_LAUNCHER=$!
  fi
  redis_start
  pg_start
  if [ -n "$KAFKA_LAUNCHER" ]; then
    launcher=$KAFKA_LAUNCHER
    KAFKA_LAUNCHER=""
    wait "$launcher" || die "could not launch Kafka"
    kafka_wait
    log "kafka     started on $HOST:$KAFKA_PORT (pid $(kafka_pid)) in $(since "$kafka_t0")"
  else
    local deadline=$((SECONDS + 60))
    until kafka_probe >/dev/null; do
      [ $SECONDS -lt $deadline ] || die "$HOST:$KAFKA_PORT is open but does not answer Kafka metadata requests"
      sleep 0.5
    done
  fi
  kafka_topics
  prom_start
  pki_init
  log "up in $(since "$t0")"
  endpoints
}

cmd_down() {
  prom_stop
  kafka_stop
  pg_stop
  redis_stop
}

cmd_status() {
  local ok=0 who cluster
  PG_BIN=$(pg_bin_dir 2>/dev/null) || PG_BIN=""
  if redis_up; then
    if redis_ours; then who="pid $(cat "$STATE/redis/redis.pid" 2>/dev/null || echo '?')"; else who="not started by infra.sh"; fi
    log "redis     up    redis://$HOST:$REDIS_PORT ($who)"
  else
    log "redis     down  (port $REDIS_PORT)"
    ok=1
  fi
  if [ -n "$PG_BIN" ] && pg_up; then
    if pg_ours; then who="pid $(pg_pid)"; else who="not started by infra.sh"; fi
    log "postgres  up    postgresql://$HOST:$PG_PORT/$DATABASE ($who)"
  else
    log "postgres  down  (port $PG_PORT)"
    ok=1
  fi
  if command -v node >/dev/null && cluster=$(kafka_probe); then
    if kafka_ours; then who="pid $(kafka_pid)"; else who="not started by infra.sh"; fi
    log "kafka     up    $HOST:$KAFKA_PORT (cluster $cluster, $who)"
  else
    log "kafka     down  (port $KAFKA_PORT)"
    ok=1
  fi
  if ! prom_enabled; then
    log "prometheus off  (PROMETHEUS_PORT=off)"
  elif prom_up; then
    if prom_ours; then who="pid $(prom_pid)"; else who="not started by infra.sh"; fi
    log "prometheus up   http://$HOST:$PROMETHEUS_PORT ($who)"
  else
    log "prometheus down (port $PROMETHEUS_PORT)"
    ok=1
  fi
  return $ok
}

case "${1:-up}" in
  install)
    take_lock "$STATE/.infra.lock" 600
    install shellcheck
    if [ ! -x /usr/lib/chromium/chromium ] || [ ! -d /usr/share/fonts/truetype/liberation ]; then install_packages chromium fonts-liberation; fi # the console's browser test
    # The reflection and front-door tests drive the real grpcurl (built once into the per-user cache).
    grpcurl=$(bash "$ROOT/scripts/ensure-grpcurl.sh") || die "could not build grpcurl (scripts/ensure-grpcurl.sh)"
    log "grpcurl   $grpcurl"
    ;;
  up)
    take_lock "$STATE/.infra.lock" 600
    cmd_up
    ;;
  down)
    take_lock "$STATE/.infra.lock" 600
    case "${2:-all}" in
      all) cmd_down ;;
      kafka) kafka_stop ;;
      redis) redis_stop ;;
      postgres) pg_stop ;;
      prometheus) prom_stop ;;
      *) die "usage: bash scripts/infra.sh down [kafka|redis|postgres|prometheus]" ;;
    esac
    ;;
  status) cmd_status ;;
  reset)
    take_lock "$STATE/.infra.lock" 600
    cmd_down
    rm -rf "$STATE/redis" "$STATE/postgres" "$STATE/kafka" "$STATE/prometheus"
    log "data wiped: ${STATE#"$ROOT"/}/{redis,postgres,kafka,prometheus}"
    ;;
  verify)
    need_node
    KAFKA_BROKERS="$HOST:$KAFKA_PORT" node "$ROOT/scripts/verify-kafka.js"
    ;;
  -h | --help | help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "usage: bash scripts/infra.sh up|down|status|reset|install|verify" ;;
esac
