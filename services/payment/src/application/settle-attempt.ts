import type { Logger } from '@flash-sale/logging';
import type { OrderStatusName, Payment, PaymentFailureCode } from '../domain/payment';
import type { ChargeResult, Orders, PaymentRepository } from './ports';

/**
 * Records what became of an attempt's charge and tells its order at once. The payment and its event are written
 * in one transaction (the event reaches the order even if the direct call does not); the direct call makes the
 * order PAID (or releases it) before the buyer hears the answer. Returns the payment as stored and the order's
 * status after it, PAYING when the order could not be told yet.
 */
export class SettleAttempt {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly orders: Orders,
    private readonly logger: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async execute(
    payment: Payment,
    result: ChargeResult,
    failureCode: PaymentFailureCode = 'PAYMENT_DECLINED',
  ): Promise<{ payment: Payment; orderStatus: OrderStatusName }> {
    const stored = await this.payments.complete(payment.id, result, this.clock(), result.ok ? undefined : failureCode);
    return { payment: stored, orderStatus: await this.tellOrder(stored) };
  }

  /** The order's status after this payment's outcome; PAYING when the order service could not be told now. */
  async tellOrder(payment: Payment): Promise<OrderStatusName> {
    if (payment.status === 'PENDING') return 'PAYING';
    const outcome =
      payment.status === 'FAILED'
        ? { succeeded: false as const }
        : { succeeded: true as const, paidAt: payment.completedAt ?? payment.attemptedAt };
    try {
      return await this.orders.settle(payment.orderId, payment.id, payment.userId, outcome);
    } catch (error) {
      // The event on payment.events carries the same outcome; the order applies it when it arrives.
      this.logger.warn({ err: error, orderId: payment.orderId, paymentId: payment.id }, 'order not told directly');
      return 'PAYING';
    }
  }
}
