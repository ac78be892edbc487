#!/usr/bin/env bash
# Installs schemathesis (PyPI, the version pinned in tools/schemathesis/requirements.txt) into a virtualenv under
# .cache/ once, and prints the path of its `st` command.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/schemathesis
requirements=tools/schemathesis/requirements.txt
stamp="$venv/.installed-$(sha256sum "$requirements" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >&2; then
    # Debian's own python3 keeps venv in a package of its own.
    rm -rf "$venv"
    sudo_if_needed=$([ "$(id -u)" -eq 0 ] || echo sudo)
    $sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >&2
    python3 -m venv "$venv" >&2
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  touch "$stamp"
fi
echo "$PWD/$venv/bin/st"
