# Certificates and kubeconfigs for scripts/k8s/cluster.sh (sourced). Made once with openssl; kept
# across down/up. One CA signs everything; identities follow Kubernetes' default RBAC bindings.
# shellcheck shell=bash

# cert NAME SUBJECT [SANS]: NAME.key/NAME.crt signed by the CA, usable for server and client auth.
cert() {
  local name=$1 subj=$2 sans=${3:-}
  [ -s "$PKI/$name.crt" ] && return 0
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } > "$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

# kubeconfig FILE CERT_NAME: a kubeconfig for the apiserver on loopback, credentials embedded.
kubeconfig() {
  local file=$1 who=$2
  cat > "$file.new" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: flashsale-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 < "$PKI/ca.crt")
users:
- name: $who
  user:
    client-certificate-data: $(base64 -w0 < "$PKI/$who.crt")
    client-key-data: $(base64 -w0 < "$PKI/$who.key")
contexts:
- name: flashsale-local
  context: {cluster: flashsale-local, user: $who}
current-context: flashsale-local
YAML
  chmod 600 "$file.new"
  settle "$file"
}

make_pki() {
  mkdir -p "$PKI" "$CONF"
  chmod 700 "$PKI"
  if [ ! -s "$PKI/ca.crt" ]; then
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
      -days 3650 -sha256 -subj "/CN=flashsale-local-k8s-ca" 2>/dev/null
  fi
  if [ ! -s "$PKI/sa.key" ]; then
    openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  fi
  local svc_ip
  svc_ip=$(python3 -c "import ipaddress,sys; print(ipaddress.ip_network(sys.argv[1])[1])" "$SERVICE_CIDR")
  cert apiserver "/CN=kube-apiserver" \
    "IP:127.0.0.1,IP:$svc_ip,IP:$GATEWAY,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$DOMAIN"
  cert admin "/O=system:masters/CN=kubernetes-admin"
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  cert controller-manager "/CN=system:kube-controller-manager"
  cert scheduler "/CN=system:kube-scheduler"
  cert kube-proxy "/CN=system:kube-proxy"
  cert kubelet-client "/O=system:nodes/CN=system:node:$NODE"
  cert kubelet-serving "/CN=$NODE" "IP:$NODE_IP,IP:127.0.0.1,DNS:$NODE,DNS:localhost"
  kubeconfig "$ADMIN_KUBECONFIG" admin
  kubeconfig "$CONF/controller-manager.kubeconfig" controller-manager
  kubeconfig "$CONF/scheduler.kubeconfig" scheduler
  kubeconfig "$CONF/kube-proxy.kubeconfig" kube-proxy
  kubeconfig "$CONF/kubelet.kubeconfig" kubelet-client
}
