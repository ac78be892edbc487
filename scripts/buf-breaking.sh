#!/usr/bin/env bash
# `npm run lint:breaking`: proto/ must not break its clients compared with the previous commit (buf breaking, with
# the rules in proto/buf.yaml). An intended break is listed under `breaking.ignore_only` there for that one commit.
# A clone without a previous commit (a single commit, or a shallow clone) has nothing to compare with: skipped.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "buf breaking: skipped, $PWD is not a git checkout"
  exit 0
fi
if ! git rev-parse --verify --quiet 'HEAD~1^{commit}' >/dev/null; then
  echo "buf breaking: skipped, this clone has no commit before HEAD to compare proto/ with"
  exit 0
fi
# buf is node_modules/.bin/buf, on PATH under `npm run`.
buf breaking proto --against '.git#ref=HEAD~1,subdir=proto'
