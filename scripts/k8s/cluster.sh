#!/usr/bin/env bash
# A real single-node Kubernetes v1.34 cluster on this machine, made of host processes, with all state
# in .infra/k8s/ (logs in .infra/k8s/logs/). Build the binaries first: bash scripts/k8s/tools.sh
#
#   bash scripts/k8s/cluster.sh up                 start (or repair) the cluster; idempotent; waits for
#                                                  a Ready node and answering DNS
#   bash scripts/k8s/cluster.sh down [--purge]     delete all pods, stop everything, remove the bridge;
#                                                  keeps .infra/k8s (etcd data, images) unless --purge
#   bash scripts/k8s/cluster.sh status             exit 0 only when every component answers
#   bash scripts/k8s/cluster.sh env                the exports: eval "$(bash scripts/k8s/cluster.sh env)"
#   bash scripts/k8s/cluster.sh import IMG.tar...  import `docker save` tarballs into the node's containerd
#                                                  (pods use them with imagePullPolicy: Never)
#   bash scripts/k8s/cluster.sh fake-nodes N       run kwok and keep N fake Ready nodes (kwok-fake-1..N)
#   bash scripts/k8s/cluster.sh selftest           prove it works end to end (leaves the cluster up)
#
# Components: etcd 3.6 (127.0.0.1:12379), kube-apiserver (127.0.0.1:6443), kube-controller-manager,
# kube-scheduler, a private containerd (socket .infra/k8s/containerd/containerd.sock, never Docker's),
# kubelet, kube-proxy (iptables, masquerade-all), CoreDNS on 10.88.0.1:53 (cluster.local only, no
# forwarding), kwok for fake nodes. Network: bridge flashk8s0 with 10.88.0.1/16 (pod CIDR 10.88.0.0/16;
# the gateway is also the node's InternalIP and where host services for pods listen); service CIDR
# 10.96.0.0/16 (routed onto the bridge); cluster DNS 10.88.0.1, domain cluster.local. Forwarded
# traffic from the bridge cannot leave through another interface.
#
# Fake nodes carry the annotation kwok.x-k8s.io/node=fake, the label type=kwok, a distinct
# topology.kubernetes.io/zone (fake-zone-a, fake-zone-b, ...) and the taint
#   kwok.x-k8s.io/node=fake:NoSchedule
# so only pods that tolerate it land there:
#   tolerations: [{key: kwok.x-k8s.io/node, operator: Equal, value: fake, effect: NoSchedule}]
# Pods there are simulated (kwok marks them Running/Ready; nothing runs).
#
# The node's InternalIP is the bridge address 10.88.0.1 (not eth0's), so kubelet (10250) listens only
# there and on loopback. The apiserver listens on loopback only; pods reach it through the `kubernetes`
# Service, whose endpoint is 10.88.0.1:6443, where socat forwards to loopback (the chart's certificate
# Job uses it). Nothing listens on the machine's other interfaces.
# Needs root (bridge, iptables, containerd). Every command prints its timings.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/cluster/common.sh
. "$HERE/cluster/common.sh"
# shellcheck source=SCRIPTDIR/cluster/pki.sh
. "$HERE/cluster/pki.sh"
# shellcheck source=SCRIPTDIR/cluster/configs.sh
. "$HERE/cluster/configs.sh"

require_tools() {
  local b
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl coredns kwok \
      pause-image.tar kwok-stages.yaml; do
    [ -e "$BIN/$b" ] || die "$BIN/$b is missing: run 'bash scripts/k8s/tools.sh' first"
  done
  [ "$(id -u)" = 0 ] || die "cluster.sh needs root (bridge, iptables, containerd)"
}

