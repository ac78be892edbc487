#!/usr/bin/env bash
# Packs static binaries into a single-layer image tarball in `docker save` format, which
# `ctr images import` understands; no registry and no Docker engine are needed.
#   bash scripts/k8s/cluster/mkimage.sh REF OUT.tar ENTRYPOINT_BINARY [MORE_FILES...]
# Each file lands in the image's / (the first one is the entrypoint). The tarball is reproducible:
# the same binaries give the same image digest.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 REF OUT.tar ENTRYPOINT_BINARY [MORE_FILES...]" >&2; exit 2; }
ref=$1 out=$2
shift 2
entry=$(basename "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/tmp" "$work/rootfs/etc" "$work/image"
chmod 1777 "$work/rootfs/tmp"
for f in "$@"; do install -m 0755 "$f" "$work/rootfs/$(basename "$f")"; done
# shellcheck disable=SC2054  # the commas belong to --pax-option
tar_opts=(--sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
tar "${tar_opts[@]}" -C "$work/rootfs" -cf "$work/layer.tar" .
layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir -p "$work/image/$layer"
mv "$work/layer.tar" "$work/image/$layer/layer.tar"
printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Entrypoint":["/%s"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$entry" "$layer" > "$work/config.json"
config=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/image/$config.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$config" "$ref" "$layer" \
  > "$work/image/manifest.json"
mkdir -p "$(dirname "$out")"
tar "${tar_opts[@]}" -C "$work/image" -cf "$out.tmp" . && mv "$out.tmp" "$out"
