# Shared settings and helpers for scripts/k8s/cluster.sh (sourced, not run).
# shellcheck shell=bash disable=SC2034

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
BIN=$(bash "$ROOT/scripts/k8s/tools.sh" path)
K=$ROOT/.infra/k8s                 # all cluster state
PKI=$K/pki LOGS=$K/logs RUN=$K/run CONF=$K/conf

# Network layout. Pods get addresses on the bridge; the host (CoreDNS, and Redis/PostgreSQL/Kafka
# for pods) listens on the bridge's gateway address, which is also the node's InternalIP.
BRIDGE=flashk8s0
POD_CIDR=10.88.0.0/16
GATEWAY=10.88.0.1
SERVICE_CIDR=10.96.0.0/16
DNS_IP=$GATEWAY
DOMAIN=cluster.local
FAKE_POD_CIDR=10.89.0.0/16         # kwok hands these to pods on fake nodes; routed to the bridge
NODE_IP=$GATEWAY
NODE=$(hostname | tr '[:upper:]' '[:lower:]')

APISERVER_PORT=6443
ETCD_PORT=12379 ETCD_PEER_PORT=12380
KUBELET_HEALTHZ_PORT=10248 KUBE_PROXY_HEALTHZ_PORT=10256
CONTROLLER_MANAGER_PORT=10257 SCHEDULER_PORT=10259
COREDNS_READY_PORT=18181 KWOK_PORT=10247
CONTAINERD_SOCK=$K/containerd/containerd.sock
PAUSE_IMAGE=localhost/flashsale/pause:1
WEBCHECK_IMAGE=localhost/flashsale/webcheck:1
ADMIN_KUBECONFIG=$K/kubeconfig
FAKE_TAINT=kwok.x-k8s.io/node=fake:NoSchedule

export PATH="$BIN:$PATH"

LOG_TAG=k8s LOG_FD=2
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"
T_CMD=$(now_ms)
T_STEP=$T_CMD
# say MSG: progress line with the time since the previous line and since the command began.
say() {
  log "$* (+$(since "$T_STEP"), total $(since "$T_CMD"))"
  T_STEP=$(now_ms)
}
# die MSG [COMPONENT]: stop with MSG and, for a component, the last lines of its log (replaces common.sh's die).
die() {
  echo "[k8s] ERROR: $1" >&2
  if [ -n "${2:-}" ] && [ -f "$LOGS/$2.log" ]; then
    echo "[k8s] last lines of $LOGS/$2.log (this run):" >&2
    awk '/^=== / { n = 0 } { line[n++] = $0 } END { for (i = (n > 25 ? n - 25 : 0); i < n; i++) print "    " line[i] }' \
      "$LOGS/$2.log" >&2
  fi
  exit 1
}

kc() { kubectl --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

# --- processes -----------------------------------------------------------------------------------
# Each component runs in its own session, its PID in $RUN/NAME.pid. A PID only counts as ours
# when its command line mentions $K (every component gets a config, log or data path under it).
pid_of() { cat "$RUN/$1.pid" 2>/dev/null || true; }
is_ours() { [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] && [[ $(pid_cmdline "$1") == *"$K"* ]]; }
alive() { local p; p=$(pid_of "$1"); is_ours "$p"; }

# start NAME CMD...: reuse NAME when it runs, otherwise start it with its log in $LOGS/NAME.log.
start() {
  local name=$1; shift
  if alive "$name"; then say "$name: already running (pid $(pid_of "$name"))"; return 0; fi
  mkdir -p "$LOGS" "$RUN"
  echo "=== $(date -Is) starting: $*" >> "$LOGS/$name.log"
  setsid "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
}

# wait_for NAME SECONDS CHECK...: poll CHECK until it succeeds; fail when NAME dies or time runs out.
wait_for() {
  local name=$1 secs=$2; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    alive "$name" || die "$name exited while starting" "$name"
    [ "$(date +%s)" -lt "$deadline" ] || die "$name did not become ready within ${secs}s (check: $*)" "$name"
    sleep 0.3
  done
  say "$name ready (pid $(pid_of "$name"))"
}

# stop NAME: SIGTERM, up to 20 s, then SIGKILL. Quiet when NAME is not running.
stop() {
  local name=$1 p i
  p=$(pid_of "$name")
  if is_ours "$p"; then
    kill -TERM "$p" 2>/dev/null || true
    for i in $(seq 1 100); do is_ours "$p" || break; sleep 0.2; done
    if is_ours "$p"; then kill -KILL "$p" 2>/dev/null || true; sleep 0.2; fi
    say "stopped $name (pid $p)"
  fi
  rm -f "$RUN/$name.pid"
}

# Every process still running with a command line that mentions $K (components, containerd shims).
leftover_pids() {
  local d
  for d in /proc/[0-9]*; do is_ours "${d#/proc/}" && echo "${d#/proc/}"; done
  return 0
}

# --- health checks -------------------------------------------------------------------------------
curl_api() { curl -fsS --max-time 3 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://127.0.0.1:$APISERVER_PORT$1"; }
check_etcd() { curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
check_kube_apiserver() { curl_api /readyz; }
check_apiserver_forward() {
  curl -fsS --max-time 3 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://$GATEWAY:$APISERVER_PORT/readyz"
}
check_kube_controller_manager() { curl -fsSk --max-time 2 "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz"; }
check_kube_scheduler() { curl -fsSk --max-time 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz"; }
check_containerd() { [ -S "$CONTAINERD_SOCK" ] && ctr -a "$CONTAINERD_SOCK" --connect-timeout 2s version; }
check_kubelet() { curl -fsS --max-time 2 "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz"; }
check_kube_proxy() { curl -fsS --max-time 2 "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz"; }
check_coredns() { curl -fsS --max-time 2 "http://127.0.0.1:$COREDNS_READY_PORT/ready" && dns_query "kubernetes.default.svc.$DOMAIN"; }
check_kwok() { curl -fsS --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz"; }

# dns_query NAME: asks CoreDNS for NAME's A record over UDP; prints the address, fails without one.
dns_query() {
  python3 - "$DNS_IP" "$1" <<'PY'
import random, socket, struct, sys
server, name = sys.argv[1], sys.argv[2]
qid = random.randint(0, 65535)
query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(query, (server, 53))
r = s.recv(4096)
rcode, ancount = r[3] & 15, struct.unpack(">H", r[6:8])[0]
if struct.unpack(">H", r[:2])[0] != qid or rcode != 0 or ancount == 0:
    sys.exit(1)
print(socket.inet_ntoa(r[-4:]))
PY
}
