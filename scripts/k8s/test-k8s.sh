#!/usr/bin/env bash
# `npm run test:k8s`: proves the images, the Helm charts and the Tiltfile on a real Docker engine and a real
# single-node Kubernetes cluster on this machine (docs/kubernetes.md). Run by .ci/run after `npm test`.
#
#   1. chart checks: helm lint --strict of every values file, values.schema.json refusing bad values, the
#      NetworkPolicies against the call graph (jest project `chart`), the chart README's values table, the Tiltfile
#   2. images: a private dockerd, local base images, every image built, saved and imported into the cluster
#   3. cluster: etcd, apiserver, controllers, scheduler, kubelet on containerd, kube-proxy, CoreDNS; two kwok nodes
#   4. every values file passes `kubectl apply --dry-run=server --validate=strict`
#   5. the real thing, in namespace `shop`: flash-sale-infra, then flash-sale with its default values (mTLS on,
#      certificates from the chart's hook Job): hook Jobs, every pod Ready on its probes, `helm test` (a purchase
#      that becomes payable, then paid, with tokens minted here: the test pod never holds the JWT secret); each
#      workload's certificate names its ServiceAccount and is owned by the release; one gateway pod's purchases
#      reserved by every inventory pod (gRPC balanced per call); pods with no certificate, a foreign one, or the
#      payment service's cannot reserve stock at inventory; `helm upgrade` with a changed value under a purchase
#      load with no failed purchase, certificates kept; `helm rollback`; `helm uninstall` leaves nothing
#      (certificates and the hook's Role included)
#   6. the other values files installed for real, one after the other: in-cluster (narrowed policies),
#      autoscaling (strict spread over three zones), Envoy front (Envoy on kwok nodes), external infrastructure
#      (Redis, Kafka, PostgreSQL on the host, reached through the bridge)
#
# Environment: K8S_KEEP=1 leaves the cluster, the engine and the releases running at the end (to look around:
# eval "$(bash scripts/k8s/cluster.sh env)"); K8S_ONLY=checks stops after step 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$ROOT/packages/db/bin/schema-engine-unavailable}"

CHART=deploy/helm/flash-sale
INFRA_CHART=deploy/helm/flash-sale-infra
TAG=ci
IMAGES="$ROOT/.cache/images/$TAG"
NS=shop
EXTERNAL_NS=ci-external
# The "external" Redis, Kafka and PostgreSQL: scripts/infra.sh on the bridge address, ports of its own (the same
# addresses and Redis password as ci/external-values.yaml), so that up and down address the same servers.
external_infra=(env INFRA_HOST=10.88.0.1 INFRA_CLIENT_CIDR=10.88.0.0/16 INFRA_DIR="$ROOT/.infra/k8s-external"
  REDIS_PORT=16379 PG_PORT=15432 KAFKA_PORT=19092 KAFKA_CONTROLLER_PORT=19093 REDIS_PASSWORD=ci-external-redis
  PROMETHEUS_PORT=off)
started=$(date +%s)

LOG_TAG=k8s
# shellcheck source=scripts/lib/common.sh
. "$ROOT/scripts/lib/common.sh"
step() { printf '\n\033[1m[k8s] == %s (at %ss)\033[0m\n' "$*" $(($(date +%s) - started)); }

