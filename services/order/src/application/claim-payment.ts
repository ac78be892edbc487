import { assertId } from '@flash-sale/errors';
import { claimDecision, type Order } from '../domain/order';
import { CLAIM_MAX_MS, type OrderRepository } from './ports';

/**
 * A payment claims its order before anything is charged: AWAITING_PAYMENT -> PAYING, only while the deadline is
 * ahead. The conditional update is the arbiter against expiry, cancellation and other payments: whichever commits
 * first wins, at the moment the buyer paid. While PAYING, only this payment's outcome moves the order.
 */
export class ClaimPayment {
  constructor(
    private readonly orders: OrderRepository,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async execute(orderId: string, paymentId: string, userId: string): Promise<Order> {
    assertId(orderId, 'order_id');
    assertId(paymentId, 'payment_id');
    // Two rounds at most: a lost race re-reads the order once and then knows the winner.
    for (let round = 0; round < 2; round += 1) {
      const order = await this.orders.find(orderId);
      const now = this.clock();
      if (claimDecision(order, userId, orderId, paymentId, now) === 'HELD') return order!;
      const result = await this.orders.transition({
        orderId,
        from: ['AWAITING_PAYMENT'],
        to: 'PAYING',
        aliveAt: now,
        patch: { paymentId, paymentClaimedAt: now },
        boundMs: CLAIM_MAX_MS,
      });
      if ('applied' in result) return result.applied;
    }
    throw new Error(`order ${orderId} kept changing while a payment claimed it`);
  }
}
