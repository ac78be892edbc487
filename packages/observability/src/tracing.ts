import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';

const EXPORTERS = ['none', 'otlp', 'console'] as const;
export type ExporterName = (typeof EXPORTERS)[number];

function spanProcessor(name: ExporterName) {
  if (name === 'otlp') return new tracing.BatchSpanProcessor(new OTLPTraceExporter());
  if (name === 'console') return new tracing.SimpleSpanProcessor(new tracing.ConsoleSpanExporter());
  // Spans still exist (so trace ids propagate and reach logs); they are just not sent anywhere.
  return new tracing.NoopSpanProcessor();
}

/**
 * What is patched: everything that carries trace context across processes (HTTP, gRPC), and the instrumentations
 * that only add spans of their own (Express layers, Redis commands, SQL queries) only when spans are exported.
 * Without an exporter those spans are never recorded, yet creating them and timing every call cost the gateway a
 * tenth of its CPU (Express) and every service a share of each Redis and database call.
 *
 * Kafka is not patched: `@flash-sale/kafka-kit` makes the producer and consumer spans itself, because a relay sends
 * messages of many traces in one request (each must continue the trace saved with its outbox entry, which the
 * kafkajs instrumentation, one context per request, would overwrite) and a consumer's batch holds many traces too.
 */
export function instrumentations(exporter: ExporterName) {
  const exporting = exporter !== 'none';
  return [
    new HttpInstrumentation(),
    new GrpcInstrumentation(),
    ...(exporting ? [new ExpressInstrumentation(), new IORedisInstrumentation(), new PgInstrumentation()] : []),
    // Our logger adds trace ids itself; this only keeps pino's own correlation consistent.
    new PinoInstrumentation({ disableLogSending: true }),
  ];
}

/**
 * Metrics and log records go through OpenTelemetry only when `OTEL_METRICS_EXPORTER` / `OTEL_LOGS_EXPORTER` ask for
 * it: the SDK's own default for both is OTLP to localhost, so an unset variable meant every instrumented call fed
 * histograms that a timer then failed to send to a collector nobody had configured. Set, the SDK reads them as
 * usual. (The gateway's Prometheus `/metrics` does not depend on this.)
 */
export function signalsOff(environment: NodeJS.ProcessEnv) {
  return {
    ...(environment.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(environment.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
  };
}

/**
 * With nowhere to send spans, record none of our own: trace context (and the trace ids in logs) still flows, saved
 * with outbox entries and restored by the relays and consumers even unsampled, but spans cost next to nothing. A
 * caller that sampled its trace is still followed (parent-based). OTEL_TRACES_SAMPLER, when set, decides instead
 * (undefined here: the SDK reads it).
 */
export function defaultSampler(exporter: ExporterName, environment: NodeJS.ProcessEnv) {
  if (exporter !== 'none' || environment.OTEL_TRACES_SAMPLER) return undefined;
  return new tracing.ParentBasedSampler({ root: new tracing.TraceIdRatioBasedSampler(0) });
}

/** Starts the OpenTelemetry Node SDK; returns it so tests and shutdown can stop it. */
export function startTracing(environment: NodeJS.ProcessEnv): NodeSDK {
  const exporter = (environment.OTEL_TRACES_EXPORTER ?? 'none') as ExporterName;
  if (!EXPORTERS.includes(exporter)) {
    process.stderr.write(`Invalid configuration:\n  OTEL_TRACES_EXPORTER: must be one of ${EXPORTERS.join(', ')}\n`);
    process.exit(78);
  }
  const sampler = defaultSampler(exporter, environment);
  const sdk = new NodeSDK({
    spanProcessors: [spanProcessor(exporter)],
    ...(sampler ? { sampler } : {}),
    instrumentations: instrumentations(exporter),
    ...signalsOff(environment),
  });
  sdk.start();
  process.once('beforeExit', () => void sdk.shutdown());
  return sdk;
}
