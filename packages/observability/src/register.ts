/**
 * Loaded with `node --require @flash-sale/observability/register` before the service itself, by every way a mesh
 * process is started (the images, `npm start`, the benchmarks), so that the V8 flags node refuses in NODE_OPTIONS
 * are set before any of the service's code is compiled, and the instrumentations can patch grpc-js, http, express,
 * ioredis, pg and pino as they are first required (Kafka's spans are @flash-sale/kafka-kit's own).
 *
 * Tracing is always on in-process (trace ids reach every log line and gRPC call); exporting is off unless
 * `OTEL_TRACES_EXPORTER` is `otlp` (to `OTEL_EXPORTER_OTLP_ENDPOINT`) or `console`.
 */
import { applyV8RuntimeFlags } from './node-options';
import { startTracing } from './tracing';

applyV8RuntimeFlags();
startTracing(process.env);
