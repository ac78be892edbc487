#!/bin/sh
# Entrypoint of the flash-sale postgres image (deploy/docker/infra.Dockerfile, target postgres): PostgreSQL 15 for
# the optional in-cluster profile, run as the postgres user (uid 999) with a read-only root file system. Everything
# it writes lives in the data volume mounted at /var/lib/postgresql/data:
#   pgdata/   the cluster (PGDATA), made by initdb on the first start
#   run/      the Unix socket (no /var/run/postgresql on a read-only root)
# Every start: (re)writes pg_hba.conf from the environment, runs bootstrap.sql (database flashsale, the services'
# roles and schemas; idempotent) and passwords.sql (the roles' passwords) on a socket-only server, then execs the
# real server as PID 1 (SIGTERM = smart shutdown; the image's STOPSIGNAL is SIGINT = fast shutdown). Arguments are
# passed to `postgres`.
# Environment:
#   PGPORT                     port (5432)
#   POSTGRES_LISTEN_ADDRESSES  listen_addresses ('*')
#   POSTGRES_HOST_AUTH         pg_hba method for TCP clients: trust (default; development only) or scram-sha-256
#   POSTGRES_PASSWORD_<ROLE>   the password of each service role (PROMOTION, INVENTORY, ORDERS, PAYMENT), set at
#                              every start; unset: the role keeps its password (at creation, its name)
#   POSTGRES_HOST_CIDRS        client networks allowed over TCP ("0.0.0.0/0 ::/0": the pod network and anything
#                              that reaches the Service)
set -eu

VOLUME_DIR=/var/lib/postgresql/data
PGDATA="${PGDATA:-$VOLUME_DIR/pgdata}"
RUN_DIR="${POSTGRES_SOCKET_DIR:-$VOLUME_DIR/run}"
export PGDATA PGPORT="${PGPORT:-5432}"
AUTH="${POSTGRES_HOST_AUTH:-trust}"
CIDRS="${POSTGRES_HOST_CIDRS:-0.0.0.0/0 ::/0}"

log() { echo "postgres-entrypoint: $*"; }

if ! mkdir -p "$PGDATA" "$RUN_DIR" 2>/dev/null || [ ! -w "$PGDATA" ]; then
  log "cannot write $PGDATA as uid $(id -u): mount a writable volume at $VOLUME_DIR (Kubernetes: fsGroup 999)" >&2
  exit 1
fi
chmod 700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  log "initialising a cluster in $PGDATA"
  initdb -D "$PGDATA" -U postgres --auth-local=trust --auth-host="$AUTH" -E UTF8 --locale=C.UTF-8 >/dev/null
fi

{
  echo "# Written by the image's entrypoint at every start (POSTGRES_HOST_AUTH, POSTGRES_HOST_CIDRS); edits are lost."
  echo "local all all trust"
  echo "host all all 127.0.0.1/32 trust"
  echo "host all all ::1/128 trust"
  for cidr in $CIDRS; do echo "host all all $cidr $AUTH"; done
} >"$PGDATA/pg_hba.conf"

# Provision through the socket only, so no client sees the database before its roles exist.
pg_ctl -D "$PGDATA" -w -t 120 -s -o "-c listen_addresses='' -k $RUN_DIR" start
if ! psql -X -q -v ON_ERROR_STOP=1 -h "$RUN_DIR" -U postgres -d postgres -f /etc/flash-sale/bootstrap.sql; then
  pg_ctl -D "$PGDATA" -m fast -w -s stop
  log "bootstrap.sql failed" >&2
  exit 1
fi
for role in promotion inventory orders payment; do
  variable="POSTGRES_PASSWORD_$(printf %s "$role" | tr '[:lower:]' '[:upper:]')"
  if ! psql -X -q -v ON_ERROR_STOP=1 -h "$RUN_DIR" -U postgres -d postgres -v role="$role" -v variable="$variable" \
    -f /etc/flash-sale/passwords.sql; then
    pg_ctl -D "$PGDATA" -m fast -w -s stop
    log "setting the password of $role failed" >&2
    exit 1
  fi
done
pg_ctl -D "$PGDATA" -m fast -w -t 120 -s stop
log "database flashsale, roles and schemas ready; starting on port $PGPORT"

exec postgres -D "$PGDATA" -k "$RUN_DIR" -c listen_addresses="${POSTGRES_LISTEN_ADDRESSES:-*}" "$@"
