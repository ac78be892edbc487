import { assertId, precondition, unavailable, type DomainError } from '@flash-sale/errors';
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
    /** A charge not answered within this stays PENDING: the same key continues it, or recovery settles it. */
    private readonly chargeTimeoutMs = 2_500,
  ) {}

  async execute(command: PayCommand): Promise<Payment> {
    assertId(command.orderId, 'order_id');
    validateIdempotencyKey(command.idempotencyKey);
    const payment = await this.attempt(command);
    if (payment.status !== 'PENDING') return this.settled(payment);
    const result = await withTimeout(
      this.provider.charge({ paymentId: payment.id, orderId: payment.orderId, amountCents: payment.amountCents }),
      this.chargeTimeoutMs,
      () =>
        unavailable(
          'PAYMENT_PROVIDER_TIMEOUT',
          'the payment provider did not answer in time; retry with the same idempotency key',
          { order_id: payment.orderId, payment_id: payment.id },
        ),
    );
    return this.settled(await this.payments.complete(payment.id, result, this.clock()));
  }

  /** The PENDING (or already settled) payment this command continues. */
  private async attempt(command: PayCommand): Promise<Payment> {
    const existing = await this.payments.findByOrder(command.orderId);
    if (existing) {
      const next = earlierAttempt(existing, command.userId, command.idempotencyKey);
      if (next === 'CONTINUE') return existing;
      await this.assertOrderPayable(command);
      const at = this.clock();
      if (await this.payments.retry(existing.id, command.idempotencyKey, at)) {
        return { ...existing, status: 'PENDING', idempotencyKey: command.idempotencyKey, attemptedAt: at };
      }
      return this.attempt(command);
    }
    const order = await this.assertOrderPayable(command);
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

function withTimeout<T>(work: Promise<T>, ms: number, error: () => DomainError): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