# What the cluster looked like when something failed: the evidence a reader needs.
on_exit() {
  local status=$?
  if [ "$status" -ne 0 ] && command -v kubectl >/dev/null && [ -n "${KUBECONFIG:-}" ]; then
    printf '\n[k8s] ---- cluster state at the failure ----\n' >&2
    kubectl get pods,jobs -A -o wide 2>&1 | tail -n 40 >&2 || true
    kubectl get events -A --sort-by=.lastTimestamp 2>&1 | tail -n 25 >&2 || true
    for pod in $(kubectl get pods -A --no-headers 2>/dev/null | awk '$4 != "Running" && $4 != "Completed" { print $1 "/" $2 }'); do
      printf '[k8s] ---- logs of %s ----\n' "$pod" >&2
      kubectl logs -n "${pod%%/*}" "${pod#*/}" --all-containers --tail 30 2>&1 | tail -n 40 >&2 || true
    done
  fi
  if [ "${K8S_KEEP:-0}" != 1 ]; then
    "${external_infra[@]}" bash scripts/infra.sh down >/dev/null 2>&1 || true
    # `down` refuses to finish while a stopped component is still exiting; asking again a moment later succeeds.
    if [ -n "${KUBECONFIG:-}" ]; then
      for _ in 1 2 3; do
        if bash scripts/k8s/cluster.sh down >/dev/null 2>&1; then break; fi
        sleep 3
      done
    fi
    bash scripts/k8s/docker.sh down >/dev/null 2>&1 || true
  fi
  printf '[k8s] %s after %ss\n' "$([ "$status" -eq 0 ] && echo PASSED || echo FAILED)" $(($(date +%s) - started))
}
trap on_exit EXIT

image_values=(--set "image.tag=$TAG" --set image.pullPolicy=Never)
infra_values=("${image_values[@]}" --set persistence.enabled=false)

# Every workload of a release rolled out, and every pod of it Ready except those on their way out (an upgrade or a
# rollback leaves old pods terminating for their grace period; hook pods are gone by then).
expect_ready() { # namespace release
  local workload pods not_ready
  for workload in $(kubectl -n "$1" get deployments,statefulsets -l "app.kubernetes.io/instance=$2" -o name); do
    kubectl -n "$1" rollout status "$workload" --timeout=180s >/dev/null
  done
  local fields='{range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status} '
  fields+='{.metadata.deletionTimestamp}{"\n"}{end}'
  pods=$(kubectl -n "$1" get pods -l "app.kubernetes.io/instance=$2" -o jsonpath="$fields" | awk 'NF == 2')
  not_ready=$(awk '$2 != "True"' <<<"$pods")
  [ -z "$not_ready" ] || die "$2: pods not Ready: $not_ready"
  log "$2: $(wc -l <<<"$pods") pods Ready"
}

# Nothing labelled with the release is left, of any kind the chart makes (hooks included), once its pods are gone.
# The certificate Secrets go by garbage collection once their owner is deleted: a few seconds are allowed for it.
expect_nothing_left() { # namespace release
  local left deadline=$(($(date +%s) + 30))
  kubectl -n "$1" wait --for=delete pod -l "app.kubernetes.io/instance=$2" --timeout=120s >/dev/null 2>&1 || true
  while :; do
    left=$(kubectl -n "$1" get all,configmaps,secrets,serviceaccounts,poddisruptionbudgets,networkpolicies,\
horizontalpodautoscalers,ingresses,jobs,persistentvolumeclaims,roles,rolebindings -l "app.kubernetes.io/instance=$2" \
      -o name)
    if [ -z "$left" ] || [ "$(date +%s)" -ge "$deadline" ]; then break; fi
    sleep 2
  done
  [ -z "$left" ] || die "helm uninstall $2 left: $left"
  log "$2: nothing left behind"
}

install_release() { # namespace release values...
  local ns=$1 release=$2
  shift 2
  helm install "$release" "$CHART" -n "$ns" "${image_values[@]}" "$@" --wait --wait-for-jobs --timeout 10m
  expect_ready "$ns" "$release"
}

# The certificates of release flash-sale in $NS: "secret sha256" per line, to compare across upgrades.
certificate_digests() {
  local secret
  for secret in $(kubectl -n "$NS" get secrets -l app.kubernetes.io/instance=flash-sale,app.kubernetes.io/component=tls \
    -o name | sort); do
    echo "$secret $(kubectl -n "$NS" get "$secret" -o jsonpath='{.data.tls\.crt}' | sha256sum | cut -c1-16)"
  done
}

