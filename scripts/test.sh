#!/usr/bin/env bash
# `npm test`: lint, type check, unit, integration (real Redis, Kafka, PostgreSQL) and end-to-end tests.
# Starts the local infrastructure when it is not running; leaves it running for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned Node.js (.node-version) first on PATH, fetched once when the machine has another major version.
PATH="$(bash scripts/pinned-node.sh):$PATH"
export PATH

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$PWD/packages/db/bin/schema-engine-unavailable}"

step "generate (protobuf contracts, Prisma clients)"
npm run --silent generate

step "lint (eslint with types, prettier, buf lint and breaking, shellcheck, workspace lists, the chart values table)"
npm run --silent lint

step "type check"
npx tsc -p tsconfig.check.json

step "Envoy front config (generated from proto/, checked with Envoy's API types)"
bash scripts/check-envoy.sh

step "infrastructure"
bash scripts/infra.sh up

step "unit, integration and end-to-end tests"
mkdir -p .cache
status=0
# --forceExit: a handle a test left open must fail loudly in its own file, never hang the whole run.
npx jest "$@" --runInBand --forceExit --json --outputFile=.cache/jest-results.json --selectProjects unit integration e2e ||
  status=$?
# One closing line in the plain form CI reads, whatever the runner printed above it.
# shellcheck disable=SC2016 # ${...} is a JavaScript template literal
node -e '
  const r = require("./.cache/jest-results.json");
  const skipped = r.numPendingTests + r.numTodoTests;
  const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
  console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || true
exit "$status"
