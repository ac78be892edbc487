/**
 * Loaded with `node --require @flash-sale/observability/register` before the service itself, so that the
 * instrumentations can patch grpc-js, http, express, ioredis, pg and pino as they are first required (Kafka's spans
 * are @flash-sale/kafka-kit's own).
 *
 * Tracing is always on in-process (trace ids reach every log line and gRPC call); exporting is off unless
 * `OTEL_TRACES_EXPORTER` is `otlp` (to `OTEL_EXPORTER_OTLP_ENDPOINT`) or `console`.
 */
import { startTracing } from './tracing';

startTracing(process.env);
