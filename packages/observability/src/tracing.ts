import { metrics } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import * as tracing from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import {
  environmentProblems,
  propagatorFromEnvironment,
  resourceFromEnvironment,
  sdkDisabled,
  setUpDiagnostics,
  startSignals,
  type Problem,
  type Stoppable,
} from './sdk-environment';

const EXPORTERS = ['none', 'otlp', 'console'] as const;
export type ExporterName = (typeof EXPORTERS)[number];

function spanProcessor(name: ExporterName) {
  if (name === 'otlp') {
    // Required only when asked for: most processes export nothing.
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp;
    return new tracing.BatchSpanProcessor(new OTLPTraceExporter());
  }
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
 * With nowhere to send spans, record none of our own: trace context (and the trace ids in logs) still flows, saved
 * with outbox entries and restored by the relays and consumers even unsampled, but spans cost next to nothing. A
 * caller that sampled its trace is still followed (parent-based). OTEL_TRACES_SAMPLER, when set, decides instead
 * (undefined here: the tracer provider reads it).
 */
export function defaultSampler(exporter: ExporterName, environment: NodeJS.ProcessEnv) {
  if (exporter !== 'none' || environment.OTEL_TRACES_SAMPLER) return undefined;
  return new tracing.ParentBasedSampler({ root: new tracing.TraceIdRatioBasedSampler(0) });
}

/** What is wrong with the environment's OpenTelemetry settings, each naming its variable. */
export function configurationProblems(environment: NodeJS.ProcessEnv): Problem[] {
  const exporter = environment.OTEL_TRACES_EXPORTER ?? 'none';
  return [
    ...(EXPORTERS.includes(exporter as ExporterName)
      ? []
      : [{ variable: 'OTEL_TRACES_EXPORTER', message: `must be one of ${EXPORTERS.join(', ')}` }]),
    ...environmentProblems(),
  ];
}

/**
 * Starts tracing as OpenTelemetry's `NodeSDK` did, with only its tracing half loaded: a `NodeTracerProvider` (the
 * sampler, span limits and batch settings from the environment), the async-local context manager, W3C trace context
 * and baggage, the resource from the same detectors, and the instrumentations. Metrics and log records, when asked
 * for, load the rest of the SDK first. Returns what stops it all (flushing spans), for tests and shutdown.
 */
export function startTracing(environment: NodeJS.ProcessEnv): Stoppable {
  const problems = configurationProblems(environment);
  if (problems.length > 0) {
    process.stderr.write(
      `Invalid configuration:\n${problems.map(({ variable, message }) => `  ${variable}: ${message}\n`).join('')}`,
    );
    process.exit(78);
  }
  if (sdkDisabled()) return { shutdown: async () => {} };
  setUpDiagnostics();
  const exporter = (environment.OTEL_TRACES_EXPORTER ?? 'none') as ExporterName;
  const resource = resourceFromEnvironment();
  const signals = startSignals(environment, resource);
  const sampler = defaultSampler(exporter, environment);
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [spanProcessor(exporter)],
    ...(sampler ? { sampler } : {}),
  });
  provider.register({ propagator: propagatorFromEnvironment() });
  registerInstrumentations({
    instrumentations: instrumentations(exporter),
    ...(signals ? { meterProvider: metrics.getMeterProvider() } : {}),
  });
  const stoppable = {
    shutdown: async () => {
      await Promise.all([provider.shutdown(), signals?.shutdown()]);
    },
  };
  process.once('beforeExit', () => void stoppable.shutdown());
  return stoppable;
}
