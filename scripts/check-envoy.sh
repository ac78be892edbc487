#!/usr/bin/env bash
# Generates the Envoy front's configuration from proto/ and proves Envoy would accept it, with Envoy's own API
# types (tools/envoy-check, go-control-plane): `npm run envoy:check`, also a step of `npm test`.
# Needs `npm run generate` first; Go comes from scripts/ensure-go.sh (the machine's, or one from the module proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(bash scripts/ensure-go.sh):$PATH"
mkdir -p .cache/envoy
npx tsx --tsconfig tsconfig.source.json scripts/envoy-config.ts .cache/envoy/envoy.yaml
cd tools/envoy-check
test -z "$(gofmt -l .)" || { echo "gofmt: $(gofmt -l .)" >&2; exit 1; }
go vet ./...
go test ./...
go run . -descriptor ../../packages/contracts/descriptor/flashsale.binpb ../../.cache/envoy/envoy.yaml
