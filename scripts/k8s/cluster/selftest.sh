# `cluster.sh selftest` (sourced by cluster.sh): proves the cluster works end to end with only what
# scripts/k8s/tools.sh builds. Leaves the cluster up (fresh, after a down/up cycle) and removes its
# namespace and fake nodes.
# shellcheck shell=bash disable=SC2034  # T_STEP is read by say()

NS=flash-selftest
HOST_PORT=18080

check() { # check DESCRIPTION CMD...: run CMD, report pass (with timing) or stop with its output
  local what=$1 out; shift
  if out=$("$@" 2>&1); then say "PASS $what"; else echo "$out" | tail -n 20 >&2; die "FAIL $what"; fi
}
retry() { # retry SECONDS CMD...: CMD until it succeeds (DNS and kube-proxy rules need a moment)
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@"; do [ "$(date +%s)" -lt "$deadline" ] || return 1; sleep 1; done
}
contains() { local want=$1; shift; local out; out=$("$@") && grep -q -- "$want" <<< "$out"; }
no_processes_left() { [ -z "$(leftover_pids)" ] && ! ip link show "$BRIDGE" >/dev/null 2>&1; }

selftest() {
  local tools_log=$K/logs/selftest-tools.log
  mkdir -p "$K/logs"
  bash "$ROOT/scripts/k8s/tools.sh" > "$tools_log" 2>&1 || { tail -n 20 "$tools_log" >&2; die "tools.sh failed"; }
  say "tools ready"
  bash "$0" up || die "up failed"
  T_STEP=$(now_ms)
  bash "$0" import "$BIN/webcheck-image.tar" || die "import failed"

  # A host process on the bridge address, as Redis/PostgreSQL/Kafka for pods will be.
  local www; www=$(mktemp -d)
  echo "host-service-marker" > "$www/index.html"
  python3 -m http.server --bind "$GATEWAY" --directory "$www" "$HOST_PORT" > "$K/logs/selftest-http.log" 2>&1 &
  local http_pid=$!
  # shellcheck disable=SC2064
  trap "kill $http_pid 2>/dev/null || true; rm -rf '$www'" EXIT

  kc delete namespace "$NS" --ignore-not-found --wait=true >/dev/null
  kc create namespace "$NS" >/dev/null
  # Pods are refused until the controller-manager has made the namespace's default ServiceAccount.
  retry 30 kc -n "$NS" get serviceaccount default >/dev/null 2>&1 || die "no default ServiceAccount in $NS" kube-controller-manager
  kc apply -f - >/dev/null <<YAML || die "applying the selftest manifests failed"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $NS}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      automountServiceAccountToken: false
      containers:
      - name: web
        image: $WEBCHECK_IMAGE
        imagePullPolicy: Never
        args: [serve, ":8080"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1}
        securityContext: {runAsNonRoot: true, runAsUser: 10001, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $NS}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: $NS}
spec:
  containers:
  - name: client
    image: $WEBCHECK_IMAGE
    imagePullPolicy: Never
    args: [serve, ":9090"]
YAML
  check "Deployment web Available (2 pods Ready behind an httpGet probe)" \
    kc -n "$NS" rollout status deploy/web --timeout 90s
  check "client pod Ready" kc -n "$NS" wait --for condition=Ready pod/client --timeout 60s
  check "pod -> Service by DNS name (web.$NS.svc.$DOMAIN)" retry 30 \
    contains "hello from web-" kc -n "$NS" exec client -- /webcheck get "http://web.$NS.svc.$DOMAIN/"
  check "pod -> Service by short name (web)" retry 10 \
    contains "hello from web-" kc -n "$NS" exec client -- /webcheck get "http://web/"
  check "pod -> host listener on $GATEWAY:$HOST_PORT" retry 10 \
    contains host-service-marker kc -n "$NS" exec client -- /webcheck get "http://$GATEWAY:$HOST_PORT/"
  check "host -> Service ClusterIP" retry 10 \
    contains "hello from web-" curl -fsS --max-time 3 "http://$(kc -n "$NS" get svc web -o jsonpath='{.spec.clusterIP}')/"
  check "kubectl logs shows the requests" contains "GET / from" kc -n "$NS" logs -l app=web --tail 50
  check "CoreDNS answers for the Service from the host" dns_query "web.$NS.svc.$DOMAIN"

  bash "$0" fake-nodes 2 || die "fake-nodes 2 failed"
  T_STEP=$(now_ms)
  check "3 Ready nodes (1 real + 2 kwok)" retry 30 \
    contains "^3$" bash -c "kubectl --kubeconfig '$ADMIN_KUBECONFIG' get nodes --no-headers | grep -cw Ready"
  kc -n "$NS" scale deploy/web --replicas 4 >/dev/null
  check "the fake nodes' taint keeps untolerating pods on $NODE" retry 60 \
    contains "^$NODE $NODE $NODE $NODE\$" bash -c "kubectl --kubeconfig '$ADMIN_KUBECONFIG' -n $NS get pods -l app=web \
      --field-selector status.phase=Running -o jsonpath='{range .items[*]}{.spec.nodeName} {end}' | sed 's/ \$//'"

  kill "$http_pid" 2>/dev/null || true
  bash "$0" down || die "down failed"
  T_STEP=$(now_ms)
  check "down left no process, mount or bridge behind" no_processes_left
  bash "$0" up || die "second up failed"
  T_STEP=$(now_ms)
  # The Deployment's status still says Available from before `down`: look at fresh pods instead.
  check "after down/up web pods run and are Ready again" retry 90 \
    contains "^4$" bash -c "kubectl --kubeconfig '$ADMIN_KUBECONFIG' -n $NS get pods -l app=web \
      -o jsonpath='{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}' | grep -c True"
  check "after down/up the Service answers from the host" retry 30 \
    contains "hello from web-" curl -fsS --max-time 3 "http://$(kc -n "$NS" get svc web -o jsonpath='{.spec.clusterIP}')/"
  kc delete namespace "$NS" --wait=false >/dev/null
  echo "selftest passed in $(since "$T_CMD")"
}
