#!/usr/bin/env bash
# Writes the Helm chart's Envoy front files from proto/ into deploy/helm/flash-sale/files/envoy/: envoy.yaml and the
# SDS files it reads (upstream mTLS on), envoy-mtls-off.yaml (mtls.mode off), flashsale.binpb. The chart fills in
# its names: `__RELEASE__` becomes the release's full name, `__NAMESPACE__` its namespace and `__TRUST_DOMAIN__`
# mtls.trustDomain, so each service's SPIFFE ID names its ServiceAccount.
#   bash scripts/envoy-chart.sh [out-dir]     (`npm run envoy:chart`; needs `npm run generate` first)
# scripts/check-envoy.sh fails when the committed files differ from what this writes.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-deploy/helm/flash-sale/files/envoy}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
generate() {
  MTLS_MODE=$1 \
    ENVOY_PORT=8080 \
    ENVOY_CONFIG_DIR=/etc/envoy \
    ENVOY_DESCRIPTOR=/etc/envoy/flashsale.binpb \
    ENVOY_JWKS=/etc/envoy/jwks/jwks.json \
    PROMOTION_ADDR=__RELEASE__-promotion-headless:50051 \
    INVENTORY_ADDR=__RELEASE__-inventory-headless:50052 \
    ORDER_ADDR=__RELEASE__-order-headless:50053 \
    PAYMENT_ADDR=__RELEASE__-payment-headless:50054 \
    TLS_DIR=/etc/flash-sale/tls \
    SPIFFE_TRUST_DOMAIN=__TRUST_DOMAIN__ \
    SPIFFE_NAMESPACE=__NAMESPACE__ \
    SPIFFE_SA_PREFIX=__RELEASE__- \
    npx tsx --tsconfig tsconfig.source.json scripts/envoy-config.ts "$work/$1"
}
generate on
generate off
mkdir -p "$out"
rm -f "$out"/*.yaml "$out"/*.binpb
cp "$work"/on/* "$out/"
cp "$work/off/envoy.yaml" "$out/envoy-mtls-off.yaml"
cp packages/contracts/descriptor/flashsale.binpb "$out/flashsale.binpb"
