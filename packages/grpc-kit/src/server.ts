import { readFileSync } from 'node:fs';
import {
  Server,
  type ServerInterceptor,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '@flash-sale/logging';
import type { GrpcMetrics } from './grpc-metrics';
import { plaintextTransport, type MeshTransport } from './mesh-tls';
import { MAX_CONNECTION_AGE_MS, SERVER_OPTIONS } from './options';
import { addReflection } from './reflection';

export interface ServiceBinding {
  /** Fully qualified name, e.g. `flashsale.order.v1.OrderService`, used for its health status. */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  services: ServiceBinding[];
  /** The FileDescriptorSet of our protos, served by server reflection. */
  descriptorSetPath: string;
  logger: Logger;
  /** Each client connection is asked to reconnect after this long (0: never); default MAX_CONNECTION_AGE_MS. */
  maxConnectionAgeMs?: number;
  /** How connections are accepted: mutual TLS or plaintext (the default, for tests of the server alone). */
  transport?: MeshTransport;
  /** Run on every call before its handler (the allow-list, see authorizationInterceptor). */
  interceptors?: ServerInterceptor[];
  /** Counts every call of `services` (RED metrics, see GrpcMetrics), refusals of the interceptors included. */
  metrics?: GrpcMetrics;
}

export interface RunningGrpcServer {
  port: number;
  health: HealthImplementation;
  /** Marks every service NOT_SERVING, drains in-flight calls for up to `graceMs`, then forces the rest. */
  shutdown(graceMs: number): Promise<void>;
}

/** Starts a gRPC server with our services, `grpc.health.v1.Health` and server reflection. */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const maxAgeMs = options.maxConnectionAgeMs ?? MAX_CONNECTION_AGE_MS;
  const server = new Server({
    ...SERVER_OPTIONS,
    ...(maxAgeMs > 0 ? { 'grpc.max_connection_age_ms': maxAgeMs } : {}),
    interceptors: [
      ...(options.metrics ? [options.metrics.serverInterceptor(options.services.map((s) => s.definition))] : []),
      ...(options.interceptors ?? []),
    ],
  });
  const names = options.services.map((service) => service.name);
  const health = new HealthImplementation(Object.fromEntries(['', ...names].map((name) => [name, 'NOT_SERVING'])));
  health.addToServer(server);
  for (const service of options.services) server.addService(service.definition, service.implementation);

  addReflection(server, { descriptorSets: [readFileSync(options.descriptorSetPath)], services: names });

  const transport = options.transport ?? plaintextTransport();
  const listener = await transport.listen(server, options.host, options.port);
  const port = listener.port;
  for (const name of ['', ...names]) health.setStatus(name, 'SERVING');
  options.logger.info({ port, services: names, mtls: transport.mode }, 'grpc server listening');

  return {
    port,
    health,
    async shutdown(graceMs) {
      for (const name of ['', ...names]) health.setStatus(name, 'NOT_SERVING');
      listener.close();
      await drainServer(server, graceMs, options.logger);
    },
  };
}

/** Lets the calls in flight on `server` finish for up to `graceMs`, then cancels the rest. */
export function drainServer(server: Server, graceMs: number, logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      logger.warn({ graceMs }, 'grace period over; cancelling in-flight grpc calls');
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
