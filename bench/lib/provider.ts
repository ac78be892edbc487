import { startProcess, stopProcess, type Running } from './processes';
import { addr } from './mesh';
import { until } from './wait';

export interface ProviderStatus {
  latencyMs: number;
  failureRate: number;
  /** Charges the provider is working on now. */
  processing: number;
  /** Charges it has answered. */
  charged: number;
}

/**
 * The payment provider simulator as a process of its own (from dist/), as a real provider is: a charge it was
 * sent goes on when the payment process that sent it dies, and recovery finds it afterwards.
 */
export class ProviderProcess {
  private constructor(
    private readonly running: Running,
    readonly url: string,
  ) {}

  static async start(port: number, latencyMs = 20): Promise<ProviderProcess> {
    const running = startProcess('provider', 'services/payment/dist/simulator/main.js', {
      PROVIDER_SIMULATOR_PORT: String(port),
      PROVIDER_LATENCY_MS: String(latencyMs),
      PROVIDER_FAILURE_RATE: '0',
    });
    const provider = new ProviderProcess(running, `http://${addr(port)}`);
    await until('the provider simulator', async () => (await fetch(`${provider.url}/v1/simulation`)).ok, 20_000);
    return provider;
  }

  async status(): Promise<ProviderStatus> {
    return (await (await fetch(`${this.url}/v1/simulation`)).json()) as ProviderStatus;
  }

  /** Changes latency and decline rate for the charges started from now on. */
  async configure(settings: Partial<Pick<ProviderStatus, 'latencyMs' | 'failureRate'>>): Promise<void> {
    const reply = await fetch(`${this.url}/v1/simulation`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(settings),
    });
    if (!reply.ok) throw new Error(`provider simulator: ${reply.status} ${await reply.text()}`);
  }

  stop(): Promise<void> {
    return stopProcess(this.running);
  }
}