# mesh_call POD VOLUME ARG...: scripts/mesh-call.js in a pod of the mesh image, with VOLUME (a volume source, JSON)
# at /creds; prints its one JSON line. The pod belongs to no release, so no NetworkPolicy selects it; and the CI
# network does not enforce NetworkPolicy anyway: only mTLS and the allow-list stand between it and the mesh.
mesh_call() {
  local pod=$1 volume=$2 args
  shift 2
  args=$(printf '"%s",' "$@")
  kubectl -n "$NS" delete pod "$pod" --ignore-not-found --wait >/dev/null
  kubectl -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $pod, labels: {app.kubernetes.io/name: mesh-call}}
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  enableServiceLinks: false
  securityContext: {runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001}
  containers:
    - name: call
      image: flash-sale/gateway:$TAG
      imagePullPolicy: Never
      command: [node, /app/scripts/mesh-call.js, ${args%,}]
      securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
      volumeMounts: [{name: creds, mountPath: /creds, readOnly: true}]
  volumes: [{name: creds, $volume}]
YAML
  kubectl -n "$NS" wait pod "$pod" --for=jsonpath='{.status.phase}'=Succeeded --timeout=90s >/dev/null ||
    die "$pod did not finish: $(kubectl -n "$NS" logs "$pod" 2>&1 | tail -n 5)"
  kubectl -n "$NS" logs "$pod" | tail -n 1
  kubectl -n "$NS" delete pod "$pod" --wait=false >/dev/null
}

# expect_json JSON NODE-EXPRESSION WHAT: the expression (over `r`, the parsed JSON) is true, or the run fails.
expect_json() {
  node -e 'const r = JSON.parse(process.argv[1]); process.exit(eval(process.argv[2]) ? 0 : 1)' "$1" "$2" ||
    die "$3: $1"
  log "$3: $1"
}

# `helm test` with a purchase. The test pod never holds the JWT secret: its tokens are minted here, from the
# release's Secret, valid for 10 minutes, and given in the Secret smoke-tokens (tests.tokensSecret).
helm_test() { # namespace release
  local secret admin buyer
  secret=$(kubectl -n "$1" get secret "$2-secrets" -o jsonpath='{.data.jwt-secret}' | base64 -d)
  admin=$(JWT_SECRET="$secret" node scripts/token.js smoke-admin --admin --ttl 600)
  buyer=$(JWT_SECRET="$secret" node scripts/token.js "smoke-buyer-$RANDOM" --ttl 600)
  # From a file descriptor, not the command line (which any process list shows).
  kubectl -n "$1" create secret generic smoke-tokens --dry-run=client -o yaml \
    --from-env-file=<(printf 'admin-token=%s\nbuyer-token=%s\n' "$admin" "$buyer") | kubectl apply -f - >/dev/null
  # The smoke pod is deleted when it passes; when it fails, it stays and on_exit prints its log.
  helm test "$2" -n "$1" --timeout 5m
  kubectl -n "$1" delete secret smoke-tokens >/dev/null
}

install_and_test() { # namespace release values...
  install_release "$@" --set tests.tokensSecret=smoke-tokens
  helm_test "$1" "$2"
}

# ---------------------------------------------------------------------------------------------------------------
step "tools (Kubernetes, etcd, helm, kwok, CoreDNS: built once from the Go module proxy, cached)"
bash scripts/k8s/tools.sh
BIN=$(bash scripts/k8s/tools.sh path)
# Assigned on its own line: a failure to provide Go stops the run here (inside `export`, its status would be lost).
go_dir=$(bash scripts/ensure-go.sh)
export PATH="$BIN:$go_dir:$PATH" HELM="$BIN/helm"

