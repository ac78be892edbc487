/**
 * The provider simulator as a process of its own, so that a charge survives the payment service's death:
 * `node --require tsx/cjs services/payment/src/simulator/main.ts` (or `node dist/simulator/main.js` once built).
 */
import { startProviderSimulator } from './provider-simulator';

const log = (level: 'info' | 'error', msg: string, fields: Record<string, unknown> = {}) =>
  (level === 'error' ? process.stderr : process.stdout).write(`${JSON.stringify({ level, msg, ...fields })}\n`);

class ConfigError extends Error {}

function variable(name: string, fallback: string): string {
  const value = process.env[name];
  // An empty variable means unset, as in a compose file's `FOO=`.
  return value === undefined || value.trim() === '' ? fallback : value.trim();
}

function integer(name: string, fallback: number, max: number): number {
  const raw = variable(name, String(fallback));
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > max)
    throw new ConfigError(`${name} must be an integer from 0 to ${max}, not "${raw}"`);
  return value;
}

function rate(name: string, fallback: number): number {
  const raw = variable(name, String(fallback));
  const value = Number(raw);
  if (!(value >= 0 && value <= 1)) throw new ConfigError(`${name} must be a number from 0 to 1, not "${raw}"`);
  return value;
}

async function main() {
  let options;
  try {
    options = {
      host: variable('PROVIDER_SIMULATOR_HOST', '127.0.0.1'),
      port: integer('PROVIDER_SIMULATOR_PORT', 50055, 65535),
      latencyMs: integer('PROVIDER_LATENCY_MS', 20, 2 ** 31 - 1),
      failureRate: rate('PROVIDER_FAILURE_RATE', 0),
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log('error', 'invalid configuration', { error: error.message });
    process.exit(1);
  }
  const simulator = await startProviderSimulator(options);
  log('info', 'provider simulator listening', { ...options, url: simulator.url, port: simulator.port });
  const stop = (signal: NodeJS.Signals) => {
    log('info', 'provider simulator stopping', { signal });
    // Exits rather than waits for the charges still under way: they may be set to take minutes.
    simulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log('error', 'provider simulator failed to stop', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  log('error', 'provider simulator failed to start', { error: String(error) });
  process.exit(1);
});
