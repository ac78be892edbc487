#!/bin/sh
# Entrypoint of the flash-sale redis image (deploy/docker/infra.Dockerfile, target redis): redis-server with the given
# arguments. With REDIS_PASSWORD set, every client must give that password (the default user's `requirepass`); it
# reaches the server as configuration on standard input, so it never shows in the process list.
set -eu

if [ -z "${REDIS_PASSWORD:-}" ]; then
  exec redis-server "$@"
fi
# Inside double quotes, Redis's configuration reads \" and \\ as the characters themselves.
quoted=$(printf '%s' "$REDIS_PASSWORD" | sed 's/[\\"]/\\&/g')
exec redis-server "$@" - <<EOF_CONFIG
requirepass "$quoted"
EOF_CONFIG
