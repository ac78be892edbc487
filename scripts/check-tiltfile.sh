#!/usr/bin/env bash
# Proves the Tiltfile would load and fit together, without Tilt or a cluster (tools/tiltfile-check): renders the
# charts the Tiltfile deploys into one file (each helm() call of the Tiltfile gets its own chart's documents), then
# runs the checker's own tests (fixtures in tools/tiltfile-check/testdata) and the check of the real Tiltfile against
# the real Dockerfiles and that rendering.
#   bash scripts/check-tiltfile.sh
# helm: $HELM if set, else `helm` on PATH, else the one scripts/k8s/tools.sh builds into ~/.cache/flash-sale/k8s (run
# `bash scripts/k8s/tools.sh` once). Go comes from scripts/ensure-go.sh. Outputs go to .cache/tiltfile-check.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(bash scripts/ensure-go.sh):$PATH"
CHART=deploy/helm/flash-sale
VALUES=$CHART/values-dev.yaml
INFRA_CHART=deploy/helm/flash-sale-infra
OUT=.cache/tiltfile-check
fail() { echo "check-tiltfile: $*" >&2; exit 1; }

[ -f "$CHART/Chart.yaml" ] || fail "$CHART/Chart.yaml is missing: the Tiltfile deploys that chart"
[ -f "$VALUES" ] || fail "$VALUES is missing: the Tiltfile renders the chart with it"
[ -f "$INFRA_CHART/Chart.yaml" ] || fail "$INFRA_CHART/Chart.yaml is missing: the Tiltfile deploys that chart"
helm=${HELM:-}
if [ -z "$helm" ]; then
  if command -v helm >/dev/null; then
    helm=helm
  elif [ -f scripts/k8s/tools.sh ] && [ -x "$(bash scripts/k8s/tools.sh path)/helm" ]; then
    helm="$(bash scripts/k8s/tools.sh path)/helm"
  else
    fail "no helm: set HELM, put helm on PATH, or build it with 'bash scripts/k8s/tools.sh'"
  fi
fi

mkdir -p "$OUT"
# What the Tiltfile's helm() calls run (Tilt uses `helm template` too): the mesh and its in-cluster infrastructure.
{
  "$helm" template flash-sale "$CHART" --namespace flash-sale --values "$VALUES" || fail "helm template $CHART failed"
  echo "---"
  "$helm" template flash-sale-infra "$INFRA_CHART" --namespace flash-sale || fail "helm template $INFRA_CHART failed"
} >"$OUT/rendered.yaml"

cd tools/tiltfile-check
test -z "$(gofmt -l .)" || fail "gofmt: $(gofmt -l .)"
go vet ./...
go test ./...
go build -o "../../$OUT/tiltfile-check" .
"../../$OUT/tiltfile-check" -rendered "../../$OUT/rendered.yaml" ../../Tiltfile
