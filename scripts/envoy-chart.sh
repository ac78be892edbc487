#!/usr/bin/env bash
# Writes the Helm chart's Envoy front files from proto/: deploy/helm/flash-sale/files/envoy/{envoy.yaml,
# flashsale.binpb}. The chart fills in its Service names (`__RELEASE__` becomes the release's full name).
#   bash scripts/envoy-chart.sh [out-dir]     (`npm run envoy:chart`; needs `npm run generate` first)
# scripts/check-envoy.sh fails when the committed files differ from what this writes.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-deploy/helm/flash-sale/files/envoy}"
mkdir -p "$out"
ENVOY_PORT=8080 \
  ENVOY_DESCRIPTOR=/etc/envoy/flashsale.binpb \
  ENVOY_JWKS=/etc/envoy/jwks/jwks.json \
  PROMOTION_ADDR=__RELEASE__-promotion-headless:50051 \
  INVENTORY_ADDR=__RELEASE__-inventory-headless:50052 \
  ORDER_ADDR=__RELEASE__-order-headless:50053 \
  PAYMENT_ADDR=__RELEASE__-payment-headless:50054 \
  npx tsx --tsconfig tsconfig.source.json scripts/envoy-config.ts "$out/envoy.yaml"
cp packages/contracts/descriptor/flashsale.binpb "$out/flashsale.binpb"
