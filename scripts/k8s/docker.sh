#!/usr/bin/env bash
# A private Docker engine for building and trying the mesh's images, with no system service involved.
#
#   bash scripts/k8s/docker.sh up       install docker.io and debootstrap (apt) when missing, start dockerd if it is
#                                       not answering; prints the DOCKER_HOST to use (the default command)
#   bash scripts/k8s/docker.sh down     stop the dockerd this script started (its containers stop with it)
#   bash scripts/k8s/docker.sh status   exit 0 when the engine answers
#   bash scripts/k8s/docker.sh env      print `export DOCKER_HOST=...` lines: eval "$(bash scripts/k8s/docker.sh env)"
#
# The engine keeps everything under .infra/docker/ (git-ignored; DOCKER_DIR overrides): data root, exec root, socket,
# pid file and log. It runs with --bridge=none --iptables=false, so it never touches the machine's firewall (kube-proxy
# and CNI rules keep working); containers use `--network host`. Builds use BuildKit through Debian's own `docker`
# client (/usr/bin/docker with DOCKER_BUILDKIT=1); a newer client without buildx falls back to the legacy builder.
# Idempotent and safe to run concurrently (a lock serialises runs). Runs as root or with passwordless sudo (apt,
# dockerd).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${DOCKER_DIR:-$ROOT/.infra/docker}"
SOCKET="$STATE/docker.sock"
PIDFILE="$STATE/dockerd.pid"
LOGFILE="$STATE/dockerd.log"
export DOCKER_HOST="unix://$SOCKET"
# Debian's client (20.10) has BuildKit built in; a client found first on PATH may not.
DOCKER_CLI=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd

log() { printf '[docker] %s\n' "$*" >&2; }
die() {
  printf '[docker] ERROR: %s\n' "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
since() {
  local ms=$(($(now_ms) - $1))
  printf '%d.%02ds' $((ms / 1000)) $((ms % 1000 / 10))
}
pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
pid_cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true; }
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi

engine_up() { [ -S "$SOCKET" ] && "$DOCKER_CLI" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
engine_pid() { cat "$PIDFILE" 2>/dev/null || true; }
engine_ours() {
  local pid
  pid=$(engine_pid)
  pid_alive "$pid" && [[ "$(pid_cmdline "$pid")" == *"--data-root $STATE/data"* ]]
}

take_lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 300 9 || die "another docker.sh has held $STATE/.lock for 5 minutes"
}

# --- install -----------------------------------------------------------------------------------------------------
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_CREATED=false
cleanup() { if [ "$POLICY_CREATED" = true ]; then "${SUDO[@]}" rm -f "$POLICY_RC" || true; fi; }
trap cleanup EXIT

# pids of dockerd/containerd processes running now (to tell apart any the package install might start)
daemon_pids() { pgrep -x 'dockerd|containerd' 2>/dev/null | sort || true; }

install() {
  local missing=()
  [ -x "$DOCKERD" ] && [ -x "$DOCKER_CLI" ] || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v flock >/dev/null || missing+=(util-linux)
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]} and this is not a Debian machine: install them by hand"
  local t0 before apt=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y)
  t0=$(now_ms)
  mkdir -p "$STATE"
  before=$(daemon_pids)
  # docker.io's maintainer scripts start dockerd and containerd wherever an init system lets them; ours must be the
  # only engine, so forbid service starts for the install (as Docker images do). An existing guard is left as it is.
  if [ ! -e "$POLICY_RC" ]; then
    printf '#!/bin/sh\n# scripts/k8s/docker.sh: no service starts while it installs packages\nexit 101\n' |
      "${SUDO[@]}" tee "$POLICY_RC" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY_RC"
    POLICY_CREATED=true
  fi
  # apt-get update only when the package lists cannot resolve a package (fresh machines have none).
  if ! apt-cache show "${missing[@]}" >/dev/null 2>&1; then
    log "apt-get update"
    "${apt[@]}" update >>"$STATE/install.log" 2>&1 || die "apt-get update failed (log: $STATE/install.log)"
  fi
  log "apt-get install ${missing[*]}"
  "${apt[@]}" install --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >>"$STATE/install.log" 2>&1 || die "apt-get install ${missing[*]} failed (log: $STATE/install.log)"
  if [ "$POLICY_CREATED" = true ]; then
    "${SUDO[@]}" rm -f "$POLICY_RC"
    POLICY_CREATED=false
  fi
  # Belt and braces for init systems that ignore policy-rc.d: no system engine now, none after a reboot. Only
  # daemons that appeared during this install are stopped (by pid); anything running before is left alone.
  if [ -d /run/systemd/system ]; then
    "${SUDO[@]}" systemctl disable --now docker.service docker.socket containerd.service >/dev/null 2>&1 || true
  fi
  local pid
  for pid in $(comm -13 <(printf '%s\n' "$before") <(daemon_pids)); do
    log "stopping $(pid_cmdline "$pid")(pid $pid), started by the package install"
    "${SUDO[@]}" kill "$pid" 2>/dev/null || true
  done
  log "installed ${missing[*]} in $(since "$t0")"
}

