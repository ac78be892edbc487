import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from '@flash-sale/logging';
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
  const server = new Server({ ...SERVER_OPTIONS, ...(maxAgeMs > 0 ? { 'grpc.max_connection_age_ms': maxAgeMs } : {}) });
  const names = options.services.map((service) => service.name);
  const health = new HealthImplementation(Object.fromEntries(['', ...names].map((name) => [name, 'NOT_SERVING'])));
  health.addToServer(server);
  for (const service of options.services) server.addService(service.definition, service.implementation);

  addReflection(server, { descriptorSets: [readFileSync(options.descriptorSetPath)], services: names });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  for (const name of ['', ...names]) health.setStatus(name, 'SERVING');
  options.logger.info({ port, services: names }, 'grpc server listening');

  return {
    port,
    health,
    async shutdown(graceMs) {
      for (const name of ['', ...names]) health.setStatus(name, 'NOT_SERVING');
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          options.logger.warn({ graceMs }, 'grace period over; cancelling in-flight grpc calls');
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
