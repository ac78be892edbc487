#!/usr/bin/env bash
# Builds Toxiproxy (the TCP fault proxy of `npm run chaos`) from the Go module proxy once, into the per-user cache
# ($FLASH_SALE_CACHE, default ~/.cache/flash-sale/bin, shared by every clone), and prints the path of its server.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=v2.12.0
cache=${FLASH_SALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flash-sale}
bin=$cache/bin/toxiproxy-server-$VERSION
if [ ! -x "$bin" ]; then
  PATH="$(bash scripts/ensure-go.sh):$PATH"
  mkdir -p "$cache/bin" "$cache/toxiproxy-build"
  # A module of its own, so that the project's Go modules are not touched.
  (cd "$cache/toxiproxy-build" && GOBIN="$cache/bin" GOFLAGS=-mod=mod go install "github.com/Shopify/toxiproxy/v2/cmd/server@$VERSION" >&2)
  mv "$cache/bin/server" "$bin"
fi
echo "$bin"
