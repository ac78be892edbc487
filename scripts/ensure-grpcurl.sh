#!/usr/bin/env bash
# Builds grpcurl (the standard gRPC command-line client, which the reflection and front-door tests drive) from the
# Go module proxy once, into the per-user cache ($FLASH_SALE_CACHE, default ~/.cache/flash-sale/bin, shared by
# every clone), and prints its path.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=v1.9.4
cache=${FLASH_SALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flash-sale}
bin=$cache/bin/grpcurl-$VERSION
if [ ! -x "$bin" ]; then
  PATH="$(bash scripts/ensure-go.sh):$PATH"
  mkdir -p "$cache/bin" "$cache/grpcurl-build"
  # Built aside and renamed, so two runs at once never leave a half-written binary under the final name.
  tmp=$(mktemp -d "$cache/grpcurl-build/gobin.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # A module of its own, so that the project's Go modules are not touched.
  (cd "$cache/grpcurl-build" && GOBIN="$tmp" GOFLAGS=-mod=mod go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$VERSION" >&2)
  mv "$tmp/grpcurl" "$bin"
fi
echo "$bin"
