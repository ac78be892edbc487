#!/usr/bin/env bash
# Installs and builds everything the local Kubernetes cluster (scripts/k8s/cluster.sh) runs.
#
#   bash scripts/k8s/tools.sh        install missing Debian packages, build missing binaries,
#                                    print the bin folder
#   bash scripts/k8s/tools.sh path   print only the bin folder (builds nothing)
#
# Debian packages (only when something is missing; no daemon is started): docker.io (brings
# containerd 1.6, ctr and runc; its dockerd is never started), containernetworking-plugins
# (/usr/lib/cni), iptables, conntrack, openssl, socat, iproute2, python3.
# Built with Go from the Go module proxy, no other downloads (the local modules are in tools/k8s/):
#   kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy  (k8s $K8S)
#   etcd $ETCD, helm $HELM, kwok $KWOK (+ kwok-stages.yaml), coredns $COREDNS,
#   pause + pause-image.tar (sandbox image), webcheck + webcheck-image.tar (self-test image)
# Outputs go to the per-user cache, shared by every clone of the project ($FLASH_SALE_CACHE, default
# ~/.cache/flash-sale): k8s/bin-<versions>/ and Go's caches in k8s/go. Build logs stay in .cache/k8s.
# A cold build takes ~10 min on 2 cores and ~4.5 GB of disk; a warm run takes seconds.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
K8S=v1.34.12 ETCD=v3.6.16 HELM=v3.22.0 KWOK=v0.8.0 COREDNS=v1.12.4
CACHE=${FLASH_SALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flash-sale}/k8s
BIN=$CACHE/bin-$K8S-etcd${ETCD#v}-helm${HELM#v}-kwok${KWOK#v}-coredns${COREDNS#v}
PAUSE_IMAGE=localhost/flashsale/pause:1
WEBCHECK_IMAGE=localhost/flashsale/webcheck:1

if [ "${1:-}" = path ]; then echo "$BIN"; exit 0; fi
[ $# -eq 0 ] || { echo "usage: $0 [path]" >&2; exit 2; }

LOG_TAG=k8s-tools LOG_FD=2
APT_LOG=$ROOT/.cache/k8s/apt.log
mkdir -p "$ROOT/.cache/k8s"
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"
trap release_policy_guard EXIT
t0=$(now_ms)

# --- Debian packages --------------------------------------------------------------------------
missing=()
need() { command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] || missing+=("$2"); }
need containerd docker.io; need ctr docker.io; need runc docker.io
need /usr/lib/cni/bridge containernetworking-plugins
need iptables iptables; need conntrack conntrack; need openssl openssl; need socat socat
need ip iproute2; need python3 python3
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  apt_install "${missing[@]}"
fi

# --- Go -----------------------------------------------------------------------------------------
PATH="$(bash "$ROOT/scripts/ensure-go.sh"):$PATH"
export GOPATH=$CACHE/go GOCACHE=$CACHE/go/build GOMODCACHE=$CACHE/go/mod
export GOFLAGS=-modcacherw CGO_ENABLED=0
mkdir -p "$BIN"

# stale OUT SRC...: true when OUT is missing or older than any SRC (a file or a directory tree).
stale() {
  local out=$1; shift
  [ -e "$out" ] || return 0
  [ -n "$(find "$@" -newer "$out" -print -quit)" ]
}
build() { # build NAME CMD...: runs the build, reports its time, shows the log's tail on failure
  local name=$1 t log="$ROOT/.cache/k8s/build-$1.log"; shift
  log "building $name (log: $log)"
  t=$(now_ms)
  if ! "$@" > "$log" 2>&1; then
    echo "tools.sh: building $name failed; last lines of $log:" >&2; tail -n 30 "$log" >&2; exit 1
  fi
  log "built $name in $(since "$t")"
}

KMOD=$ROOT/tools/k8s/kubernetes
kube_bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy)
kube_todo=()
for b in "${kube_bins[@]}"; do stale "$BIN/$b" "$KMOD/go.mod" "$KMOD/go.sum" && kube_todo+=("k8s.io/kubernetes/cmd/$b"); done
if [ ${#kube_todo[@]} -gt 0 ]; then
  minor=${K8S#v1.}; minor=${minor%%.*}
  vpkg=k8s.io/component-base/version
  ldflags="-s -w -X $vpkg.gitVersion=$K8S -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor -X $vpkg.gitTreeState=clean"
  ldflags+=" -X $vpkg.buildDate=1970-01-01T00:00:00Z"
  # shellcheck disable=SC2016 # the inner bash expands its own arguments
  build kubernetes bash -c 'cd "$1" && shift && go build -trimpath -ldflags "$1" -o "$2/" "${@:3}"' _ \
    "$KMOD" "$ldflags" "$BIN" "${kube_todo[@]}"
fi
if stale "$BIN/etcd" "$ROOT/tools/k8s/etcd"; then
  # shellcheck disable=SC2016 # the inner bash expands its own arguments
  build etcd bash -c 'cd "$1/tools/k8s/etcd" && go build -trimpath -ldflags "-s -w" -o "$2/etcd" .' _ "$ROOT" "$BIN"
fi
# go install PKG@VERSION into the bin folder (checksums verified against sum.golang.org).
install_mod() {
  local name=$1 pkg=$2 ldflags=${3:-}
  [ -x "$BIN/$name" ] || build "$name" env GOBIN="$BIN" go install -trimpath -ldflags "-s -w $ldflags" "$pkg"
}
install_mod helm "helm.sh/helm/v3/cmd/helm@$HELM" "-X helm.sh/helm/v3/internal/version.version=$HELM"
install_mod kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK"
install_mod coredns "github.com/coredns/coredns@$COREDNS"

# kwok's stage policies (fast node readiness, lease heartbeats, pods ready/complete/delete).
if [ ! -s "$BIN/kwok-stages.yaml" ]; then
  kdir=$(go mod download -json "sigs.k8s.io/kwok@$KWOK" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  st=$kdir/kustomize/stage
  { for f in "$st/node/fast/node-initialize.yaml" "$st"/node/heartbeat-with-lease/*.yaml \
      "$st/pod/fast/pod-ready.yaml" "$st/pod/fast/pod-complete.yaml" "$st/pod/fast/pod-delete.yaml"; do
      [ -f "$f" ] || { echo "tools.sh: kwok stage file $f is missing" >&2; exit 1; }
      echo "---"; grep -v '^---$' "$f"
    done; } > "$BIN/kwok-stages.yaml.tmp"
  mv "$BIN/kwok-stages.yaml.tmp" "$BIN/kwok-stages.yaml"
fi

# Static pause (the pod sandbox) and webcheck (the self-test's image), each also as an image tarball.
SMALL=$ROOT/tools/k8s/small
MKIMAGE=$ROOT/scripts/k8s/cluster/mkimage.sh
for b in pause webcheck; do
  if stale "$BIN/$b" "$SMALL"; then
    # shellcheck disable=SC2016 # the inner bash expands its own arguments
    build "$b" bash -c 'cd "$1" && go build -trimpath -ldflags "-s -w" -o "$2" "./$3"' _ "$SMALL" "$BIN/$b" "$b"
  fi
done
stale "$BIN/pause-image.tar" "$BIN/pause" "$MKIMAGE" && bash "$MKIMAGE" "$PAUSE_IMAGE" "$BIN/pause-image.tar" "$BIN/pause"
stale "$BIN/webcheck-image.tar" "$BIN/webcheck" "$MKIMAGE" && bash "$MKIMAGE" "$WEBCHECK_IMAGE" "$BIN/webcheck-image.tar" "$BIN/webcheck"

log "all tools ready in $(since "$t0")"
echo "$BIN"
