import { notFound, precondition } from '@flash-sale/errors';
import type { Orders } from '../application/ports';
import type { PayableOrder } from '../domain/payment';

/**
 * The order service's claim rules in miniature, for unit tests of the payment path: a claim takes an order that
 * awaits payment before its deadline; the claiming payment's outcome makes it PAID or releases it.
 */
export class FakeOrders implements Orders {
  order: PayableOrder & { paymentId?: string };
  readonly calls: string[] = [];
  /** Makes the next call of that kind fail as a transport error would (the outcome unknown). */
  failNext: 'claim' | 'settle' | undefined;

  constructor(order: Partial<PayableOrder & { paymentId: string }> = {}) {
    this.order = { id: '5', userId: 'alice', status: 'AWAITING_PAYMENT', amountCents: 1_234n, ...order };
  }

  async find(orderId: string, userId: string) {
    return orderId === this.order.id && userId === this.order.userId ? { ...this.order } : undefined;
  }

  async claim(orderId: string, paymentId: string, userId: string) {
    this.calls.push(`claim ${paymentId}`);
    this.unreachable('claim');
    const order = this.mine(orderId, userId);
    if (order.status === 'PAYING' && order.paymentId === paymentId) return;
    if (order.status === 'PAYING') throw precondition('ORDER_BEING_PAID', 'being paid by another payment');
    const overdue = order.expiresAt !== undefined && order.expiresAt.getTime() <= Date.now();
    if (order.status !== 'AWAITING_PAYMENT' || overdue)
      throw precondition('ORDER_NOT_PAYABLE', `order is ${order.status}`);
    this.order = { ...order, status: 'PAYING', paymentId };
  }

  async settle(orderId: string, paymentId: string, userId: string, outcome: { succeeded: boolean }) {
    this.calls.push(`settle ${paymentId} ${outcome.succeeded ? 'succeeded' : 'failed'}`);
    this.unreachable('settle');
    const order = this.mine(orderId, userId);
    if (order.status === 'PAYING' && order.paymentId === paymentId) {
      this.order = outcome.succeeded
        ? { ...order, status: 'PAID' }
        : { id: order.id, userId: order.userId, amountCents: order.amountCents, status: 'AWAITING_PAYMENT' };
    } else if (outcome.succeeded && order.paymentId !== paymentId) {
      return 'REFUNDED';
    }
    return this.order.status;
  }

  private mine(orderId: string, userId: string) {
    if (orderId !== this.order.id || userId !== this.order.userId) throw notFound('ORDER_NOT_FOUND', 'no such order');
    return this.order;
  }

  private unreachable(kind: 'claim' | 'settle') {
    if (this.failNext !== kind) return;
    this.failNext = undefined;
    throw Object.assign(new Error('14 UNAVAILABLE: order service unreachable'), { code: 14 });
  }
}
