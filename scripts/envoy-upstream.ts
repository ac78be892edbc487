/**
 * The Envoy front's upstream clusters, one per service, and their mTLS: Envoy presents the `envoy` workload's
 * certificate and accepts a service only when its certificate names that service's SPIFFE ID.
 */

/** Upstream mTLS settings; absent when MTLS_MODE=off (the user's own mesh encrypts, and services serve plaintext). */
export interface UpstreamTls {
  /** Where the `envoy` workload's Secret is mounted: tls.crt, tls.key, ca.crt. */
  tlsDir: string;
  /** Where Envoy's container sees the SDS files below (beside envoy.yaml). */
  configDir: string;
  /** The SPIFFE ID the certificate of a workload (promotion, inventory, ...) must carry as its URI SAN. */
  spiffeId: (workload: string) => string;
}

const SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
/** SDS resource names and the files that hold them. */
const CERTIFICATE = { name: 'envoy-certificate', file: 'sds-certificate.yaml' };
const TRUST = { name: 'mesh-ca', file: 'sds-ca.yaml' };

/**
 * The SDS files the clusters read. Certificates come through SDS, not inline, because only SDS-delivered file
 * secrets are re-read when they change: `watched_directory` catches Kubernetes' atomic swap of the mounted Secret,
 * so a renewed certificate is used by new connections with no restart.
 */
export function sdsFiles(tls: UpstreamTls): Record<string, unknown> {
  const watched_directory = { path: tls.tlsDir };
  return {
    [CERTIFICATE.file]: {
      resources: [
        {
          '@type': SECRET_TYPE,
          name: CERTIFICATE.name,
          tls_certificate: {
            certificate_chain: { filename: `${tls.tlsDir}/tls.crt` },
            private_key: { filename: `${tls.tlsDir}/tls.key` },
            watched_directory,
          },
        },
      ],
    },
    [TRUST.file]: {
      resources: [
        {
          '@type': SECRET_TYPE,
          name: TRUST.name,
          validation_context: { trusted_ca: { filename: `${tls.tlsDir}/ca.crt` }, watched_directory },
        },
      ],
    },
  };
}

const sds = (tls: UpstreamTls, secret: { name: string; file: string }) => ({
  name: secret.name,
  sds_config: { path_config_source: { path: `${tls.configDir}/${secret.file}` }, resource_api_version: 'V3' },
});

function transportSocket(workload: string, tls: UpstreamTls) {
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      common_tls_context: {
        // gRPC servers speak HTTP/2 over TLS only when it is negotiated.
        alpn_protocols: ['h2'],
        tls_certificate_sds_secret_configs: [sds(tls, CERTIFICATE)],
        combined_validation_context: {
          // The CA alone would accept any workload of the mesh; the SAN pins the one this cluster is for.
          default_validation_context: {
            match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { exact: tls.spiffeId(workload) } }],
          },
          validation_context_sds_secret_config: sds(tls, TRUST),
        },
      },
    },
  };
}

/** One service's cluster: `name` is the workload (promotion, inventory, order, payment), `address` its host:port. */
export function cluster(name: string, address: string, tls: UpstreamTls | undefined) {
  const [host, port] = address.split(':');
  return {
    name,
    type: 'STRICT_DNS',
    connect_timeout: '1s',
    lb_policy: 'ROUND_ROBIN',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: { connection_keepalive: { interval: '30s', timeout: '10s' } } },
      },
    },
    ...(tls ? { transport_socket: transportSocket(name, tls) } : {}),
    load_assignment: {
      cluster_name: name,
      endpoints: [
        { lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: Number(port) } } } }] },
      ],
    },
    health_checks: [
      { timeout: '1s', interval: '5s', unhealthy_threshold: 2, healthy_threshold: 1, grpc_health_check: {} },
    ],
    circuit_breakers: {
      thresholds: [{ max_connections: 1024, max_pending_requests: 1024, max_requests: 4096, max_retries: 16 }],
    },
    outlier_detection: { consecutive_5xx: 5, base_ejection_time: '10s' },
  };
}
