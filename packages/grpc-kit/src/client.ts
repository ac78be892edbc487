import {
  Metadata,
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientOptions,
  type ClientUnaryCall,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import type { GrpcMetrics } from './grpc-metrics';
import type { ClientTransport } from './mesh-tls';
import { CLIENT_OPTIONS } from './options';

/** A generated client (ts-proto's `XServiceClient`): a constructor that also names the service it calls. */
type ClientConstructor<C extends Client> = (new (
  address: string,
  creds: ChannelCredentials,
  options?: ClientOptions,
) => C) & {
  service: ServiceDefinition;
};

export interface CreateClientOptions extends ClientOptions {
  /** Counts every call of this client in these gRPC metrics (the client side of the RED metrics). */
  metrics?: GrpcMetrics | undefined;
}

/**
 * One channel per upstream, created once and reused for every call. `transport` says how to reach it: the
 * process's MeshTransport gives mTLS that checks the upstream is the workload it should be (`client(workload)`).
 * `options.metrics` counts the client's calls, by the methods of the service its constructor names; other options
 * go to grpc-js (more interceptors run after the counting one).
 */
export function createClient<C extends Client>(
  Ctor: ClientConstructor<C>,
  address: string,
  transport: ClientTransport,
  { metrics, ...options }: CreateClientOptions = {},
): C {
  const interceptors = [...(metrics ? [metrics.clientInterceptor(Ctor.service)] : []), ...(options.interceptors ?? [])];
  return new Ctor(address, transport.credentials, {
    ...CLIENT_OPTIONS,
    ...transport.options,
    ...options,
    ...(interceptors.length ? { interceptors } : {}),
  });
}

export type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

export interface CallSettings {
  /** Every upstream call has a deadline; there is no default of "forever". */
  timeoutMs: number;
  metadata?: Metadata;
  /**
   * Wait, within the deadline, for an upstream that is not connected yet (starting, restarting) instead of failing
   * at once with UNAVAILABLE. For calls between services, which have no retry of their own; the gateway fails fast
   * and retries through its circuit breaker instead.
   */
  waitForReady?: boolean;
}

/** Calls a unary method of a ts-proto grpc-js client and returns a promise, with a deadline. */
export function callUnary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  client: Client,
  request: Req,
  settings: CallSettings,
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    method.call(
      client,
      request,
      metadataFor(settings),
      { deadline: new Date(Date.now() + settings.timeoutMs) },
      (error, response) => (error ? reject(error) : resolve(response)),
    );
  });
}

/** grpc-js takes wait-for-ready as an option of the call's metadata. */
function metadataFor({ metadata, waitForReady }: CallSettings): Metadata {
  if (!waitForReady) return metadata ?? new Metadata();
  const waiting = metadata?.clone() ?? new Metadata();
  waiting.setOptions({ ...waiting.getOptions(), waitForReady: true });
  return waiting;
}
