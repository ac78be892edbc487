import { assertId } from '@flash-sale/errors';
import { assertVisible, settlementFor, type Order, type PaymentResult, type Settlement } from '../domain/order';
import { noAlarm, type DeadlineAlarm, type OrderRepository, type Transition } from './ports';

export interface PaymentOutcome {
  orderId: string;
  paymentId: string;
  result: PaymentResult;
  /** The consumed event that carries it (redelivery is a no-op); none when the payment service calls directly. */
  eventId?: string;
  /** The buyer the direct call acts for: the order must be theirs (to anybody else it does not exist). */
  userId?: string;
}

export type SettleResult = { order: Order; settlement: Settlement['kind'] } | { unknownOrder: true };

/**
 * Applies what became of a payment (see `settlementFor`). The payment service calls it as soon as it knows, and
 * the same outcome arrives again from `payment.events`: whichever comes second finds it applied. A refund is
 * announced with its reason and reported to `onRefund` (counted and logged by the caller).
 */
export class SettlePayment {
  constructor(
    private readonly orders: OrderRepository,
    private readonly clock: () => Date = () => new Date(),
    private readonly alarm: DeadlineAlarm = noAlarm,
    private readonly onRefund: (order: Order, paymentId: string, reason: string) => void = () => undefined,
  ) {}

  async execute(outcome: PaymentOutcome): Promise<SettleResult> {
    assertId(outcome.orderId, 'order_id');
    assertId(outcome.paymentId, 'payment_id');
    // Two rounds at most: a lost race re-reads the order once and then knows the winner.
    for (let round = 0; round < 2; round += 1) {
      const order = await this.orders.find(outcome.orderId);
      if (!order) return { unknownOrder: true };
      if (outcome.userId !== undefined) assertVisible(order, { userId: outcome.userId, isAdmin: false }, order.id);
      const settlement = settlementFor(order, outcome.paymentId, outcome.result, this.clock());
      if (settlement.kind === 'NONE') return { order, settlement: 'NONE' };
      const result = await this.orders.transition(this.transitionFor(settlement, order, outcome));
      if ('duplicate' in result) return { order, settlement: 'NONE' };
      if ('applied' in result) {
        if (settlement.kind === 'RELEASE') this.alarm.expect(order.expiresAt);
        if (settlement.kind === 'REFUND') this.onRefund(order, outcome.paymentId, settlement.reason);
        return { order: result.applied, settlement: settlement.kind };
      }
    }
    throw new Error(`order ${outcome.orderId} kept changing while a payment was applied`);
  }

  private transitionFor(settlement: Settlement, order: Order, outcome: PaymentOutcome): Transition {
    const base = {
      orderId: order.id,
      from: [order.status],
      ...(outcome.eventId ? { causedBy: outcome.eventId } : {}),
      ...(order.status === 'PAYING' ? { heldBy: order.paymentId! } : {}),
    };
    const released = { paymentId: null, paymentClaimedAt: null };
    switch (settlement.kind) {
      case 'PAY':
        return {
          ...base,
          to: 'PAID',
          change: { kind: 'PAID', paymentId: outcome.paymentId },
          patch: {
            paidAt: settlement.paidAt,
            paymentId: outcome.paymentId,
            paymentClaimedAt: null,
          },
        };
      case 'RELEASE':
        return { ...base, to: 'AWAITING_PAYMENT', patch: released };
      case 'EXPIRE':
        return { ...base, to: 'EXPIRED', change: { kind: 'EXPIRED' }, patch: released };
      case 'REFUND': {
        // An expired or cancelled order records the refunded payment; one paid or being paid by another payment
        // keeps its state and only announces this payment's refund.
        const settles = order.status === 'EXPIRED' || order.status === 'CANCELLED';
        return {
          ...base,
          to: settles ? 'REFUNDED' : order.status,
          change: { kind: 'REFUNDED', paymentId: outcome.paymentId, reason: settlement.reason },
          ...(settles ? { patch: { paymentId: outcome.paymentId } } : {}),
        };
      }
      case 'NONE':
        throw new Error('nothing to apply');
    }
  }
}
