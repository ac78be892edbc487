#!/usr/bin/env bash
# Proves the Tiltfile would work, without Tilt or a cluster (tools/tiltfile-check): runs the checker's own tests,
# then executes the real Tiltfile with Tilt's builtins stubbed, its helm() calls rendered by helm, and checks every
# path, Dockerfile target, image, resource and port forward it names against the repository and the rendered charts.
#   bash scripts/check-tiltfile.sh
# helm: $HELM if set, else `helm` on PATH, else the one scripts/k8s/tools.sh builds into ~/.cache/flash-sale/k8s (run
# `bash scripts/k8s/tools.sh` once). Go comes from scripts/ensure-go.sh. The binary goes to .cache/tiltfile-check.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(bash scripts/ensure-go.sh):$PATH"
OUT=.cache/tiltfile-check
fail() { echo "check-tiltfile: $*" >&2; exit 1; }

helm=${HELM:-}
if [ -z "$helm" ]; then
  if command -v helm >/dev/null; then
    helm=$(command -v helm)
  elif [ -f scripts/k8s/tools.sh ] && [ -x "$(bash scripts/k8s/tools.sh path)/helm" ]; then
    helm="$(bash scripts/k8s/tools.sh path)/helm"
  else
    fail "no helm: set HELM, put helm on PATH, or build it with 'bash scripts/k8s/tools.sh'"
  fi
fi

mkdir -p "$OUT"
(
  cd tools/tiltfile-check
  test -z "$(gofmt -l .)" || fail "gofmt: $(gofmt -l .)"
  go vet ./...
  go test ./...
  go build -o "../../$OUT/tiltfile-check" .
)
"$OUT/tiltfile-check" -helm "$helm" Tiltfile || fail "the Tiltfile would not work (above)"
