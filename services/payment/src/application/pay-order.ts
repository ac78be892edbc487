import { assertId, isDomainError } from '@flash-sale/errors';
import type { Logger } from '@flash-sale/logging';
import {
  assertPayable,
  liveConflict,
  orderNotFound,
  refusalOf,
  validateIdempotencyKey,
  type OrderStatusName,
  type Payment,
  type PaymentFailureCode,
} from '../domain/payment';
import type { IdGenerator, Orders, PaymentProvider, PaymentRepository } from './ports';
import type { SettleAttempt } from './settle-attempt';

export interface PayCommand {
  orderId: string;
  userId: string;
  idempotencyKey: string;
}

/** A payment as its buyer hears it: the order is PAID, or PAYING while the charge (or telling the order) runs. */
export interface PayResult {
  payment: Payment;
  orderStatus: 'PAID' | 'PAYING';
}

/**
 * Pays an order exactly once, in three steps. The attempt is written PENDING (one live payment per order); it
 * claims the order in the order service (PAYING, only before the deadline), so expiry and cancellation can no
 * longer take the order away; only then is it charged, keyed by the payment id so a retry never charges twice.
 * A charge that outlasts `chargeWaitMs` goes on: the buyer hears PAYING, and the order becomes PAID when the
 * provider answers (or recovery asks the provider).
 */
export class PayOrder {
  private readonly charging = new Set<Promise<unknown>>();

  constructor(
    private readonly payments: PaymentRepository,
    private readonly orders: Orders,
    private readonly provider: PaymentProvider,
    private readonly settle: SettleAttempt,
    private readonly ids: IdGenerator,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
    /** How long a buyer's call waits for the charge before it answers PAYING. */
    private readonly chargeWaitMs = 2_500,
  ) {}

  async execute(command: PayCommand): Promise<PayResult> {
    assertId(command.orderId, 'order_id');
    validateIdempotencyKey(command.idempotencyKey);
    const payment = await this.attempt(command);
    if (payment.status === 'FAILED' || payment.status === 'REFUNDED') throw refusalOf(payment);
    // Captured already (a retry of this key): make sure the order knows, and answer what it says.
    if (payment.status === 'SUCCEEDED') return this.answer(payment, await this.settle.tellOrder(payment));
    await this.claim(payment);
    const charged = this.charge(payment);
    const outcome = await within(charged, this.chargeWaitMs);
    if (outcome === 'waited' || outcome === 'unknown') return { payment, orderStatus: 'PAYING' };
    return this.answer(outcome.payment, outcome.orderStatus);
  }

  /**
   * Waits up to `ms` for charges still running (at shutdown), so their outcomes are recorded now rather than left
   * to recovery.
   */
  async drain(ms: number): Promise<void> {
    await within(Promise.allSettled([...this.charging]), ms);
  }

  /** This key's attempt, or a new PENDING one. */
  private async attempt(command: PayCommand): Promise<Payment> {
    const mine = await this.payments.findByKey(command.orderId, command.idempotencyKey);
    if (mine && mine.userId !== command.userId) throw orderNotFound(command.orderId);
    if (mine) return mine;
    const order = assertPayable(
      await this.orders.find(command.orderId, command.userId),
      command.userId,
      command.orderId,
      this.clock(),
    );
    const now = this.clock();
    const payment: Payment = {
      id: this.ids.next(),
      orderId: order.id,
      userId: order.userId,
      amountCents: order.amountCents,
      status: 'PENDING',
      idempotencyKey: command.idempotencyKey,
      createdAt: now,
      attemptedAt: now,
    };
    const started = await this.payments.start(payment);
    if (started.started) return payment;
    // The same key raced us: continue its attempt. Another live payment: this one is refused.
    const existing = started.existing;
    if (existing.idempotencyKey === command.idempotencyKey && existing.userId === command.userId) return existing;
    throw liveConflict(existing);
  }

  /**
   * Claims the order for this payment. A refusal is final for this attempt (recorded, so its key hears it again);
   * an unknown outcome (the order service did not answer) leaves it PENDING: the same key continues it, or
   * recovery settles it without a charge.
   */
  private async claim(payment: Payment): Promise<void> {
    try {
      await this.orders.claim(payment.orderId, payment.id, payment.userId);
    } catch (error) {
      if (!isDomainError(error) || (error.kind !== 'precondition' && error.kind !== 'not_found')) throw error;
      const code = error.code as PaymentFailureCode;
      await this.payments.complete(payment.id, { ok: false, reason: error.message }, this.clock(), code);
      throw error;
    }
  }

  /** Charges and records the outcome, whether or not the buyer is still waiting; 'unknown' if the provider failed. */
  private charge(payment: Payment) {
    const work = this.provider
      .charge({ paymentId: payment.id, orderId: payment.orderId, amountCents: payment.amountCents })
      .then(
        (result) => this.settle.execute(payment, result),
        (error: unknown) => {
          // Whether money moved is unknown: the payment stays PENDING, and recovery asks the provider.
          this.logger.warn({ err: error, paymentId: payment.id }, 'charge outcome unknown; left to recovery');
          return 'unknown' as const;
        },
      );
    this.charging.add(work);
    void work.then(
      () => this.charging.delete(work),
      (error: unknown) => {
        this.charging.delete(work);
        this.logger.error({ err: error, paymentId: payment.id }, 'charge outcome not recorded; left to recovery');
      },
    );
    return work;
  }

  private answer(payment: Payment, orderStatus: OrderStatusName): PayResult {
    if (payment.status === 'FAILED' || payment.status === 'REFUNDED') throw refusalOf(payment);
    if (orderStatus === 'PAID' || orderStatus === 'PAYING') return { payment, orderStatus };
    // Captured, but the order could not take it (rare: the order service refunds it and says why).
    throw refusalOf({ ...payment, status: 'REFUNDED' });
  }
}

/** What `work` resolves to within `ms`, or 'waited' (the work itself goes on). */
function within<T>(work: Promise<T>, ms: number): Promise<T | 'waited'> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<'waited'>((resolve) => (timer = setTimeout(resolve, ms, 'waited')));
  return Promise.race([work, waited]).finally(() => clearTimeout(timer));
}
