import { signalsOff } from './sdk-environment';
import { instrumentations } from './tracing';

/** The instrumentations' names; each is disabled again at once (constructing one enables its patching). */
const names = (exporter: Parameters<typeof instrumentations>[0]) =>
  instrumentations(exporter).map((instrumentation) => {
    instrumentation.disable();
    return instrumentation.instrumentationName;
  });

describe('instrumentations', () => {
  it('when spans go nowhere, then Express, Redis and SQL are not patched, while everything that carries trace context is', () => {
    for (const spansOnly of ['express', 'ioredis', 'pg']) {
      expect(names('none')).not.toContain(`@opentelemetry/instrumentation-${spansOnly}`);
    }
    expect(names('none')).toEqual(
      expect.arrayContaining([
        '@opentelemetry/instrumentation-http',
        '@opentelemetry/instrumentation-grpc',
        '@opentelemetry/instrumentation-pino',
      ]),
    );
  });

  it('when tracing starts, then kafkajs is never patched: kafka-kit carries the context of each message itself', () => {
    for (const exporter of ['none', 'otlp'] as const) {
      expect(names(exporter)).not.toContain('@opentelemetry/instrumentation-kafkajs');
    }
  });

  it('when spans are exported, then Express, Redis and SQL are patched too, for spans of their own', () => {
    for (const exporter of ['otlp', 'console'] as const) {
      expect(names(exporter)).toEqual(
        expect.arrayContaining([
          '@opentelemetry/instrumentation-express',
          '@opentelemetry/instrumentation-ioredis',
          '@opentelemetry/instrumentation-pg',
        ]),
      );
    }
  });
});

describe('metrics and logs through OpenTelemetry', () => {
  it('when their exporters are not set, then the SDK gets no metric reader and no log processor (its default is OTLP)', () => {
    expect(signalsOff({})).toEqual({ metricReaders: [], logRecordProcessors: [] });
  });

  it('when an exporter is set, then the SDK reads it from the environment as usual', () => {
    expect(signalsOff({ OTEL_METRICS_EXPORTER: 'otlp' })).toEqual({ logRecordProcessors: [] });
    expect(signalsOff({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'otlp' })).toEqual({});
  });
});
