import { paymentOutcome } from '../domain/order';
import type { OrderRepository, Transition } from './ports';

export interface PaymentSucceeded {
  eventId: string;
  orderId: string;
  paymentId: string;
  paidAt: Date;
}

export type PaymentApplication = 'PAID' | 'REFUND_REQUESTED' | 'ALREADY_APPLIED' | 'UNKNOWN_ORDER';

/**
 * Applies a captured payment. If the order still awaits payment it becomes PAID; if it expired or was cancelled
 * first (the conditional update decides), the payment is refunded: the order announces OrderRefunded and the
 * payment service gives the money back. Never both, never neither.
 */
export class ApplyPayment {
  constructor(private readonly orders: OrderRepository) {}

  async execute(payment: PaymentSucceeded): Promise<PaymentApplication> {
    // Two rounds at most: a lost race re-reads the order once and then knows the winner.
    for (let round = 0; round < 2; round += 1) {
      const order = await this.orders.find(payment.orderId);
      if (!order) return 'UNKNOWN_ORDER';
      const outcome = paymentOutcome(order, payment.paymentId);
      if (outcome === 'ALREADY_APPLIED') return outcome;
      const result = await this.orders.transition(this.transitionFor(outcome, order.status, payment));
      if ('duplicate' in result) return 'ALREADY_APPLIED';
      if ('applied' in result) return outcome === 'PAY' ? 'PAID' : 'REFUND_REQUESTED';
    }
    throw new Error(`order ${payment.orderId} kept changing while a payment was applied`);
  }

  private transitionFor(outcome: 'PAY' | 'REFUND', status: Transition['to'], payment: PaymentSucceeded): Transition {
    const base = { orderId: payment.orderId, causedBy: payment.eventId };
    if (outcome === 'PAY') {
      return {
        ...base,
        from: ['AWAITING_PAYMENT'],
        to: 'PAID',
        change: { kind: 'PAID', paymentId: payment.paymentId },
        patch: { paidAt: payment.paidAt, paymentId: payment.paymentId },
      };
    }
    // An expired or cancelled order records the refunded payment; one already settled by another payment keeps
    // its state and only announces this payment's refund.
    const settles = status === 'EXPIRED' || status === 'CANCELLED';
    return {
      ...base,
      from: [status],
      to: settles ? 'REFUNDED' : status,
      change: { kind: 'REFUNDED', paymentId: payment.paymentId },
      ...(settles ? { patch: { paymentId: payment.paymentId } } : {}),
    };
  }
}
