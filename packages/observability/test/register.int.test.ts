/**
 * `--require @flash-sale/observability/register` as the services start with it, in a process of its own: the
 * OpenTelemetry SDK defaults metrics to OTLP on localhost, so without an exporter asked for, no meter provider may
 * be registered (every instrumented call would feed histograms that a timer fails to send).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
/** The module the services' `--require @flash-sale/observability/register` loads once built, from its source. */
const register = join(__dirname, '..', 'src', 'register.ts');

/**
 * The class of the global meter provider in a fresh node process started the way the services are (through tsx's
 * hook, so that the test needs no build).
 */
function meterProviderWith(environment: Record<string, string>): string {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')));
  return execFileSync(
    process.execPath,
    [
      '--require',
      require.resolve('tsx/cjs'),
      '--require',
      register,
      '-e',
      "console.log(require('@opentelemetry/api').metrics.getMeterProvider().constructor.name); process.exit(0)",
    ],
    {
      cwd: root,
      env: { ...inherited, ...environment, TSX_TSCONFIG_PATH: join(root, 'tsconfig.source.json') },
      encoding: 'utf8',
    },
  ).trim();
}

describe('observability/register', () => {
  it('when no metrics exporter is set, then no meter provider is registered', () => {
    expect(meterProviderWith({})).toBe('NoopMeterProvider');
  });

  it('when OTEL_METRICS_EXPORTER is set, then the SDK registers its meter provider', () => {
    expect(meterProviderWith({ OTEL_METRICS_EXPORTER: 'console' })).toBe('MeterProvider');
  });
});
