#!/usr/bin/env bash
# Builds Toxiproxy (the TCP fault proxy of `npm run chaos`) from the Go module proxy once, into .cache/bin, and
# prints the path of its server.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=v2.12.0
bin=.cache/bin/toxiproxy-server-$VERSION
if [ ! -x "$bin" ]; then
  PATH="$(bash scripts/ensure-go.sh):$PATH"
  mkdir -p .cache/bin .cache/toxiproxy-build
  # A module of its own, so that the project's Go modules are not touched.
  (cd .cache/toxiproxy-build && GOBIN="$PWD/../bin" GOFLAGS=-mod=mod go install "github.com/Shopify/toxiproxy/v2/cmd/server@$VERSION" >&2)
  mv .cache/bin/server "$bin"
fi
echo "$PWD/$bin"
