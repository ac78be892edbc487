import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { propagatorFromEnvironment, resourceFromEnvironment } from './sdk-environment';
import { configurationProblems } from './tracing';

/** Runs `read` with these OTEL_ variables set (and the others of the test's environment cleared), then restores. */
function withEnvironment<T>(variables: Record<string, string>, read: () => T): T {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
  Object.assign(process.env, variables);
  try {
    return read();
  } finally {
    process.env = saved;
  }
}

describe('OpenTelemetry settings from the environment', () => {
  it('when nothing is set, then W3C trace context and baggage propagate, as NodeSDK did', () => {
    const propagator = withEnvironment({}, propagatorFromEnvironment);
    expect(propagator).toBeInstanceOf(CompositePropagator);
    expect(propagator!.fields()).toEqual(expect.arrayContaining(['traceparent', 'tracestate', 'baggage']));
  });

  it('when OTEL_PROPAGATORS names one or none, then that one, or no propagator at all', () => {
    expect(withEnvironment({ OTEL_PROPAGATORS: 'tracecontext' }, propagatorFromEnvironment)).toBeInstanceOf(
      W3CTraceContextPropagator,
    );
    expect(withEnvironment({ OTEL_PROPAGATORS: 'none' }, propagatorFromEnvironment)).toBeNull();
  });

  it('when OTEL_SERVICE_NAME is set, then it is the service.name of the resource, beside the process and host', () => {
    const resource = withEnvironment({ OTEL_SERVICE_NAME: 'inventory' }, resourceFromEnvironment);
    expect(resource.attributes).toMatchObject({
      'service.name': 'inventory',
      'telemetry.sdk.language': 'nodejs',
      'process.pid': process.pid,
      'host.name': expect.any(String),
    });
  });

  it('when a setting asks for what only the full SDK had, then it is refused, naming its variable', () => {
    const problems = (variables: Record<string, string>) =>
      withEnvironment(variables, () => configurationProblems(process.env).map(({ variable }) => variable));
    expect(problems({})).toEqual([]);
    expect(problems({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_PROPAGATORS: 'tracecontext,baggage' })).toEqual([]);
    expect(problems({ OTEL_TRACES_EXPORTER: 'zipkin' })).toEqual(['OTEL_TRACES_EXPORTER']);
    expect(problems({ OTEL_PROPAGATORS: 'tracecontext,b3' })).toEqual(['OTEL_PROPAGATORS']);
    expect(problems({ OTEL_NODE_RESOURCE_DETECTORS: 'gcp' })).toEqual(['OTEL_NODE_RESOURCE_DETECTORS']);
  });
});
