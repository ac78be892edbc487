import { loadPackageDefinition, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';
import type { ClientTransport } from './mesh-tls';
import { CLIENT_OPTIONS } from './options';

type HealthClient = Client & {
  check(
    request: { service: string },
    options: { deadline: Date },
    callback: (error: ServiceError | null, response: { status: string }) => void,
  ): void;
};
type HealthClientConstructor = new (address: string, creds: ChannelCredentials, options: object) => HealthClient;

let constructor: HealthClientConstructor | undefined;

function healthClientConstructor(): HealthClientConstructor {
  if (!constructor) {
    const definition = loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
      grpc: { health: { v1: { Health: HealthClientConstructor } } };
    };
    constructor = definition.grpc.health.v1.Health;
  }
  return constructor;
}

/** A `grpc.health.v1.Health` client for one address, e.g. for readiness checks of upstreams. */
export function createHealthClient(address: string, transport: ClientTransport): HealthClient {
  return new (healthClientConstructor())(address, transport.credentials, { ...CLIENT_OPTIONS, ...transport.options });
}

/** True when the server answers SERVING for `service` ('' = the whole server) within `timeoutMs`. */
export function isServing(client: HealthClient, service = '', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    client.check({ service }, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) =>
      resolve(!error && response.status === 'SERVING'),
    );
  });
}