# --- engine ------------------------------------------------------------------------------------------------------
cmd_up() {
  install
  if engine_up; then
    if engine_ours; then log "dockerd already up (pid $(engine_pid))"; else log "$SOCKET already answers; using it"; fi
    return 0
  fi
  local t0 pid
  t0=$(now_ms)
  mkdir -p "$STATE/data" "$STATE/exec"
  [ -f "$STATE/daemon.json" ] || echo '{}' >"$STATE/daemon.json"
  if [ -e "$SOCKET" ]; then rm -f "$SOCKET"; fi
  # Own config file, exec root (its containerd's sockets and state) and data root: nothing shared with a system
  # engine that may exist. No bridge, no iptables: containers run with --network host.
  "${SUDO[@]}" setsid "$DOCKERD" --config-file "$STATE/daemon.json" --data-root "$STATE/data" \
    --exec-root "$STATE/exec" --pidfile "$PIDFILE" -H "unix://$SOCKET" --bridge=none --iptables=false \
    --ip-masq=false --userland-proxy=false </dev/null >"$LOGFILE" 2>&1 9>&- &
  pid=$!
  local deadline=$((SECONDS + 60))
  until engine_up; do
    if ! pid_alive "$pid"; then
      tail -n 30 "$LOGFILE" >&2 || true
      die "dockerd exited during start-up (log: $LOGFILE)"
    fi
    [ $SECONDS -lt $deadline ] || die "dockerd did not answer on $SOCKET within 60 s (log: $LOGFILE)"
    sleep 0.2
  done
  log "dockerd $("$DOCKER_CLI" version --format '{{.Server.Version}}') up on $SOCKET (pid $(engine_pid), storage \
$("$DOCKER_CLI" info --format '{{.Driver}}')) in $(since "$t0")"
}

cmd_down() {
  local pid t0
  pid=$(engine_pid)
  if ! engine_ours; then
    if engine_up; then log "$SOCKET answers but was not started by this script: left running"; else log "dockerd not running"; fi
    return 0
  fi
  t0=$(now_ms)
  "${SUDO[@]}" kill -TERM "$pid" # dockerd stops its containers (10 s grace each) and its containerd
  for _ in $(seq 1 300); do pid_alive "$pid" || break; sleep 0.2; done
  if pid_alive "$pid"; then
    log "dockerd (pid $pid) still running after 60 s: killing it"
    "${SUDO[@]}" kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE" "$SOCKET"
  log "dockerd stopped in $(since "$t0")"
}

case "${1:-up}" in
  up)
    take_lock
    cmd_up
    echo "export DOCKER_HOST=$DOCKER_HOST"
    ;;
  down)
    take_lock
    cmd_down
    ;;
  status)
    if engine_up; then
      log "up    $DOCKER_HOST (dockerd $("$DOCKER_CLI" version --format '{{.Server.Version}}'), pid $(engine_pid))"
    else
      log "down  ($SOCKET)"
      exit 1
    fi
    ;;
  env)
    echo "export DOCKER_HOST=$DOCKER_HOST"
    echo "export DOCKER_BUILDKIT=1"
    ;;
  -h | --help | help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "usage: bash scripts/k8s/docker.sh up|down|status|env" ;;
esac
