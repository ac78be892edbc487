#!/usr/bin/env bash
# Makes sure a Go toolchain that can build tools/ is on PATH: the machine's own `go` when it is 1.21 or newer
# (it fetches the version go.mod asks for by itself), otherwise the toolchain module from the Go module proxy,
# unpacked once into the per-user cache ($FLASH_SALE_CACHE, default ~/.cache/flash-sale/go), shared by every clone.
# Prints the directory to put first on PATH.
#   PATH="$(bash scripts/ensure-go.sh):$PATH"
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.26.8
if command -v go >/dev/null; then
  minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
  if [ "${minor:-0}" -ge 21 ]; then dirname "$(command -v go)"; exit 0; fi
fi
cache=${FLASH_SALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flash-sale}/go
dir=$cache/go$VERSION
if [ ! -x "$dir/bin/go" ]; then
  proxy=${GOPROXY:-https://proxy.golang.org}
  proxy=${proxy%%,*}
  mkdir -p "$cache"
  zip=$cache/toolchain-$VERSION.zip
  echo "[go] fetching go$VERSION from $proxy (golang.org/toolchain)" >&2
  curl -fsSL --retry 3 -o "$zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$VERSION.linux-amd64.zip"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  python3 -m zipfile -e "$zip" "$dir.tmp"
  mv "$dir.tmp/golang.org/toolchain@v0.0.1-go$VERSION.linux-amd64" "$dir"
  rm -rf "$dir.tmp" "$zip"
  chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/* 2>/dev/null || true
fi
echo "$dir/bin"
