import type { Logger } from '@flash-sale/logging';
import type { PaymentProvider, PaymentRepository } from './ports';
import type { SettleAttempt } from './settle-attempt';

/**
 * Settles payments left PENDING: the process died, or the provider or the order service did not answer, between
 * the PENDING row and the outcome. The provider, not this service, knows whether money moved, so each one is looked
 * up there: a charge it made is recorded as SUCCEEDED and its order becomes PAID; one it declined, or never
 * received, is FAILED and its order is released (back to awaiting payment, or expired past its deadline). A charge
 * the provider is still working on is left for a later pass: while money may move, the order stays PAYING.
 * `complete` is conditional on PENDING, so a buyer's retry finishing at the same moment is not overwritten.
 */
export class RecoverPendingPayments {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly provider: PaymentProvider,
    private readonly settle: SettleAttempt,
    private readonly logger: Logger,
    /** An attempt older than this is no longer in flight (above the charge wait and the claim bound; config checks it). */
    private readonly staleAfterMs: number,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Settles one batch; returns how many (a full batch means: call again). */
  async run(limit: number): Promise<number> {
    const stale = await this.payments.stalePending(new Date(this.clock().getTime() - this.staleAfterMs), limit);
    let settled = 0;
    for (const payment of stale) {
      const status = await this.provider.lookup(payment.id);
      if (status && 'processing' in status) continue;
      const { payment: stored, orderStatus } = await this.settle.execute(
        payment,
        status ?? { ok: false, reason: 'the charge never reached the payment provider' },
        status ? 'PAYMENT_DECLINED' : 'PAYMENT_ABANDONED',
      );
      this.logger.info({ paymentId: stored.id, status: stored.status, orderStatus }, 'pending payment recovered');
      settled += 1;
    }
    // A batch full of charges still processing is not "call again at once": the loop waits its interval.
    return settled;
  }
}
