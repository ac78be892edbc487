import {
  credentials,
  Metadata,
  type CallOptions,
  type ChannelOptions,
  type Client,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { CLIENT_OPTIONS } from './options';

type ClientConstructor<C extends Client> = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: ChannelOptions,
) => C;

/** One channel per upstream, created once and reused for every call. */
export function createClient<C extends Client>(
  Ctor: ClientConstructor<C>,
  address: string,
  options: ChannelOptions = {},
): C {
  return new Ctor(address, credentials.createInsecure(), { ...CLIENT_OPTIONS, ...options });
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

export interface CallSettings {
  /** Every upstream call has a deadline; there is no default of "forever". */
  timeoutMs: number;
  metadata?: Metadata;
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
      settings.metadata ?? new Metadata(),
      { deadline: new Date(Date.now() + settings.timeoutMs) },
      (error, response) => (error ? reject(error) : resolve(response)),
    );
  });
}
