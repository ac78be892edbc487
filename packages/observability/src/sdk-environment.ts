/**
 * The parts of OpenTelemetry's configuration from the environment that `NodeSDK` used to read for the mesh, read
 * here so that a process loads only the tracing half of the SDK (docs/adr, "tracer provider"): the resource, the
 * propagators, the SDK's own log level and switch, and, only when asked for, metrics and log records.
 */
import { DiagConsoleLogger, diag, type TextMapPropagator } from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
  diagLogLevelFromString,
  getBooleanFromEnv,
  getStringFromEnv,
  getStringListFromEnv,
} from '@opentelemetry/core';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  serviceInstanceIdDetector,
  type Resource,
  type ResourceDetector,
} from '@opentelemetry/resources';

export type Problem = { variable: string; message: string };

const DETECTORS: Record<string, ResourceDetector> = {
  env: envDetector,
  host: hostDetector,
  os: osDetector,
  process: processDetector,
  serviceinstance: serviceInstanceIdDetector,
};
/** NodeSDK's detectors when OTEL_NODE_RESOURCE_DETECTORS is unset. */
const DEFAULT_DETECTORS = ['env', 'process', 'host'];
const PROPAGATORS: Record<string, () => TextMapPropagator> = {
  tracecontext: () => new W3CTraceContextPropagator(),
  baggage: () => new W3CBaggagePropagator(),
};

/** The environment's values this module cannot honour without the rest of the SDK, refused rather than ignored. */
export function environmentProblems(): Problem[] {
  const problems: Problem[] = [];
  const propagators = getStringListFromEnv('OTEL_PROPAGATORS') ?? [];
  const unknownPropagators = propagators.filter((name) => name !== 'none' && !PROPAGATORS[name]);
  if (unknownPropagators.length > 0) {
    problems.push({
      variable: 'OTEL_PROPAGATORS',
      message: `${unknownPropagators.join(', ')} not supported: use tracecontext, baggage or none`,
    });
  }
  const detectors = getStringListFromEnv('OTEL_NODE_RESOURCE_DETECTORS') ?? [];
  const unknownDetectors = detectors.filter((name) => name !== 'all' && name !== 'none' && !DETECTORS[name]);
  if (unknownDetectors.length > 0) {
    problems.push({
      variable: 'OTEL_NODE_RESOURCE_DETECTORS',
      message: `${unknownDetectors.join(', ')} not supported: use ${[...Object.keys(DETECTORS), 'all', 'none'].join(', ')}`,
    });
  }
  return problems;
}

/** OTEL_SDK_DISABLED=true: register nothing at all (the API's no-op implementations stay), as NodeSDK did. */
export const sdkDisabled = () => getBooleanFromEnv('OTEL_SDK_DISABLED');

/** OTEL_LOG_LEVEL: the SDK's own diagnostics on the console, as NodeSDK did. */
export function setUpDiagnostics() {
  const level = getStringFromEnv('OTEL_LOG_LEVEL');
  if (level != null) diag.setLogger(new DiagConsoleLogger(), { logLevel: diagLogLevelFromString(level) });
}

/**
 * The SDK's default attributes merged with what the detectors find: `service.name` from OTEL_SERVICE_NAME (or
 * OTEL_RESOURCE_ATTRIBUTES), the process and the host, NodeSDK's defaults; OTEL_NODE_RESOURCE_DETECTORS chooses.
 */
export function resourceFromEnvironment(): Resource {
  const names = getStringListFromEnv('OTEL_NODE_RESOURCE_DETECTORS') ?? DEFAULT_DETECTORS;
  const chosen = names.includes('all') ? Object.keys(DETECTORS) : names.includes('none') ? [] : names;
  return defaultResource().merge(detectResources({ detectors: chosen.map((name) => DETECTORS[name]!) }));
}

/**
 * W3C trace context and baggage unless OTEL_PROPAGATORS says otherwise; `null`: register none (`none`).
 */
export function propagatorFromEnvironment(): TextMapPropagator | null {
  const names = [...new Set(getStringListFromEnv('OTEL_PROPAGATORS') ?? ['tracecontext', 'baggage'])];
  if (names.includes('none')) return null;
  const propagators = names.map((name) => PROPAGATORS[name]!());
  return propagators.length === 1 ? propagators[0]! : new CompositePropagator({ propagators });
}

/** Whether OTEL_METRICS_EXPORTER or OTEL_LOGS_EXPORTER asks for anything: only then is the rest of the SDK loaded. */
export const signalsAsked = (environment: NodeJS.ProcessEnv) =>
  [environment.OTEL_METRICS_EXPORTER, environment.OTEL_LOGS_EXPORTER].some(
    (value) => value !== undefined && value.trim() !== '' && value.trim() !== 'none',
  );

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

/** What stops the metrics and logs SDK, when it runs. */
export type Stoppable = { shutdown(): Promise<void> };

/**
 * When asked for, OpenTelemetry's `NodeSDK` (required only then: it loads every OTLP exporter, about 18 MB of heap)
 * runs the meter and logger providers from the environment as it always did; tracing, the context manager and the
 * propagators stay this package's, so it registers none of them. Runs before the instrumentations are made, so that
 * they take its meter provider.
 */
export function startSignals(environment: NodeJS.ProcessEnv, resource: Resource): Stoppable | undefined {
  if (!signalsAsked(environment)) return undefined;
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    spanProcessors: [],
    instrumentations: [],
    // null: register none (NodeSDK reads it so, though its type does not say it).
    contextManager: null as never,
    textMapPropagator: null,
    ...signalsOff(environment),
  });
  sdk.start();
  return sdk;
}
