import { assertId, precondition } from '@flash-sale/errors';
import { assertPayable, earlierAttempt, validateIdempotencyKey, type Payment } from '../domain/payment';
import type { IdGenerator, OrderLookup, PaymentProvider, PaymentRepository } from './ports';

export interface PayCommand {
  orderId: string;
  userId: string;
  idempotencyKey: string;
}

/**
 * Pays an order exactly once. The PENDING row (unique per order) is written before the provider is called, so
 * two concurrent attempts cannot both charge; the charge is keyed by the payment id, so a retry after a crash
 * completes the same charge instead of making a second one.
 */
export class PayOrder {
  constructor(
    private readonly payments: PaymentRepository,
    private readonly orders: OrderLookup,
    private readonly provider: PaymentProvider,
    private readonly ids: IdGenerator,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async execute(command: PayCommand): Promise<Payment> {
    assertId(command.orderId, 'order_id');
    validateIdempotencyKey(command.idempotencyKey);
    const payment = await this.attempt(command);
    if (payment.status !== 'PENDING') return this.settled(payment);
    const result = await this.provider.charge({
      paymentId: payment.id,
      orderId: payment.orderId,
      amountCents: payment.amountCents,
    });
    return this.settled(await this.payments.complete(payment.id, result, this.clock()));
  }

  /** The PENDING (or already settled) payment this command continues. */
  private async attempt(command: PayCommand): Promise<Payment> {
    const existing = await this.payments.findByOrder(command.orderId);
    if (existing) {
      const next = earlierAttempt(existing, command.userId, command.idempotencyKey);
      if (next === 'CONTINUE') return existing;
      await this.assertOrderPayable(command);
      if (await this.payments.retry(existing.id, command.idempotencyKey)) {
        return { ...existing, status: 'PENDING', idempotencyKey: command.idempotencyKey };
      }
      return this.attempt(command);
    }
    const order = await this.assertOrderPayable(command);
    const payment: Payment = {
      id: this.ids.next(),
      orderId: order.id,
      userId: order.userId,
      amountCents: order.amountCents,
      status: 'PENDING',
      idempotencyKey: command.idempotencyKey,
      createdAt: this.clock(),
    };
    // Lost a race with a concurrent attempt: decide again against the winner's row.
    return (await this.payments.start(payment)) ? payment : this.attempt(command);
  }

  private async assertOrderPayable(command: PayCommand) {
    const order = await this.orders.find(command.orderId, command.userId);
    return assertPayable(order, command.userId, command.orderId, this.clock());
  }

  private settled(payment: Payment): Payment {
    if (payment.status === 'FAILED') {
      throw precondition('PAYMENT_DECLINED', `the payment was declined: ${payment.failureReason ?? 'unknown reason'}`, {
        order_id: payment.orderId,
        payment_id: payment.id,
      });
    }
    return payment;
  }
}
