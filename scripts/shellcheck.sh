#!/usr/bin/env bash
# `npm run lint:shell`: shellcheck over every shell script under scripts/ and over .ci/run. `bash scripts/infra.sh
# install` installs it (Debian package shellcheck). A line that is right as written carries a
# `# shellcheck disable=SCxxxx # reason` directive.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v shellcheck >/dev/null ||
  { echo "shellcheck is not installed: run bash scripts/infra.sh install (or apt-get install shellcheck)" >&2; exit 1; }
mapfile -t scripts < <(find scripts -name '*.sh' | sort)
# -x follows `. scripts/lib/common.sh` (paths relative to the repository root), so its helpers count as defined.
shellcheck -x .ci/run "${scripts[@]}"
