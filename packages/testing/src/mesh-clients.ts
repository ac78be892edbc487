import type { ChannelOptions, Client, ChannelCredentials, ServiceDefinition } from '@grpc/grpc-js';
import { ACCESS_POLICY_PATH, loadConfig, meshEnv, z, type MeshWorkload } from '@flash-sale/config';
import {
  callersOf,
  createClient,
  loadAccessPolicy,
  meshTransport,
  plaintextTransport,
  type AccessPolicy,
  type MeshTransport,
} from '@flash-sale/grpc-kit';
import { createLogger } from '@flash-sale/logging';

const transports = new Map<MeshWorkload, MeshTransport>();

/**
 * A workload's side of mTLS for a test: its certificate from the local PKI under .infra/pki, which
 * `bash scripts/infra.sh up` creates (as for every other process started locally). One per workload per test process.
 */
export function testTransport(workload: MeshWorkload): MeshTransport {
  let transport = transports.get(workload);
  if (!transport) {
    const config = loadConfig(z.object(meshEnv(workload)), {});
    const logger = createLogger({ service: `test-${workload}`, level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    transport = meshTransport(config, workload, logger);
    transports.set(workload, transport);
  }
  return transport;
}

let policy: AccessPolicy | undefined;

/**
 * The workload a test calls `path` (`/package.Service/Method`) as: the gateway for a public method (a front, so the
 * caller metadata tests send is honoured), else the first workload the allow-list names. A method nobody may call is
 * called as the gateway and refused, as it would be in the mesh.
 */
export function callerFor(path: string): MeshWorkload {
  policy ??= loadAccessPolicy(ACCESS_POLICY_PATH);
  const [service = '', method = ''] = path.slice(1).split('/');
  const allowed = callersOf(policy, service, method);
  if (allowed.has('gateway') || allowed.size === 0) return 'gateway';
  return [...allowed][0]!;
}

type ServiceClientConstructor<C extends Client> = {
  new (address: string, credentials: ChannelCredentials, options?: ChannelOptions): C;
  service: ServiceDefinition;
};

export interface MeshClientOptions {
  /** `off`: plaintext, for a service a test started with MTLS_MODE=off. */
  mtls?: 'on' | 'off';
  channel?: ChannelOptions;
}

/**
 * A client of one service for tests that drive it directly, over mTLS: each method is called on a channel of its
 * own identity, as the allow-list says the mesh calls it (see callerFor). So a test of the inventory service calls
 * PrepareSale as the promotion service and Reserve as the gateway, through the real authorization.
 */
export function meshClient<C extends Client>(
  Ctor: ServiceClientConstructor<C>,
  address: string,
  options: MeshClientOptions = {},
): C {
  const definition = Ctor.service;
  const methods = Object.keys(definition);
  const target = serverOf(definition);
  const channels = new Map<MeshWorkload, C>();
  const channel = (workload: MeshWorkload) => {
    let client = channels.get(workload);
    if (!client) {
      const transport = options.mtls === 'off' ? plaintextTransport() : testTransport(workload);
      client = createClient(Ctor, address, transport.client(target), options.channel);
      channels.set(workload, client);
    }
    return client;
  };
  return new Proxy({} as C, {
    get(_target, property) {
      if (property === 'close') return () => channels.forEach((client) => client.close());
      const name = String(property);
      const client = channel(methods.includes(name) ? callerFor(definition[name]!.path) : 'gateway');
      const value = (client as unknown as Record<string | symbol, unknown>)[property];
      return typeof value === 'function' ? value.bind(client) : value;
    },
  });
}

/** The workload that serves a service, by the allow-list. */
function serverOf(definition: ServiceDefinition): MeshWorkload {
  policy ??= loadAccessPolicy(ACCESS_POLICY_PATH);
  const path = Object.values(definition)[0]!.path;
  const service = path.slice(1, path.lastIndexOf('/'));
  const entry = policy.services[service];
  if (!entry) throw new Error(`${service} is not in the access policy`);
  return entry.workload;
}
