# Config files and host networking for scripts/k8s/cluster.sh (sourced). `up` replaces a config
# only when its content changed (kube-proxy exits when its file is touched); running components keep
# the config they started with, so after editing this file run `down` then `up`.
# shellcheck shell=bash

# settle FILE: FILE.new becomes FILE when it differs from it.
settle() {
  if cmp -s "$1.new" "$1"; then rm -f "$1.new"; else mv "$1.new" "$1"; fi
}

write_containerd_config() {
  mkdir -p "$K/containerd" "$K/cni/net.d" "$K/cni/ipam"
  local f=$K/containerd/config.toml
  # containerd's own defaults, with every path moved under $K (so it never meets Docker's
  # containerd) and the settings this machine needs (see /work/shared/toolchain.md).
  containerd config default | sed \
    -e "s#^root = \"/var/lib/containerd\"#root = \"$K/containerd/root\"#" \
    -e "s#^state = \"/run/containerd\"#state = \"$K/containerd/state\"#" \
    -e "s#address = \"/run/containerd/containerd.sock\"#address = \"$CONTAINERD_SOCK\"#" \
    -e "s#path = \"/opt/containerd\"#path = \"$K/containerd/opt\"#" \
    -e "s#sandbox_image = \".*\"#sandbox_image = \"$PAUSE_IMAGE\"#" \
    -e "s#restrict_oom_score_adj = false#restrict_oom_score_adj = true#" \
    -e "s#disable_apparmor = false#disable_apparmor = true#" \
    -e "s#netns_mounts_under_state_dir = false#netns_mounts_under_state_dir = true#" \
    -e "s#bin_dir = \"/opt/cni/bin\"#bin_dir = \"/usr/lib/cni\"#" \
    -e "s#conf_dir = \"/etc/cni/net.d\"#conf_dir = \"$K/cni/net.d\"#" > "$f.new"
  local want
  for want in "root = \"$K/containerd/root\"" "address = \"$CONTAINERD_SOCK\"" "sandbox_image = \"$PAUSE_IMAGE\"" \
      "restrict_oom_score_adj = true" "disable_apparmor = true" "netns_mounts_under_state_dir = true" \
      'bin_dir = "/usr/lib/cni"' "conf_dir = \"$K/cni/net.d\""; do
    grep -qF "$want" "$f.new" || die "containerd config: could not set '$want' (containerd's defaults changed?)"
  done
  settle "$f"
  cat > "$K/cni/net.d/10-flashk8s.conflist.new" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "flashk8s",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$K/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$GATEWAY" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
  settle "$K/cni/net.d/10-flashk8s.conflist"
}

write_kubelet_config() {
  mkdir -p "$K/kubelet"
  cat > "$CONF/kubelet.yaml.new" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDNS: [$DNS_IP]
clusterDomain: $DOMAIN
enforceNodeAllocatable: []
evictionHard: {}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
volumePluginDir: $K/kubelet/volume-plugins
shutdownGracePeriod: 0s
serializeImagePulls: false
YAML
  settle "$CONF/kubelet.yaml"
}

write_kube_proxy_config() {
  # NodePorts only on the bridge address, and no conntrack or route_localnet sysctls: the host's
  # other interfaces and settings stay as they are.
  cat > "$CONF/kube-proxy.yaml.new" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $CONF/kube-proxy.kubeconfig}
hostnameOverride: $NODE
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$GATEWAY/32"]
iptables: {masqueradeAll: true, localhostNodePorts: false}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  settle "$CONF/kube-proxy.yaml"
}

write_coredns_config() {
  # cluster.local from the API; every other name gets NXDOMAIN at once (nothing is forwarded).
  cat > "$CONF/Corefile.new" <<EOF2
$DOMAIN:53 {
    bind $DNS_IP
    errors
    ready 127.0.0.1:$COREDNS_READY_PORT
    kubernetes $DOMAIN {
        kubeconfig $ADMIN_KUBECONFIG
        pods insecure
    }
    cache 5
    loadbalance
}
.:53 {
    bind $DNS_IP
    template ANY ANY {
        rcode NXDOMAIN
    }
}
EOF2
  settle "$CONF/Corefile"
}

# The bridge with its gateway address exists from `up` on (before any pod), so host processes can
# listen on $GATEWAY. Service and fake-pod addresses are routed onto the bridge, and forwarded
# traffic from the bridge may not leave by another interface: pods reach the host and each other only.
FORWARD_RULE=(FORWARD -i "$BRIDGE" ! -o "$BRIDGE" -m comment --comment flashk8s-isolation -j DROP)
network_up() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  ip addr replace "$GATEWAY/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  ip route replace "$SERVICE_CIDR" dev "$BRIDGE"
  ip route replace "$FAKE_POD_CIDR" dev "$BRIDGE"
  iptables -C "${FORWARD_RULE[@]}" 2>/dev/null || iptables -I "${FORWARD_RULE[@]}"
}
network_down() {
  while iptables -D "${FORWARD_RULE[@]}" 2>/dev/null; do :; done
  # kubelet's own chains (kube-proxy --cleanup removes kube-proxy's): KUBE-FIREWALL would keep
  # filtering the host's loopback traffic after the cluster is gone.
  local ipt t ch
  for ipt in iptables ip6tables; do
    while $ipt -t filter -D INPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
    while $ipt -t filter -D OUTPUT -j KUBE-FIREWALL 2>/dev/null; do :; done
    for t in filter nat mangle; do
      for ch in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT; do
        if $ipt -t "$t" -F "$ch" 2>/dev/null; then $ipt -t "$t" -X "$ch" 2>/dev/null || true; fi
      done
    done
  done
  ip route del "$SERVICE_CIDR" dev "$BRIDGE" 2>/dev/null || true
  ip route del "$FAKE_POD_CIDR" dev "$BRIDGE" 2>/dev/null || true
  ip link del "$BRIDGE" 2>/dev/null || true
}
