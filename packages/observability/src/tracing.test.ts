import { instrumentations } from './tracing';

/** The instrumentations' names; each is disabled again at once (constructing one enables its patching). */
const names = (exporter: Parameters<typeof instrumentations>[0]) =>
  instrumentations(exporter).map((instrumentation) => {
    instrumentation.disable();
    return instrumentation.instrumentationName;
  });

describe('instrumentations', () => {
  it('when spans go nowhere, then Express is not patched, while everything that carries trace context is', () => {
    expect(names('none')).not.toContain('@opentelemetry/instrumentation-express');
    expect(names('none')).toEqual(
      expect.arrayContaining([
        '@opentelemetry/instrumentation-http',
        '@opentelemetry/instrumentation-grpc',
        '@opentelemetry/instrumentation-kafkajs',
        '@opentelemetry/instrumentation-pino',
      ]),
    );
  });

  it('when spans are exported, then Express is patched too, to name its routes and layers', () => {
    expect(names('otlp')).toContain('@opentelemetry/instrumentation-express');
    expect(names('console')).toContain('@opentelemetry/instrumentation-express');
  });
});
