#!/usr/bin/env bash
# Installs schemathesis (PyPI, the version pinned in tools/schemathesis/requirements.txt) into a virtualenv under
# .cache/ once, and prints the path of its `st` command.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.cache/schemathesis
requirements=tools/schemathesis/requirements.txt
# Python 3.12 or newer when the machine has it: on 3.11, Hypothesis (inside schemathesis) now and then trips a
# CPython bug ("AST constructor recursion depth mismatch") and the run ends with a runtime error.
python=python3
pyenv_pythons=() # newest first (the glob expands in ascending order)
for candidate in "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/3.1[2-9]*/bin/python3; do
  if [ -e "$candidate" ]; then pyenv_pythons=("$candidate" "${pyenv_pythons[@]}"); fi
done
for candidate in python3.13 python3.12 "${pyenv_pythons[@]}"; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import venv' 2>/dev/null; then python=$candidate; break; fi
done
stamp="$venv/.installed-$(echo "$python" | tr / _)-$(sha256sum "$requirements" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  rm -rf "$venv"
  if ! "$python" -m venv "$venv" >&2; then
    # Debian's own python3 keeps venv in a package of its own.
    rm -rf "$venv"
    LOG_TAG=schemathesis LOG_FD=2 APT_LOG=$PWD/.cache/apt-schemathesis.log
    # shellcheck source=scripts/lib/common.sh
    . scripts/lib/common.sh
    trap release_policy_guard EXIT
    apt_install python3-venv
    "$python" -m venv "$venv" >&2
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  touch "$stamp"
fi
echo "$PWD/$venv/bin/st"
