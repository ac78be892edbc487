import { Server, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { inventoryV1, orderV1, paymentV1, promotionV1 } from '@flash-sale/contracts';
import { ConfigError } from '@flash-sale/config';
import { addReflection, drainServer, SERVER_OPTIONS, type AccessPolicy, type GrpcMetrics } from '@flash-sale/grpc-kit';
import type { Route } from '../api/route-table';
import type { UpstreamName } from '../upstreams';
import { publicDescriptorSet } from './descriptors';
import { forwardMethod, type ForwardDependencies } from './forward';
import { doorCredentials } from './tls';

/** The services the gateway's upstream clients reach, by upstream. */
const UPSTREAM_SERVICES: Record<UpstreamName, ServiceDefinition> = {
  promotion: promotionV1.PromotionServiceService,
  inventory: inventoryV1.InventoryServiceService,
  order: orderV1.OrderServiceService,
  payment: paymentV1.PaymentServiceService,
};

export interface GrpcDoorOptions extends ForwardDependencies {
  host: string;
  port: number;
  /** `tls.crt` and `tls.key` of the door's server certificate. */
  tlsDir: string;
  /** The HTTP routes: their methods, and no others, are the door's (the public methods of proto/). */
  routes: readonly Route[];
  /** The mesh's FileDescriptorSet, from which reflection describes the public methods. */
  descriptorSet: Uint8Array;
  /** The largest request message accepted, in bytes (the HTTP side's body limit). */
  maxMessageBytes: number;
  /** The mesh's allow-list (and its file, for messages): its public methods must be the door's. */
  policy?: { policy: AccessPolicy; source: string };
  /** Counts the door's calls (the server side of the gRPC RED metrics). */
  metrics?: GrpcMetrics;
}

export interface RunningGrpcDoor {
  port: number;
  /** Health says NOT_SERVING, calls in flight finish for up to `graceMs`, then the rest are cancelled. */
  stop(graceMs: number): Promise<void>;
}

/**
 * The gRPC front door: gRPC over TLS for outside clients, serving exactly the public methods (those the HTTP side
 * routes, by their `google.api.http` annotations), each forwarded to the service that owns it. Any other method of
 * the mesh is UNIMPLEMENTED here, as it is not registered at all. Health and reflection list the public services.
 */
export async function startGrpcDoor(options: GrpcDoorOptions): Promise<RunningGrpcDoor> {
  const credentials = doorCredentials(options.tlsDir);
  const publicRpcs = new Set(options.routes.map((route) => route.spec.rpc));
  if (options.policy) checkAgainstPolicy(options.policy.policy, options.policy.source, publicRpcs);
  const specs = new Map(options.routes.map((route) => [route.spec.rpc, route.spec]));
  const services: { name: string; definition: ServiceDefinition; implementation: UntypedServiceImplementation }[] = [];
  for (const [upstream, service] of Object.entries(UPSTREAM_SERVICES) as [UpstreamName, ServiceDefinition][]) {
    const definition: Record<string, ServiceDefinition[string]> = {};
    const implementation: UntypedServiceImplementation = {};
    let serviceName = '';
    for (const [name, method] of Object.entries(service)) {
      const [service, methodName] = method.path.slice(1).split('/') as [string, string];
      serviceName = service;
      const spec = specs.get(`${service}.${methodName}`);
      if (!spec) continue;
      if (method.requestStream || method.responseStream) throw new Error(`${spec.rpc}: the door forwards unary calls`);
      specs.delete(spec.rpc);
      definition[name] = method;
      implementation[name] = forwardMethod(options, spec, upstream, name, method);
    }
    if (Object.keys(definition).length) services.push({ name: serviceName, definition, implementation });
  }
  if (specs.size) throw new Error(`the door has no upstream for ${[...specs.keys()].join(', ')}`);
  const server = new Server({
    ...SERVER_OPTIONS,
    'grpc.max_receive_message_length': options.maxMessageBytes,
    interceptors: options.metrics ? [options.metrics.serverInterceptor(services.map((s) => s.definition))] : [],
  });
  for (const { definition, implementation } of services) server.addService(definition, implementation);
  const served = services.map((service) => service.name);

  const health = new HealthImplementation(Object.fromEntries(['', ...served].map((name) => [name, 'SERVING'])));
  health.addToServer(server);
  addReflection(server, {
    descriptorSets: [publicDescriptorSet(options.descriptorSet, (rpc) => publicRpcs.has(rpc))],
    services: served,
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, credentials, (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  options.logger.info({ port, services: served }, 'grpc door listening');
  return {
    port,
    async stop(graceMs) {
      for (const name of ['', ...served]) health.setStatus(name, 'NOT_SERVING');
      await drainServer(server, graceMs, options.logger);
    },
  };
}

/** The door's methods and the allow-list's public ones are one set, or the gateway does not start. */
export function checkAgainstPolicy(policy: AccessPolicy, source: string, rpcs: ReadonlySet<string>): void {
  const listed = new Set(
    Object.entries(policy.services).flatMap(([service, { methods }]) =>
      Object.entries(methods)
        .filter(([, rule]) => rule.public)
        .map(([method]) => `${service}.${method}`),
    ),
  );
  const problems = [
    ...[...rpcs].filter((rpc) => !listed.has(rpc)).map((rpc) => `${rpc} has a google.api.http route but is not public`),
    ...[...listed].filter((rpc) => !rpcs.has(rpc)).map((rpc) => `${rpc} is public but has no google.api.http route`),
  ];
  if (problems.length) throw new ConfigError(problems.map((problem) => `${source}: ${problem}`));
}

/** `16kb` (the HTTP body limit's spelling) in bytes. */
export function bytesOf(limit: string): number {
  const match = /^(\d+)(b|kb|mb)$/.exec(limit);
  if (!match) throw new Error(`not a size: ${limit}`);
  return Number(match[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[match[2] as 'b' | 'kb' | 'mb'];
}
