import type { ChannelOptions } from '@grpc/grpc-js';

/**
 * How long a server keeps one client connection before asking it to reconnect (GOAWAY; calls in flight finish, for
 * up to the grace after it). Clients resolve the address again when that happens, so pods a Deployment added since
 * get their share of the calls within about this long (see CLIENT_OPTIONS).
 */
export const MAX_CONNECTION_AGE_MS = 30_000;

/**
 * Keepalive settings that clients and servers agree on: clients ping every 30 s; servers allow pings that
 * often even without calls in flight, so idle gateway channels are never closed with ENHANCE_YOUR_CALM.
 *
 * Calls are balanced per call over every address the name resolves to (`round_robin`): in Kubernetes the chart
 * gives clients headless Services, whose names resolve to the ready pods, so one gateway spreads its calls over all
 * inventory pods instead of holding one connection to whichever pod a Service's virtual IP chose. An address that is
 * one IP (local runs) is one connection, as before. DNS TXT records are not read for a service config.
 */
export const CLIENT_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  'grpc.service_config_disable_resolution': 1,
  // Resolving again is asked for whenever a connection closes; at most this often.
  'grpc.dns_min_time_between_resolutions_ms': 5_000,
};

export const SERVER_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.http2.min_ping_interval_without_data_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
  'grpc.max_connection_age_grace_ms': 10_000,
};