cmd_up() {
  require_tools
  mkdir -p "$K" "$LOGS" "$RUN" "$CONF"
  make_pki
  write_containerd_config; write_kubelet_config; write_kube_proxy_config; write_coredns_config
  network_up
  say "certificates, configs and bridge $BRIDGE ($GATEWAY) ready"

  start etcd etcd --name flashk8s --data-dir "$K/etcd" --unsafe-no-fsync --log-level warn \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "flashk8s=http://127.0.0.1:$ETCD_PEER_PORT"
  wait_for etcd 30 check_etcd

  start kube-apiserver kube-apiserver --bind-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
    --advertise-address "$GATEWAY" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" --service-cluster-ip-range "$SERVICE_CIDR" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-account-issuer "https://kubernetes.default.svc.$DOMAIN" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI/ca.crt" --kubelet-preferred-address-types InternalIP \
    --profiling=false
  wait_for kube-apiserver 90 check_kube_apiserver
  # The `kubernetes` Service's endpoint is the advertised address: pods reach the apiserver there, through
  # this forwarder (socat's own log path puts $K on its command line, which marks the process as ours).
  start apiserver-forward socat -lf "$LOGS/apiserver-forward.socat.log" \
    "TCP-LISTEN:$APISERVER_PORT,bind=$GATEWAY,reuseaddr,fork" "TCP:127.0.0.1:$APISERVER_PORT"
  wait_for apiserver-forward 30 check_apiserver_forward

  start kube-controller-manager kube-controller-manager --kubeconfig "$CONF/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$CONF/controller-manager.kubeconfig" --authorization-kubeconfig "$CONF/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$CONTROLLER_MANAGER_PORT" --leader-elect=false \
    --use-service-account-credentials --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --profiling=false
  start kube-scheduler kube-scheduler --kubeconfig "$CONF/scheduler.kubeconfig" \
    --authentication-kubeconfig "$CONF/scheduler.kubeconfig" --authorization-kubeconfig "$CONF/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false --profiling=false
  start containerd containerd --config "$K/containerd/config.toml"
  wait_for kube-controller-manager 60 check_kube_controller_manager
  wait_for kube-scheduler 60 check_kube_scheduler
  wait_for containerd 30 check_containerd
  if ! ctr -a "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -qxF "$PAUSE_IMAGE"; then
    ctr -a "$CONTAINERD_SOCK" -n k8s.io images import "$BIN/pause-image.tar" >/dev/null \
      || die "importing the pause image into containerd failed" containerd
    say "imported $PAUSE_IMAGE"
  fi

  start kubelet kubelet --config "$CONF/kubelet.yaml" --kubeconfig "$CONF/kubelet.kubeconfig" \
    --hostname-override "$NODE" --node-ip "$NODE_IP" --root-dir "$K/kubelet" --cert-dir "$K/kubelet/pki"
  start kube-proxy kube-proxy --config "$CONF/kube-proxy.yaml"
  start coredns coredns -conf "$CONF/Corefile" -pidfile "$RUN/coredns.own.pid"
  wait_for kubelet 60 check_kubelet
  wait_for kube-proxy 60 check_kube_proxy
  wait_for coredns 60 check_coredns

  local deadline=$(( $(date +%s) + 90 ))
  until [ "$(kc get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do
    alive kubelet || die "kubelet exited before node $NODE became Ready" kubelet
    [ "$(date +%s)" -lt "$deadline" ] || die "node $NODE not Ready after 90s" kubelet
    sleep 0.5
  done
  say "node $NODE Ready ($NODE_IP); kubernetes.default resolves to $(dns_query "kubernetes.default.svc.$DOMAIN")"
  echo "cluster up in $(since "$T_CMD")"
  echo "export KUBECONFIG=$ADMIN_KUBECONFIG"
}

# Deletes every pod while kubelet still runs, so CNI releases addresses and veths; controllers and
# the scheduler stop first so nothing is recreated.
delete_all_pods() {
  check_kube_apiserver >/dev/null 2>&1 || { say "apiserver not answering: skipping pod deletion"; return 0; }
  kc delete nodes -l type=kwok --wait=false >/dev/null 2>&1 || true
  kc delete pods --all --all-namespaces --grace-period 5 --wait=false >/dev/null 2>&1 || true
  if alive kubelet; then
    local deadline=$(( $(date +%s) + 60 ))
    while [ -n "$(kc get pods -A --field-selector "spec.nodeName=$NODE" -o name 2>/dev/null)" ]; do
      [ "$(date +%s)" -lt "$deadline" ] || { say "pods still terminating after 60s; forcing"; break; }
      sleep 0.5
    done
  fi
  kc delete pods --all --all-namespaces --force --grace-period 0 >/dev/null 2>&1 || true
  say "pods deleted"
}

# Removes what a crashed kubelet left behind: containers, sandboxes, their mounts and IPAM records.
remove_leftover_containers() {
  if check_containerd >/dev/null 2>&1; then
    local c ids
    ids=$(ctr -a "$CONTAINERD_SOCK" -n k8s.io containers ls -q 2>/dev/null || true)
    for c in $ids; do
      ctr -a "$CONTAINERD_SOCK" -n k8s.io tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true
    done
    for c in $ids; do
      ctr -a "$CONTAINERD_SOCK" -n k8s.io tasks delete -f "$c" >/dev/null 2>&1 || true
      ctr -a "$CONTAINERD_SOCK" -n k8s.io containers delete "$c" >/dev/null 2>&1 || true
    done
    [ -z "$ids" ] || say "removed $(echo "$ids" | wc -w) leftover containers"
  fi
}

cmd_down() {
  local purge=${1:-}
  mkdir -p "$LOGS"
  stop kwok; stop kube-controller-manager; stop kube-scheduler
  delete_all_pods
  stop kubelet
  remove_leftover_containers
  stop kube-proxy
  if [ -x "$BIN/kube-proxy" ]; then
    kube-proxy --cleanup >> "$LOGS/kube-proxy-cleanup.log" 2>&1 || say "kube-proxy --cleanup reported errors (see $LOGS/kube-proxy-cleanup.log)"
  fi
  stop coredns
  # socat forks a child per open connection, in its own process group (started by setsid): those go too.
  local forward
  forward=$(pid_of apiserver-forward)
  stop apiserver-forward
  if [ -n "$forward" ]; then kill -TERM -- "-$forward" 2>/dev/null || true; fi
  stop kube-apiserver; stop etcd; stop containerd
  # containerd's shims outlive it; they are ours when they were started for our socket.
  local p
  for p in $(leftover_pids); do
    if tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q "containerd-shim.*-address $CONTAINERD_SOCK"; then
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  # Unmount whatever is left under $K (pod volumes, rootfs, netns), deepest first.
  awk -v k="$K/" 'index($2, k) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  rm -rf "$K/cni/ipam"
  network_down
  rm -f "$RUN"/*.pid
  local left
  left=$(leftover_pids | tr '\n' ' ')
  if [ -n "$left" ]; then
    ps -o pid,args -p "${left// /,}" >&2 || true
    die "processes still mention $K (listed above); stop them by PID"
  fi
  if [ "$purge" = --purge ]; then rm -rf "$K"; say "removed $K"; fi
  echo "cluster down in $(since "$T_CMD"); no component runs, bridge $BRIDGE removed"
}

cmd_status() {
  local ok=0 name
  for name in etcd kube-apiserver apiserver-forward kube-controller-manager kube-scheduler containerd kubelet kube-proxy coredns; do
    if alive "$name" && "check_${name//-/_}" >/dev/null 2>&1; then
      printf '%-24s ok (pid %s)\n' "$name" "$(pid_of "$name")"
    else
      printf '%-24s DOWN (log: %s)\n' "$name" "$LOGS/$name.log"; ok=1
    fi
  done
  if [ -e "$RUN/kwok.pid" ]; then
    if alive kwok && check_kwok >/dev/null 2>&1; then printf '%-24s ok (pid %s)\n' kwok "$(pid_of kwok)"
    else printf '%-24s DOWN (log: %s)\n' kwok "$LOGS/kwok.log"; ok=1; fi
  fi
  if [ $ok = 0 ]; then kc get nodes -o wide 2>&1 || ok=1; fi
  echo "status in $(since "$T_CMD")" >&2
  return $ok
}

cmd_env() {
  echo "export KUBECONFIG=$ADMIN_KUBECONFIG"
  echo "export PATH=\"$BIN:\$PATH\""
  echo "export CONTAINERD_ADDRESS=$CONTAINERD_SOCK"
  echo "export CONTAINERD_NAMESPACE=k8s.io"
  echo "export CONTAINER_RUNTIME_ENDPOINT=unix://$CONTAINERD_SOCK"
  echo "env in $(since "$T_CMD")" >&2
}

cmd_import() {
  [ $# -gt 0 ] || die "usage: cluster.sh import IMAGE.tar..."
  check_containerd >/dev/null 2>&1 || die "containerd is not running: run 'bash scripts/k8s/cluster.sh up' first" containerd
  local f
  for f in "$@"; do
    [ -f "$f" ] || die "no such file: $f"
    ctr -a "$CONTAINERD_SOCK" -n k8s.io images import "$f" || die "ctr images import $f failed"
    say "imported $f"
  done
  echo "import done in $(since "$T_CMD")" >&2
}

cmd_fake_nodes() {
  local n=${1:-}
  [[ $n =~ ^[0-9]+$ ]] || die "usage: cluster.sh fake-nodes N"
  check_kube_apiserver >/dev/null 2>&1 || die "the apiserver is not answering: run 'bash scripts/k8s/cluster.sh up' first" kube-apiserver
  start kwok kwok --kubeconfig "$ADMIN_KUBECONFIG" --config "$BIN/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds 40 \
    --cidr "${FAKE_POD_CIDR%.*}.1/${FAKE_POD_CIDR#*/}" --node-ip "${FAKE_POD_CIDR%.*}.1" \
    --server-address "127.0.0.1:$KWOK_PORT"
  wait_for kwok 30 check_kwok
  local i zones=(a b c d e f g h i j k l m n o p q r s t u v w x y z)
  for ((i = 1; i <= n; i++)); do
    kc apply -f - >/dev/null <<YAML || die "creating node kwok-fake-$i failed"
apiVersion: v1
kind: Node
metadata:
  name: kwok-fake-$i
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-fake-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/zone: fake-zone-${zones[$(( (i - 1) % 26 ))]}$( [ "$i" -le 26 ] || echo "$(( (i - 1) / 26 ))" )
spec:
  taints: [{key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule}]
YAML
  done
  # Nodes beyond N go away.
  local name
  for name in $(kc get nodes -l type=kwok -o name); do
    i=${name##*-}
    [ "$i" -le "$n" ] || kc delete "$name" >/dev/null
  done
  local deadline=$(( $(date +%s) + 60 )) ready
  while :; do
    ready=$(kc get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)
    [ "$ready" -lt "$n" ] || break
    [ "$(date +%s)" -lt "$deadline" ] || die "only $ready of $n fake nodes Ready after 60s" kwok
    sleep 0.5
  done
  say "$n fake nodes Ready"
  kc get nodes -L topology.kubernetes.io/zone
  echo "fake-nodes done in $(since "$T_CMD")" >&2
}

case "${1:-}" in
  up) cmd_up ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  import) shift; cmd_import "$@" ;;
  fake-nodes) shift; cmd_fake_nodes "$@" ;;
  selftest)
    shift
    # shellcheck source=SCRIPTDIR/cluster/selftest.sh
    . "$HERE/cluster/selftest.sh"
    selftest "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
