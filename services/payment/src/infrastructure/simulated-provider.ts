import { randomUUID } from 'node:crypto';
import type { ChargeResult, ChargeStatus, PaymentProvider } from '../application/ports';

export interface SimulatedProviderOptions {
  /** How long each charge and refund takes, in milliseconds. */
  latencyMs: number;
  /** Share of charges declined, 0 to 1. */
  failureRate: number;
  random?: () => number;
}

/** The settings a running simulation may change (see {@link SimulatedProvider.configure}). */
export type SimulationSettings = Pick<SimulatedProviderOptions, 'latencyMs' | 'failureRate'>;

interface Charge {
  done: Promise<ChargeResult>;
  /** Set once the latency has elapsed, so that `lookup` can answer without waiting. */
  result?: ChargeResult;
}

/**
 * A stand-in for a card processor, with configurable latency and decline rate. Like a real provider it is
 * idempotent per payment id: charging the same payment again returns the first result. (Its memory is the
 * process's, so that guarantee lasts as long as the process; a real provider keeps it for days.) A charge, once
 * started, runs to its end whatever becomes of the caller, as one sent to a real provider does.
 */
export class SimulatedProvider implements PaymentProvider {
  private readonly charges = new Map<string, Charge>();
  private settings: SimulationSettings;
  private readonly random: () => number;
  /** The payment ids refunded so far. */
  readonly refunds = new Set<string>();

  constructor(options: SimulatedProviderOptions) {
    this.settings = { latencyMs: options.latencyMs, failureRate: options.failureRate };
    this.random = options.random ?? Math.random;
  }

  /** Charges the payment once; a repeated or concurrent call for the same payment id gets the first charge's result. */
  charge({ paymentId }: { paymentId: string }): Promise<ChargeResult> {
    const known = this.charges.get(paymentId);
    if (known) return known.done;
    // Read the settings now: `configure` changes only the charges started after it.
    const { latencyMs, failureRate } = this.settings;
    const charge: Charge = {
      done: this.delay(latencyMs).then(() => {
        charge.result =
          this.random() < failureRate
            ? { ok: false, reason: 'card declined (simulated)' }
            : { ok: true, reference: `sim_${randomUUID()}` };
        return charge.result;
      }),
    };
    this.charges.set(paymentId, charge);
    return charge.done;
  }

  /** Answers at once: the charge's result, `{ processing: true }` while it runs, or undefined if never charged. */
  async lookup(paymentId: string): Promise<ChargeStatus> {
    const charge = this.charges.get(paymentId);
    if (!charge) return undefined;
    return charge.result ?? { processing: true };
  }

  /** Refunds the payment after the current latency; refunding it again is harmless. */
  async refund({ paymentId }: { paymentId: string }): Promise<void> {
    await this.delay(this.settings.latencyMs);
    this.refunds.add(paymentId);
  }

  /** What the simulation is set to, and how many charges are running now (for harnesses that time a fault). */
  status(): SimulationSettings & { processing: number; charged: number } {
    const charges = [...this.charges.values()];
    const processing = charges.filter((charge) => !charge.result).length;
    return { ...this.settings, processing, charged: charges.length - processing };
  }

  /** Changes latency and decline rate for the charges started from now on; the ones under way keep theirs. */
  configure(options: Partial<SimulationSettings>): void {
    this.settings = {
      latencyMs: options.latencyMs ?? this.settings.latencyMs,
      failureRate: options.failureRate ?? this.settings.failureRate,
    };
  }

  private delay(ms: number) {
    return new Promise<void>((resolve) => setTimeout(resolve, ms));
  }
}