step "chart checks"
for values in "$CHART/values.yaml" "$CHART"/ci/*.yaml; do
  helm lint --strict "$CHART" -f "$values" --quiet
done
helm lint --strict "$INFRA_CHART" --quiet
npx jest --selectProjects chart --runInBand
node scripts/k8s/values-doc.js --check
# The Envoy configuration exactly as the chart renders it (envoy.yaml and the SDS files beside it, as mounted),
# checked with Envoy's own API types and the front's policy, mTLS on.
rm -rf .cache/envoy/rendered-by-chart && mkdir -p .cache/envoy/rendered-by-chart
helm template flash-sale "$CHART" -n "$NS" -f "$CHART/ci/envoy-values.yaml" --show-only templates/envoy.yaml |
  node -e 'const y = require("yaml"); const fs = require("fs");
    const docs = y.parseAllDocuments(fs.readFileSync(0, "utf8")).map((d) => d.toJS());
    const { data } = docs.find((o) => o && o.kind === "ConfigMap");
    for (const [name, text] of Object.entries(data)) fs.writeFileSync(process.argv[1] + "/" + name, text);' \
  .cache/envoy/rendered-by-chart
(cd tools/envoy-check && go run . -descriptor ../../packages/contracts/descriptor/flashsale.binpb -mtls on \
  ../../.cache/envoy/rendered-by-chart/envoy.yaml)
bash scripts/check-tiltfile.sh
[ "${K8S_ONLY:-}" = checks ] && exit 0

step "images (private Docker engine, local base images)"
bash scripts/k8s/docker.sh up
eval "$(bash scripts/k8s/docker.sh env)"
rm -rf "$IMAGES"
bash scripts/k8s/images.sh --tag "$TAG" --save "$IMAGES"

step "cluster"
bash scripts/k8s/cluster.sh up
eval "$(bash scripts/k8s/cluster.sh env)"
bash scripts/k8s/cluster.sh import "$IMAGES"/*.tar
bash scripts/k8s/cluster.sh fake-nodes 2
# The real node's zone, so that a strict zone spread counts it (the fake nodes have theirs).
kubectl label node --overwrite -l '!type' topology.kubernetes.io/zone=zone-real >/dev/null
kubectl get nodes -L topology.kubernetes.io/zone

step "server-side validation of every values file (unknown fields fail)"
# Fresh namespaces (a previous run kept with K8S_KEEP=1 may have left releases there).
kubectl delete namespace "$NS" "$EXTERNAL_NS" --ignore-not-found --wait --timeout=3m >/dev/null
for ns in "$NS" "$EXTERNAL_NS"; do kubectl create namespace "$ns" >/dev/null; done
for values in "$CHART/values.yaml" "$CHART"/ci/*.yaml; do
  helm template flash-sale "$CHART" -n "$NS" -f "$values" "${image_values[@]}" |
    kubectl apply -n "$NS" --dry-run=server --validate=strict -f - >/dev/null
  log "$(basename "$values"): accepted by the API server"
done
helm template flash-sale-infra "$INFRA_CHART" -n "$NS" "${infra_values[@]}" |
  kubectl apply -n "$NS" --dry-run=server --validate=strict -f - >/dev/null

step "install: in-cluster infrastructure, then the mesh with its default values"
helm install flash-sale-infra "$INFRA_CHART" -n "$NS" "${infra_values[@]}" --wait --timeout 5m
expect_ready "$NS" flash-sale-infra
install_and_test "$NS" flash-sale

step "mTLS: each workload's certificate names its ServiceAccount, and the release owns it"
[ "$(kubectl -n "$NS" get configmap flash-sale-config -o jsonpath='{.data.MTLS_MODE}')" = on ] || die "MTLS_MODE is not on"
for workload in gateway promotion inventory order payment; do
  account=$(kubectl -n "$NS" get deployment "flash-sale-$workload" -o jsonpath='{.spec.template.spec.serviceAccountName}')
  id=$(kubectl -n "$NS" get secret "flash-sale-$workload-tls" -o jsonpath='{.data.tls\.crt}' | base64 -d |
    node -e 'console.log(new (require("node:crypto").X509Certificate)(require("fs").readFileSync(0)).subjectAltName)')
  [ "$id" = "URI:spiffe://cluster.local/ns/$NS/sa/$account" ] || die "$workload's certificate names $id, not its account $account"
  owner=$(kubectl -n "$NS" get secret "flash-sale-$workload-tls" -o jsonpath='{.metadata.ownerReferences[*].name}')
  [ "$owner" = flash-sale-access-policy ] || die "$workload's certificate is owned by '$owner'"
done
certificates_at_install=$(certificate_digests)
[ "$(wc -l <<<"$certificates_at_install")" -eq 7 ] || die "expected 7 certificate Secrets: $certificates_at_install"
log "5 workload certificates, the CA and the gRPC door's, each owned by the release; SPIFFE IDs name the accounts"

step "zero trust: only a caller with a mesh certificate on the allow-list reaches inventory"
# Kept by the test as a ConfigMap: the CA's certificate alone (public), so the callers below can check the server.
kubectl -n "$NS" create configmap mesh-ca --from-literal="ca.crt=$(kubectl -n "$NS" get secret flash-sale-ca \
  -o jsonpath='{.data.tls\.crt}' | base64 -d)" --dry-run=client -o yaml | kubectl -n "$NS" apply -f - >/dev/null
inventory=(--target flash-sale-inventory:50052 --server-id "spiffe://cluster.local/ns/$NS/sa/flash-sale-inventory")
reserve_batch=/flashsale.inventory.v1.InventoryService/ReserveBatch
answer=$(mesh_call no-certificate '"configMap": {"name": "mesh-ca"}' "${inventory[@]}" --method "$reserve_batch" \
  --ca /creds/ca.crt)
expect_json "$answer" 'r.status === "UNAVAILABLE"' "no certificate: the connection is refused before any call"
answer=$(mesh_call foreign-certificate '"configMap": {"name": "mesh-ca"}' "${inventory[@]}" --method "$reserve_batch" \
  --ca /creds/ca.crt --foreign "spiffe://cluster.local/ns/$NS/sa/flash-sale-gateway")
expect_json "$answer" 'r.status === "UNAVAILABLE"' \
  "the gateway's identity from another CA: the connection is refused before any call"
answer=$(mesh_call payment-identity '"secret": {"secretName": "flash-sale-payment-tls"}' "${inventory[@]}" \
  --method /grpc.health.v1.Health/Check --tls-dir /creds)
expect_json "$answer" 'r.ok && r.response === "0801"' "the payment service's certificate: accepted (health SERVING)"
answer=$(mesh_call payment-identity '"secret": {"secretName": "flash-sale-payment-tls"}' "${inventory[@]}" \
  --method "$reserve_batch" --tls-dir /creds)
expect_json "$answer" 'r.status === "PERMISSION_DENIED" && r.reason === "CALLER_NOT_ALLOWED" && r.domain === "flashsale"' \
  "the payment service's certificate: ReserveBatch refused"
kubectl -n "$NS" delete configmap mesh-ca >/dev/null
# Each refusal is logged by the inventory pod that made it, with its reason, and the denied call is counted.
inventory_selector=app.kubernetes.io/instance=flash-sale,app.kubernetes.io/component=inventory
logs=$(kubectl -n "$NS" logs -l "$inventory_selector" --tail=-1 --max-log-requests=10)
for reason in NO_CLIENT_CERTIFICATE UNTRUSTED_CERTIFICATE CALLER_NOT_ALLOWED; do
  grep -q "\"reason\":\"$reason\"" <<<"$logs" || die "no inventory pod logged a refusal with reason $reason"
done
counted=$(for ip in $(kubectl -n "$NS" get pods -l "$inventory_selector" -o jsonpath='{.items[*].status.podIP}'); do
  curl -fsS --max-time 5 "http://$ip:9090/metrics"
done | grep '^grpc_server_authorization_denied_total{' | grep 'caller="payment"' | grep 'ReserveBatch' || true)
[ -n "$counted" ] || die "no inventory pod counted the payment service's refused ReserveBatch"
log "refusals logged with their reasons; counted: $counted"

step "Snowflake worker ids: one lease per running service pod, all different"
# Each service leases its worker id in Redis under flashsale:snowflake-worker:<id>, held by <service>:<pod>:<token>.
# shellcheck disable=SC2016 # the pod's shell expands $key and $(...), not this one
holders=$(kubectl -n "$NS" exec flash-sale-infra-redis-0 -- sh -c \
  'for key in $(redis-cli --scan --pattern "flashsale:snowflake-worker:*"); do redis-cli get "$key"; done' |
  sed 's/:[^:]*$//' | sort)
pods=$(kubectl -n "$NS" get pods -l 'app.kubernetes.io/instance=flash-sale,app.kubernetes.io/component!=gateway' \
  -o jsonpath='{range .items[*]}{.metadata.labels.app\.kubernetes\.io/component}:{.metadata.name}{"\n"}{end}' | sort)
[ "$holders" = "$pods" ] || die "worker id leases ($holders) do not match the service pods ($pods)"
log "$(echo "$pods" | wc -l) service pods, $(echo "$holders" | wc -l) distinct worker ids, one each"

step "gRPC balanced per call: one gateway pod's purchases reach every inventory pod"
# Callers are given headless Services and balance over their pods (round_robin); through a Service's virtual IP a
# gateway pod would hold one connection to one inventory pod. Order ids carry the worker id of the inventory pod that
# reserved them, and the leases say whose each worker id is.
jwt=$(kubectl -n "$NS" get secret flash-sale-secrets -o jsonpath='{.data.jwt-secret}' | base64 -d)
one_gateway=$(kubectl -n "$NS" get pods -l app.kubernetes.io/instance=flash-sale,app.kubernetes.io/component=gateway \
  -o jsonpath='{.items[0].status.podIP}')
GATEWAY_URL="http://$one_gateway:8080" JWT_SECRET="$jwt" node scripts/smoke.js --load 5 >.infra/k8s/balance-load.log 2>&1 ||
  { cat .infra/k8s/balance-load.log >&2; die "purchases through one gateway pod failed"; }
workers=$(node -e 'const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  console.log(lines.find((l) => l.step === "load done").inventoryWorkers.join(" "))' <.infra/k8s/balance-load.log)
reached=$(for worker in $workers; do
  kubectl -n "$NS" exec flash-sale-infra-redis-0 -- redis-cli get "flashsale:snowflake-worker:$worker" | cut -d: -f1,2
done | sort -u)
inventory_pods=$(echo "$pods" | grep '^inventory:')
[ "$reached" = "$inventory_pods" ] ||
  die "one gateway pod's purchases were reserved by ($reached), not by every inventory pod ($inventory_pods)"
log "purchases through gateway $one_gateway were reserved by all $(echo "$reached" | wc -l) inventory pods"

step "metrics: every pod is annotated for scraping and serves the sale's figures"
# What a Prometheus that discovers pods by annotation reads, after the purchases above.
scraped=""
while read -r component ip scrape port path; do
  case "$component" in gateway | promotion | inventory | order | payment) ;; *) continue ;; esac
  [ "$scrape" = true ] || die "pod $ip ($component) is not annotated prometheus.io/scrape=true"
  body=$(curl -fsS --max-time 5 "http://$ip:$port$path") || die "$component pod $ip: no metrics at :$port$path"
  grep -q "service=\"$component\"" <<<"$body" || die "$component pod $ip: series without service=\"$component\""
  # Every method's started counter exists from the start (a code's handled counter only once a call ended with it).
  wanted=(grpc_server_started_total grpc_client_started_total)
  case "$component" in
    inventory) wanted=(grpc_server_started_total flashsale_stock_available flashsale_reservations_total flashsale_outbox_pending kafka_consumergroup_lag) ;;
    order) wanted=(grpc_server_started_total grpc_client_started_total flashsale_order_accept_to_row_seconds_count flashsale_outbox_pending kafka_consumergroup_lag) ;;
    payment) wanted=(grpc_server_started_total grpc_client_started_total flashsale_outbox_pending kafka_consumergroup_lag) ;;
    promotion) wanted=(grpc_server_started_total grpc_client_started_total) ;;
  esac
  for metric in "${wanted[@]}"; do
    grep -q "^$metric{" <<<"$body" || die "$component pod $ip: no $metric"
  done
  scraped+="$component "
done < <(kubectl -n "$NS" get pods -l app.kubernetes.io/instance=flash-sale -o jsonpath='{range .items[*]}{.metadata.labels.app\.kubernetes\.io/component}{" "}{.status.podIP}{" "}{.metadata.annotations.prometheus\.io/scrape}{" "}{.metadata.annotations.prometheus\.io/port}{" "}{.metadata.annotations.prometheus\.io/path}{"\n"}{end}')
for component in gateway promotion inventory order payment; do
  grep -q "$component" <<<"$scraped" || die "no $component pod was scraped"
done
accepted=$(for ip in $(kubectl -n "$NS" get pods -l "$inventory_selector" -o jsonpath='{.items[*].status.podIP}'); do
  curl -fsS --max-time 5 "http://$ip:9090/metrics" | grep '^flashsale_reservations_total{' | grep 'outcome="accepted"'
done | awk '{ sum += $NF } END { print sum + 0 }')
[ "$accepted" -gt 0 ] || die "the inventory pods counted no accepted purchase"
log "scraped by annotation: $(wc -w <<<"$scraped") pods; inventory counted $accepted accepted purchases"

step "upgrade with a changed value, under a purchase load"
gateway_ip=$(kubectl -n "$NS" get service flash-sale-gateway -o jsonpath='{.spec.clusterIP}')
before=$(kubectl -n "$NS" get pods -l app.kubernetes.io/instance=flash-sale -o name | sort)
GATEWAY_URL="http://$gateway_ip:8080" JWT_SECRET="$jwt" node scripts/smoke.js --load 75 >.infra/k8s/upgrade-load.log 2>&1 &
load=$!
sleep 5
helm upgrade flash-sale "$CHART" -n "$NS" --reuse-values --set config.logLevel=debug --wait --wait-for-jobs --timeout 10m
wait "$load" || {
  cat .infra/k8s/upgrade-load.log >&2
  die "purchases failed while the pods rolled"
}
grep -E '"load done"|"orders checked"' .infra/k8s/upgrade-load.log
after=$(kubectl -n "$NS" get pods -l app.kubernetes.io/instance=flash-sale -o name | sort)
[ -z "$(comm -12 <(echo "$before") <(echo "$after"))" ] || die "some pods were not replaced by the upgrade"
[ "$(kubectl -n "$NS" get configmap flash-sale-config -o jsonpath='{.data.LOG_LEVEL}')" = debug ] ||
  die "the upgrade did not change LOG_LEVEL"
# The hook Job ran again before the upgrade and kept every certificate that was still good.
[ "$(certificate_digests)" = "$certificates_at_install" ] || die "the upgrade changed certificates: $(certificate_digests)"
log "every pod replaced, no purchase failed, LOG_LEVEL=debug, every certificate kept"

step "rollback"
helm rollback flash-sale 1 -n "$NS" --wait --timeout 10m
[ "$(kubectl -n "$NS" get configmap flash-sale-config -o jsonpath='{.data.LOG_LEVEL}')" = info ] ||
  die "the rollback did not restore LOG_LEVEL"
expect_ready "$NS" flash-sale
helm_test "$NS" flash-sale
[ "$(certificate_digests)" = "$certificates_at_install" ] || die "the rollback changed certificates"
helm history flash-sale -n "$NS"

step "PodDisruptionBudget: a voluntary eviction is allowed, a second one in a row is refused"
evict() { # pod: asks the Eviction API, as kubectl drain does
  printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"%s","namespace":"%s"}}' "$1" "$NS" |
    kubectl create --raw "/api/v1/namespaces/$NS/pods/$1/eviction" -f - >/dev/null 2>.infra/k8s/eviction.err
}
mapfile -t victims < <(kubectl -n "$NS" get pods -l app.kubernetes.io/instance=flash-sale,app.kubernetes.io/component=inventory \
  -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
evict "${victims[0]}" || die "the first eviction was refused: $(cat .infra/k8s/eviction.err)"
if evict "${victims[1]}"; then die "the PodDisruptionBudget let a second inventory pod be evicted at once"; fi
grep -q 'disruption budget' .infra/k8s/eviction.err || die "unexpected refusal: $(cat .infra/k8s/eviction.err)"
log "second eviction refused: $(tr -d '\n' <.infra/k8s/eviction.err | cut -c1-160)"
kubectl -n "$NS" rollout status deployment/flash-sale-inventory --timeout=180s >/dev/null

step "uninstall"
helm uninstall flash-sale -n "$NS" --wait --timeout 5m
expect_nothing_left "$NS" flash-sale

step "values file ci/in-cluster-values.yaml (policies narrowed to the infrastructure's pods)"
install_and_test "$NS" flash-sale -f "$CHART/ci/in-cluster-values.yaml"
helm uninstall flash-sale -n "$NS" --wait --timeout 5m
expect_nothing_left "$NS" flash-sale

step "values file ci/envoy-values.yaml (Envoy front, its pods on kwok nodes)"
install_release "$NS" flash-sale -f "$CHART/ci/envoy-values.yaml"
# No tokens here: the test pod's checks without one (a public read through to PostgreSQL, 401 for missing and
# forged tokens), as a user's `helm test` runs by default.
helm test flash-sale -n "$NS" --timeout 5m
kubectl -n "$NS" get pods -l app.kubernetes.io/component=envoy -o wide
[ "$(kubectl -n "$NS" get deployment flash-sale-envoy -o jsonpath='{.status.readyReplicas}')" = 2 ] ||
  die "the Envoy front is not Ready"
helm uninstall flash-sale -n "$NS" --wait --timeout 5m
expect_nothing_left "$NS" flash-sale

# Pods on kwok nodes are simulated: their Service endpoints answer nothing, so no `helm test` here. The hook Jobs
# run on the real node (jobs.tolerations is empty).
step "values file ci/autoscaling-values.yaml (HPAs, three replicas strictly spread over three zones)"
install_release "$NS" flash-sale -f "$CHART/ci/autoscaling-values.yaml"
for component in gateway promotion inventory order payment; do
  kubectl -n "$NS" get hpa "flash-sale-$component" >/dev/null
  # The HPA raises each Deployment to its minReplicas (3).
  kubectl -n "$NS" wait "deployment/flash-sale-$component" --for=jsonpath='{.status.readyReplicas}'=3 --timeout=180s >/dev/null
  zones=$(kubectl -n "$NS" get pods -l "app.kubernetes.io/instance=flash-sale,app.kubernetes.io/component=$component" \
    -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' |
    xargs -I{} kubectl get node {} -o jsonpath='{.metadata.labels.topology\.kubernetes\.io/zone}{"\n"}' | sort -u | wc -l)
  [ "$zones" -eq 3 ] || die "$component's pods are in $zones zones, not 3"
done
kubectl -n "$NS" get hpa
log "each component: an HPA, 3 Ready pods in 3 zones"
helm uninstall flash-sale -n "$NS" --wait --timeout 5m
expect_nothing_left "$NS" flash-sale
helm uninstall flash-sale-infra -n "$NS" --wait --timeout 5m
expect_nothing_left "$NS" flash-sale-infra

step "values file ci/external-values.yaml (infrastructure on the host, reached through the bridge)"
"${external_infra[@]}" bash scripts/infra.sh up
install_and_test "$EXTERNAL_NS" flash-sale -f "$CHART/ci/external-values.yaml"
helm uninstall flash-sale -n "$EXTERNAL_NS" --wait --timeout 5m
expect_nothing_left "$EXTERNAL_NS" flash-sale

step "done"
