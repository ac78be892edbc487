import {
  Metadata,
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientOptions,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import type { ClientTransport } from './mesh-tls';
import { CLIENT_OPTIONS } from './options';

type ClientConstructor<C extends Client> = new (
  address: string,
  creds: ChannelCredentials,
  options?: ClientOptions,
) => C;

/**
 * One channel per upstream, created once and reused for every call. `transport` says how to reach it: the
 * process's MeshTransport gives mTLS that checks the upstream is the workload it should be (`client(workload)`).
 * `options` may add client interceptors, such as `GrpcMetrics.clientInterceptor`.
 */
export function createClient<C extends Client>(
  Ctor: ClientConstructor<C>,
  address: string,
  transport: ClientTransport,
  options: ClientOptions = {},
): C {
  return new Ctor(address, transport.credentials, { ...CLIENT_OPTIONS, ...transport.options, ...options });
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
