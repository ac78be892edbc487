#!/usr/bin/env bash
# `npm test`: lint, type check, then the tests in tiers: unit (in parallel, no I/O), integration (real Redis, Kafka,
# PostgreSQL; one file at a time) and end-to-end (over HTTP and gRPC; one file at a time). Prints each step's time.
# Starts the local infrastructure when it is not running; leaves it running for the next run.
#   npm test                    everything
#   npm test -- <path pattern>  only the test files matching it, in whichever tiers they are
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned Node.js (.node-version) first on PATH, fetched once when the machine has another major version.
PATH="$(bash scripts/pinned-node.sh):$PATH"
export PATH
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$PWD/packages/db/bin/schema-engine-unavailable}"

now_ms() { date +%s%3N; }
timings=()
current=""
started=0
step() { # name: ends the previous step (recording its time), starts this one
  finish
  current=$1
  started=$(now_ms)
  printf '\n\033[1m== %s\033[0m\n' "$current"
}
finish() {
  [ -n "$current" ] || return 0
  local ms=$(($(now_ms) - started))
  timings+=("$(printf '%6d.%01d s  %s' $((ms / 1000)) $((ms % 1000 / 100)) "$current")")
  current=""
}

step "install what is missing (system packages, Kafka's jars, shellcheck, grpcurl)"
bash scripts/infra.sh install

step "generate (protobuf contracts, Prisma clients)"
npm run --silent generate

step "lint (eslint with types, prettier, buf lint and breaking, shellcheck, Prometheus rules, workspace lists, the chart values table)"
npm run --silent lint

step "type check"
npx tsc -p tsconfig.check.json

step "Envoy front config (generated from proto/, checked with Envoy's API types)"
bash scripts/check-envoy.sh

step "infrastructure"
bash scripts/infra.sh up

mkdir -p .cache
rm -f .cache/jest-unit.json .cache/jest-integration.json .cache/jest-e2e.json
status=0
# --forceExit: a handle a test left open must fail loudly in its own file, never hang the whole run.
tier() { # project, jest options...: one tier, its results in .cache/jest-<project>.json
  local project=$1
  shift
  npx jest --selectProjects "$project" --forceExit --passWithNoTests --json \
    --outputFile=".cache/jest-$project.json" "$@" || status=$?
}
step "unit tests (in parallel)"
tier unit "$@"
step "integration tests (real Redis, Kafka, PostgreSQL; one file at a time)"
tier integration --runInBand "$@"
step "end-to-end tests (over HTTP and gRPC; one file at a time)"
tier e2e --runInBand "$@"
finish

printf '\n\033[1m== times\033[0m\n'
printf '  %s\n' "${timings[@]}"
# One closing line in the plain form CI reads, over all three tiers, whatever the runner printed above it.
# shellcheck disable=SC2016 # the single-quoted text is JavaScript, with JavaScript's own ${...}
node -e '
  let passed = 0, failed = 0, skipped = 0;
  for (const tier of ["unit", "integration", "e2e"]) {
    let r;
    try { r = require(`./.cache/jest-${tier}.json`); } catch { failed += 1; console.log(`${tier}: no results`); continue; }
    passed += r.numPassedTests;
    failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || true
exit "$status"
