# Helpers shared by the project's shell scripts (sourced, not run): scripts/infra.sh and scripts/k8s/*.
# Set LOG_TAG (the [tag] on each line) before sourcing; LOG_FD=2 sends progress lines to stderr, for scripts whose
# standard output is data. A script that installs packages sets APT_LOG and calls release_policy_guard on exit.
# shellcheck shell=bash

log() { printf '[%s] %s\n' "${LOG_TAG:?}" "$*" >&"${LOG_FD:-1}"; }
warn() { printf '[%s] warning: %s\n' "$LOG_TAG" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "$LOG_TAG" "$*" >&2
  exit 1
}
tail_log() { # file [lines]: the end of a log, for error messages
  if [ -s "$1" ]; then
    printf '[%s] ---- last lines of %s ----\n' "$LOG_TAG" "$1" >&2
    tail -n "${2:-40}" "$1" >&2
    printf '[%s] ----\n' "$LOG_TAG" >&2
  fi
}

now_ms() { date +%s%3N; }
since() { # milliseconds since $1 (a now_ms reading), as seconds
  local ms=$(($(now_ms) - $1))
  printf '%d.%02ds' $((ms / 1000)) $((ms % 1000 / 10))
}

pid_alive() { # a running process (a zombie waiting for its reaper is not)
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
pid_cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi

take_lock() { # lockfile seconds: one run at a time; fd 9 holds the lock until the script exits
  mkdir -p "$(dirname "$1")"
  exec 9>"$1"
  if ! flock -n 9; then
    log "waiting for another run to release $1"
    flock -w "$2" 9 || die "another run has held $1 for $2 s"
  fi
}

# --- Debian packages -------------------------------------------------------------------------------------------
# Debian's maintainer scripts start the servers they install (redis-server, a PostgreSQL cluster, dockerd,
# containerd) wherever an init system lets them; those would take the ports and roles the project's own servers
# use. /usr/sbin/policy-rc.d forbids service starts for the duration of an install, as Docker images do; one
# that exists already is left as it is.
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_CREATED=false
release_policy_guard() {
  if [ "$POLICY_CREATED" = true ]; then "${SUDO[@]}" rm -f "$POLICY_RC" || true; fi
  POLICY_CREATED=false
}

_apt() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y "$@" >>"$APT_LOG" 2>&1; }
_apt_update() {
  log "apt-get update"
  _apt update || {
    tail_log "$APT_LOG"
    die "apt-get update failed (full log: $APT_LOG)"
  }
}
_apt_get_install() {
  _apt install --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# apt_install PACKAGES...: root or passwordless sudo. `apt-get update` runs when the package lists cannot resolve
# a package (a fresh machine), or after an install failed on lists that resolved (stale: the mirror moved on).
apt_install() {
  command -v apt-get >/dev/null || die "missing $*, and this is not a Debian machine (no apt-get): install them by hand"
  if [ ${#SUDO[@]} -gt 0 ] && ! sudo -n true 2>/dev/null; then
    die "missing $*: run as root, or as a user with passwordless sudo, to install them"
  fi
  local t0 updated=false
  t0=$(now_ms)
  mkdir -p "$(dirname "${APT_LOG:?}")"
  if [ ! -e "$POLICY_RC" ]; then
    printf '#!/bin/sh\n# %s: no service starts while it installs packages\nexit 101\n' "$LOG_TAG" |
      "${SUDO[@]}" tee "$POLICY_RC" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY_RC"
    POLICY_CREATED=true
  fi
  if ! apt-cache show "$@" >/dev/null 2>&1; then
    _apt_update
    updated=true
  fi
  log "apt-get install $*"
  if ! _apt_get_install "$@"; then
    if [ "$updated" = true ] || ! { _apt_update && _apt_get_install "$@"; }; then
      tail_log "$APT_LOG"
      die "apt-get install $* failed (full log: $APT_LOG)"
    fi
  fi
  release_policy_guard
  log "installed $* in $(since "$t0")"
}
