import { NodeSDK, tracing } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
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

/** What is patched: everything that carries trace context across processes, and Express only for an exporter. */
export function instrumentations(exporter: ExporterName) {
  return [
    new HttpInstrumentation(),
    // Express's spans (one per middleware layer and route) only name things for an exporter; the HTTP server
    // span carries the trace context. Without an exporter they cost the gateway a tenth of its CPU for nothing.
    ...(exporter === 'none' ? [] : [new ExpressInstrumentation()]),
    new GrpcInstrumentation(),
    new IORedisInstrumentation(),
    new PgInstrumentation(),
    new KafkaJsInstrumentation(),
    // Our logger adds trace ids itself; this only keeps pino's own correlation consistent.
    new PinoInstrumentation({ disableLogSending: true }),
  ];
}

/** Starts the OpenTelemetry Node SDK; returns it so tests and shutdown can stop it. */
export function startTracing(environment: NodeJS.ProcessEnv): NodeSDK {
  const exporter = (environment.OTEL_TRACES_EXPORTER ?? 'none') as ExporterName;
  if (!EXPORTERS.includes(exporter)) {
    process.stderr.write(`Invalid configuration:\n  OTEL_TRACES_EXPORTER: must be one of ${EXPORTERS.join(', ')}\n`);
    process.exit(78);
  }
  const sdk = new NodeSDK({
    spanProcessors: [spanProcessor(exporter)],
    // With nowhere to send spans, record none of our own: trace context (and the trace ids in logs) still flows,
    // but spans cost next to nothing. A caller that sampled its trace is still followed (parent-based).
    // OTEL_TRACES_SAMPLER, when set, decides instead.
    ...(exporter === 'none' && !environment.OTEL_TRACES_SAMPLER
      ? { sampler: new tracing.ParentBasedSampler({ root: new tracing.TraceIdRatioBasedSampler(0) }) }
      : {}),
    instrumentations: instrumentations(exporter),
  });
  sdk.start();
  process.once('beforeExit', () => void sdk.shutdown());
  return sdk;
}
