import { randomUUID } from 'node:crypto';
import type { ChargeResult, PaymentProvider } from '../application/ports';

export interface SimulatedProviderOptions {
  latencyMs: number;
  /** Share of charges declined, 0 to 1. */
  failureRate: number;
  random?: () => number;
}

/**
 * A stand-in for a card processor, with configurable latency and decline rate. Like a real provider it is
 * idempotent per payment id: charging the same payment again returns the first result. (Its memory is the
 * process's, so that guarantee lasts as long as the process; a real provider keeps it for days.)
 */
export class SimulatedProvider implements PaymentProvider {
  private readonly charges = new Map<string, Promise<ChargeResult>>();
  readonly refunds = new Set<string>();

  constructor(private readonly options: SimulatedProviderOptions) {}

  charge({ paymentId }: { paymentId: string }): Promise<ChargeResult> {
    const known = this.charges.get(paymentId);
    if (known) return known;
    const result = this.delay().then<ChargeResult>(() =>
      (this.options.random ?? Math.random)() < this.options.failureRate
        ? { ok: false, reason: 'card declined (simulated)' }
        : { ok: true, reference: `sim_${randomUUID()}` },
    );
    this.charges.set(paymentId, result);
    return result;
  }

  lookup(paymentId: string): Promise<ChargeResult | undefined> {
    return this.charges.get(paymentId) ?? Promise.resolve(undefined);
  }

  async refund({ paymentId }: { paymentId: string }): Promise<void> {
    await this.delay();
    this.refunds.add(paymentId);
  }

  private delay() {
    return new Promise<void>((resolve) => setTimeout(resolve, this.options.latencyMs));
  }
}
