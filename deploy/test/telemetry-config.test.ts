/**
 * What the chart tells the components about OpenTelemetry: nothing by default (no spans or metrics leave the
 * pods), and with a collector's endpoint both traces and metrics go to it (the SDK exports metrics only when
 * OTEL_METRICS_EXPORTER asks).
 */
import { template } from './helm';

const telemetry = (args: string[]) => {
  const rendered = template(args);
  expect(rendered.stderr).toBe('');
  const config = rendered.objects.find(
    (object) => object.kind === 'ConfigMap' && object.metadata.name.endsWith('-config'),
  );
  const data = (config?.data ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(data).filter(([name]) => name.startsWith('OTEL_')));
};

describe('chart: OpenTelemetry settings', () => {
  it('when no OTLP endpoint is given, then no exporter is set', () => {
    expect(telemetry([])).toEqual({});
  });

  it('when an OTLP endpoint is given, then traces and metrics are both exported to it', () => {
    expect(telemetry(['--set', 'config.otlpEndpoint=http://otel-collector:4318'])).toEqual({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
    });
  });
});
