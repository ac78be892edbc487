#!/usr/bin/env bash
# Generates the Envoy front's configuration from proto/, with upstream mTLS on and off, and proves Envoy would
# accept it, with Envoy's own API types, and that it keeps the front's policy: only public methods routable, a valid
# token on every route, mTLS to every upstream when on (tools/envoy-check, go-control-plane; its tests feed it broken
# variants). `npm run envoy:check`, also a step of `npm test`.
# Needs `npm run generate` first; Go comes from scripts/ensure-go.sh (the machine's, or one from the module proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(bash scripts/ensure-go.sh):$PATH"
rm -rf .cache/envoy/mtls-on .cache/envoy/mtls-off
for mode in on off; do
  MTLS_MODE=$mode npx tsx --tsconfig tsconfig.source.json scripts/envoy-config.ts ".cache/envoy/mtls-$mode"
done
cd tools/envoy-check
test -z "$(gofmt -l .)" || { echo "gofmt: $(gofmt -l .)" >&2; exit 1; }
go vet ./...
go test ./...
for mode in on off; do
  go run . -descriptor ../../packages/contracts/descriptor/flashsale.binpb -mtls "$mode" "../../.cache/envoy/mtls-$mode/envoy.yaml"
done
cd ../..

# The Helm chart ships its own copy (deploy/helm/flash-sale/files/envoy/, written by `npm run envoy:chart`): it must
# be what the generator writes today. scripts/k8s/test-k8s.sh also checks the copy as the chart renders it.
rm -rf .cache/envoy/chart
bash scripts/envoy-chart.sh .cache/envoy/chart
diff -r -q .cache/envoy/chart deploy/helm/flash-sale/files/envoy >&2 || {
  echo "deploy/helm/flash-sale/files/envoy/ is out of date with proto/ or scripts/envoy-*: run npm run envoy:chart" >&2
  exit 1
}
echo "envoy-check: the chart's Envoy files match proto/"
