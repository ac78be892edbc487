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
cd ../..

# The Helm chart ships its own copy (deploy/helm/flash-sale/files/envoy/, written by `npm run envoy:chart`): it must
# be what the generator writes today. scripts/k8s/test-k8s.sh also checks the copy as the chart renders it.
bash scripts/envoy-chart.sh .cache/envoy/chart
for file in envoy.yaml flashsale.binpb; do
  cmp -s ".cache/envoy/chart/$file" "deploy/helm/flash-sale/files/envoy/$file" || {
    echo "deploy/helm/flash-sale/files/envoy/$file is out of date with proto/: run npm run envoy:chart" >&2
    exit 1
  }
done
echo "envoy-check: the chart's Envoy files match proto/"
