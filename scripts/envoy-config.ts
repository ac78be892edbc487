/**
 * Writes the Envoy front's configuration: gRPC-JSON transcoding of exactly the methods proto/ annotates with
 * google.api.http (the public methods), from the same descriptor set the services load (`npm run generate`).
 * Only those methods have routes, every one needs a verified JWT, and the upstreams use mTLS unless MTLS_MODE=off.
 *
 *   npx tsx --tsconfig tsconfig.source.json scripts/envoy-config.ts <out-dir>
 *
 * Writes <out-dir>/envoy.yaml and, with mTLS on, the SDS files it names (sds-certificate.yaml, sds-ca.yaml).
 * Env: ENVOY_PORT (8080), ENVOY_DESCRIPTOR (path of flashsale.binpb inside the Envoy container), ENVOY_JWKS (path of
 * the JWKS file), ENVOY_CONFIG_DIR (where the container sees envoy.yaml and the SDS files, /etc/envoy), and
 * <SERVICE>_ADDR host:port per upstream (Kubernetes Service names by default); MTLS_MODE (on|off), TLS_DIR
 * (/etc/flash-sale/tls), SPIFFE_TRUST_DOMAIN, SPIFFE_NAMESPACE, SPIFFE_SA_PREFIX name the services' identities.
 * tools/envoy-check validates the result with Envoy's own API types (go-control-plane).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { descriptorSetPath, meshHttpRules, type HttpRule } from '@flash-sale/contracts';
import { cluster, sdsFiles, type UpstreamTls } from './envoy-upstream';

export interface EnvoyOptions {
  port: number;
  descriptorPath: string;
  jwksPath: string;
  /** host:port by short service name (promotion, inventory, order, payment). */
  upstreams: Record<string, string>;
  upstreamTimeoutMs: number;
  /** Upstream mTLS; undefined when MTLS_MODE=off. */
  tls: UpstreamTls | undefined;
}

/** The one path Envoy answers without a token: its own readiness, for kubelet's probes. */
export const HEALTH_PATH = '/healthz';

/** `flashsale.order.v1.OrderService.GetOrder` -> `flashsale.order.v1.OrderService`. */
const serviceOf = (rpc: string) => rpc.slice(0, rpc.lastIndexOf('.'));
/** `flashsale.order.v1.OrderService.GetOrder` -> `/flashsale.order.v1.OrderService/GetOrder`, its gRPC path. */
const grpcPath = (rpc: string) => `/${serviceOf(rpc)}/${rpc.slice(rpc.lastIndexOf('.') + 1)}`;
/** `flashsale.order.v1.OrderService` -> `order`. */
const shortName = (service: string) => service.split('.')[1]!;

export function envoyConfig(rules: readonly HttpRule[], options: EnvoyOptions): Record<string, unknown> {
  const services = [...new Set(rules.map((rule) => serviceOf(rule.rpc)))].sort();
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 9901 } } },
    static_resources: {
      listeners: [
        {
          name: 'http',
          address: { socket_address: { address: '0.0.0.0', port_value: options.port } },
          filter_chains: [{ filters: [httpConnectionManager(rules, services, options)] }],
        },
      ],
      clusters: services.map((service) =>
        cluster(shortName(service), options.upstreams[shortName(service)]!, options.tls),
      ),
    },
  };
}

/**
 * One exact route per public method. After transcoding a request carries its gRPC path; a gRPC client sends that
 * path itself, so a route per service prefix would hand it every internal method (ReserveBatch, PrepareSale, ...).
 */
function routes(rules: readonly HttpRule[], timeout: string) {
  return [...new Set(rules.map((rule) => rule.rpc))].sort().map((rpc) => ({
    match: { path: grpcPath(rpc) },
    route: {
      cluster: shortName(serviceOf(rpc)),
      timeout,
      retry_policy: { retry_on: 'unavailable', num_retries: 1 },
    },
  }));
}

