/**
 * Writes the Envoy front's configuration: gRPC-JSON transcoding of exactly the methods proto/ annotates with
 * google.api.http, from the same descriptor set the services load (`npm run generate` builds it with buf).
 *
 *   npx tsx --tsconfig tsconfig.source.json scripts/envoy-config.ts [out.yaml]
 *
 * Env: ENVOY_PORT (8080), ENVOY_DESCRIPTOR (path of flashsale.binpb inside the Envoy container),
 * ENVOY_JWKS (path of the JWKS file), and <SERVICE>_ADDR host:port per upstream (Kubernetes Service names by
 * default). tools/envoy-check validates the result with Envoy's own API types (go-control-plane).
 */
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { descriptorSetPath, meshHttpRules, type HttpRule } from '@flash-sale/contracts';

export interface EnvoyOptions {
  port: number;
  descriptorPath: string;
  jwksPath: string;
  /** host:port by short service name (promotion, inventory, order, payment). */
  upstreams: Record<string, string>;
  upstreamTimeoutMs: number;
}

/** `flashsale.order.v1.OrderService.GetOrder` -> `flashsale.order.v1.OrderService`. */
const serviceOf = (rpc: string) => rpc.slice(0, rpc.lastIndexOf('.'));
/** `flashsale.order.v1.OrderService` -> `order`. */
const shortName = (service: string) => service.split('.')[1]!;

export function envoyConfig(rules: readonly HttpRule[], options: EnvoyOptions): Record<string, unknown> {
  const services = [...new Set(rules.map((rule) => serviceOf(rule.rpc)))].sort();
  const timeout = `${options.upstreamTimeoutMs / 1000}s`;
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 9901 } } },
    static_resources: {
      listeners: [
        {
          name: 'http',
          address: { socket_address: { address: '0.0.0.0', port_value: options.port } },
          filter_chains: [{ filters: [httpConnectionManager(services, options, timeout)] }],
        },
      ],
      clusters: services.map((service) => cluster(shortName(service), options.upstreams[shortName(service)]!)),
    },
  };
}

function httpConnectionManager(services: string[], options: EnvoyOptions, timeout: string) {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: 'flashsale',
      codec_type: 'AUTO',
      use_remote_address: true,
      generate_request_id: true,
      request_timeout: '15s',
      common_http_protocol_options: { idle_timeout: '300s' },
      route_config: {
        name: 'mesh',
        virtual_hosts: [
          {
            name: 'mesh',
            domains: ['*'],
            // After transcoding, requests carry their gRPC path: /<service>/<method>.
            routes: services.map((service) => ({
              match: { prefix: `/${service}/` },
              route: {
                cluster: shortName(service),
                timeout,
                retry_policy: { retry_on: 'unavailable', num_retries: 1 },
              },
            })),
          },
        ],
      },
      http_filters: [
        {
          // Identity headers come only from a verified token, never from the client.
          name: 'envoy.filters.http.header_mutation',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation',
            mutations: { request_mutations: [{ remove: 'x-user-id' }, { remove: 'x-user-roles' }] },
          },
        },
        {
          name: 'envoy.filters.http.jwt_authn',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
            providers: {
              mesh: {
                local_jwks: { filename: options.jwksPath },
                forward: false,
                clock_skew_seconds: 30,
                claim_to_headers: [
                  { header_name: 'x-user-id', claim_name: 'sub' },
                  { header_name: 'x-user-roles', claim_name: 'roles' },
                ],
              },
            },
            // A token, when sent, must be valid; without one the services see no caller and refuse what needs one.
            rules: [
              {
                match: { prefix: '/' },
                requires: { requires_any: { requirements: [{ provider_name: 'mesh' }, { allow_missing: {} }] } },
              },
            ],
          },
        },
        {
          name: 'envoy.filters.http.grpc_json_transcoder',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder',
            proto_descriptor: options.descriptorPath,
            services,
            convert_grpc_status: true,
            print_options: { always_print_primitive_fields: true, always_print_enums_as_ints: false },
            request_validation_options: { reject_unknown_method: true, reject_unknown_query_parameters: true },
          },
        },
        {
          name: 'envoy.filters.http.router',
          typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
        },
      ],
    },
  };
}

function cluster(name: string, address: string) {
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

if (require.main === module) {
  const env = process.env;
  const options: EnvoyOptions = {
    port: Number(env.ENVOY_PORT ?? 8080),
    descriptorPath: env.ENVOY_DESCRIPTOR ?? '/etc/envoy/flashsale.binpb',
    jwksPath: env.ENVOY_JWKS ?? '/etc/envoy/jwks/jwks.json',
    upstreams: {
      promotion: env.PROMOTION_ADDR ?? 'promotion:50051',
      inventory: env.INVENTORY_ADDR ?? 'inventory:50052',
      order: env.ORDER_ADDR ?? 'order:50053',
      payment: env.PAYMENT_ADDR ?? 'payment:50054',
    },
    upstreamTimeoutMs: Number(env.UPSTREAM_TIMEOUT_MS ?? 3000),
  };
  const yaml = `# Generated by scripts/envoy-config.ts from proto/ (google.api.http); do not edit.\n${stringify(envoyConfig(meshHttpRules(descriptorSetPath), options))}`;
  const out = process.argv[2];
  if (out) writeFileSync(out, yaml);
  else process.stdout.write(yaml);
}
