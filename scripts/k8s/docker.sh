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

LOG_TAG=docker LOG_FD=2
APT_LOG="$STATE/install.log"
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"

engine_up() { [ -S "$SOCKET" ] && "$DOCKER_CLI" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
engine_pid() { cat "$PIDFILE" 2>/dev/null || true; }
engine_ours() {
  local pid
  pid=$(engine_pid)
  pid_alive "$pid" && [[ "$(pid_cmdline "$pid")" == *"--data-root $STATE/data"* ]]
}

# --- install -----------------------------------------------------------------------------------------------------
trap release_policy_guard EXIT

# pids of dockerd/containerd processes running now (to tell apart any the package install might start)
daemon_pids() { pgrep -x 'dockerd|containerd' 2>/dev/null | sort || true; }

install() {
  local missing=()
  [ -x "$DOCKERD" ] && [ -x "$DOCKER_CLI" ] || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v flock >/dev/null || missing+=(util-linux)
  [ ${#missing[@]} -eq 0 ] && return 0
  local before
  before=$(daemon_pids)
  apt_install "${missing[@]}"
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
    take_lock "$STATE/.lock" 300
    cmd_up
    echo "export DOCKER_HOST=$DOCKER_HOST"
    ;;
  down)
    take_lock "$STATE/.lock" 300
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