function httpConnectionManager(rules: readonly HttpRule[], services: string[], options: EnvoyOptions) {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: 'flashsale',
      codec_type: 'AUTO',
      use_remote_address: true,
      generate_request_id: true,
      request_timeout: '15s',
      // Routes and JWT rules match the path as the upstream will see it, never an encoded or dotted variant of it.
      normalize_path: true,
      merge_slashes: true,
      path_with_escaped_slashes_action: 'REJECT_REQUEST',
      common_http_protocol_options: { idle_timeout: '300s' },
      route_config: {
        name: 'mesh',
        virtual_hosts: [
          { name: 'mesh', domains: ['*'], routes: routes(rules, `${options.upstreamTimeoutMs / 1000}s`) },
        ],
      },
      http_filters: httpFilters(services, options),
    },
  };
}

function httpFilters(services: string[], options: EnvoyOptions) {
  return [
    {
      // Answered here, before any token is asked for; fails while Envoy drains, so the pod leaves the Service.
      name: 'envoy.filters.http.health_check',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck',
        pass_through_mode: false,
        headers: [{ name: ':path', string_match: { exact: HEALTH_PATH } }],
      },
    },
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
            // The token stays at the edge: services trust the caller headers, from Envoy's identity only.
            forward: false,
            require_expiration: true,
            clock_skew_seconds: 30,
            payload_in_metadata: 'jwt_payload',
          },
        },
        // Every request needs a valid token; services never see an anonymous call from Envoy.
        rules: [{ match: { prefix: '/' }, requires: { provider_name: 'mesh' } }],
      },
    },
    {
      name: 'envoy.filters.http.lua',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua',
        default_source_code: { inline_string: readFileSync(path.join(__dirname, 'envoy-caller.lua'), 'utf8') },
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
  ];
}

/** envoy.yaml and, with mTLS on, the SDS files it reads: file name -> YAML text. */
export function envoyFiles(rules: readonly HttpRule[], options: EnvoyOptions): Record<string, string> {
  const header = '# Generated by scripts/envoy-config.ts from proto/ (google.api.http); do not edit.\n';
  const files: Record<string, unknown> = {
    'envoy.yaml': envoyConfig(rules, options),
    ...(options.tls ? sdsFiles(options.tls) : {}),
  };
  // Unwrapped, so the Lua source reads in envoy.yaml as it does in envoy-caller.lua.
  const yaml = (content: unknown) => header + stringify(content, { lineWidth: 0, blockQuote: 'literal' });
  return Object.fromEntries(Object.entries(files).map(([name, content]) => [name, yaml(content)]));
}

function optionsFromEnv(env: NodeJS.ProcessEnv): EnvoyOptions {
  const mode = env.MTLS_MODE ?? 'on';
  if (mode !== 'on' && mode !== 'off') throw new Error(`MTLS_MODE must be on or off, not ${mode}`);
  const trustDomain = env.SPIFFE_TRUST_DOMAIN ?? 'flash-sale.local';
  const namespace = env.SPIFFE_NAMESPACE ?? 'local';
  const prefix = env.SPIFFE_SA_PREFIX ?? 'flash-sale-';
  const configDir = env.ENVOY_CONFIG_DIR ?? '/etc/envoy';
  return {
    port: Number(env.ENVOY_PORT ?? 8080),
    descriptorPath: env.ENVOY_DESCRIPTOR ?? `${configDir}/flashsale.binpb`,
    jwksPath: env.ENVOY_JWKS ?? `${configDir}/jwks/jwks.json`,
    upstreams: {
      promotion: env.PROMOTION_ADDR ?? 'promotion:50051',
      inventory: env.INVENTORY_ADDR ?? 'inventory:50052',
      order: env.ORDER_ADDR ?? 'order:50053',
      payment: env.PAYMENT_ADDR ?? 'payment:50054',
    },
    upstreamTimeoutMs: Number(env.UPSTREAM_TIMEOUT_MS ?? 3000),
    tls:
      mode === 'off'
        ? undefined
        : {
            tlsDir: env.TLS_DIR ?? '/etc/flash-sale/tls',
            configDir,
            spiffeId: (workload) => `spiffe://${trustDomain}/ns/${namespace}/sa/${prefix}${workload}`,
          },
  };
}

if (require.main === module) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: envoy-config.ts <out-dir>');
  mkdirSync(out, { recursive: true });
  for (const [name, text] of Object.entries(envoyFiles(meshHttpRules(descriptorSetPath), optionsFromEnv(process.env))))
    writeFileSync(path.join(out, name), text);
}
