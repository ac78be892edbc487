import type { ChannelOptions } from '@grpc/grpc-js';

/**
 * Keepalive settings that clients and servers agree on: clients ping every 30 s; servers allow pings that
 * often even without calls in flight, so idle gateway channels are never closed with ENHANCE_YOUR_CALM.
 */
export const CLIENT_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
};

export const SERVER_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.http2.min_ping_interval_without_data_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
};
