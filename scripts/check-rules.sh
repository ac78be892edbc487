#!/usr/bin/env bash
# `npm run lint:rules`: promtool checks the Prometheus rules file the local Prometheus and the chart share
# (deploy/helm/flash-sale/files/prometheus/rules.yaml) and runs its unit tests (rules.test.yaml beside it).
# `bash scripts/infra.sh install` installs promtool (Debian package prometheus).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../deploy/helm/flash-sale/files/prometheus"
command -v promtool >/dev/null ||
  { echo "promtool is not installed: run bash scripts/infra.sh install (or apt-get install prometheus)" >&2; exit 1; }
promtool check rules rules.yaml
promtool test rules rules.test.yaml
