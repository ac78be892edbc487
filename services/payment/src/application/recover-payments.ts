import type { PaymentProvider, PaymentRepository } from './ports';

/**
 * Settles payments left PENDING: the process died, or the buyer gave up, between the PENDING row and the
 * provider's answer. The provider, not this service, knows whether money moved, so each one is looked up there:
 * a charge it made is recorded as SUCCEEDED (and announced; an order that expired meanwhile turns it into a
 * refund), a charge it declined as FAILED, and one it never received as FAILED without charging anybody anew.
 * `complete` is conditional on PENDING, so a buyer's retry finishing at the same moment is not overwritten.
 */
export class RecoverPendingPayments {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly provider: PaymentProvider,
    /** An attempt older than this is no longer in flight (above the charge timeout; config checks it). */
    private readonly staleAfterMs: number,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Settles one batch; returns how many (a full batch means: call again). */
  async run(limit: number): Promise<number> {
    const now = this.clock();
    const stale = await this.payments.stalePending(new Date(now.getTime() - this.staleAfterMs), limit);
    for (const payment of stale) {
      const result = (await this.provider.lookup(payment.id)) ?? {
        ok: false as const,
        reason: 'abandoned: the charge never reached the payment provider',
      };
      await this.payments.complete(payment.id, result, this.clock());
    }
    return stale.length;
  }
}
