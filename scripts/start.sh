#!/usr/bin/env bash
# `npm start`: everything from a fresh clone to a running mesh. Idempotent; Ctrl-C stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned Node.js (.node-version) first on PATH, fetched once when the machine has another major version.
PATH="$(bash scripts/pinned-node.sh):$PATH"
export PATH
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$PWD/packages/db/bin/schema-engine-unavailable}"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== installing dependencies"
  PRISMA_SKIP_POSTINSTALL_GENERATE=1 npm ci --no-audit --no-fund
fi

infra_was_running=true
bash scripts/infra.sh status >/dev/null 2>&1 || infra_was_running=false
echo "== infrastructure"
bash scripts/infra.sh up

echo "== build"
npm run --silent build

mkdir -p .infra
[ -s .infra/jwt-secret ] || node -e 'console.log(require("node:crypto").randomBytes(32).toString("base64url"))' > .infra/jwt-secret

flags=()
[ "$infra_was_running" = true ] || flags+=(--stop-infra)
exec node scripts/dev.js "${flags[@]}"
