import { assertId, notFound, precondition } from '@flash-sale/errors';
import { assertCancellable, type Order, type Viewer } from '../domain/order';
import type { OrderRepository } from './ports';

/** The buyer gives up an unpaid order; inventory releases its stock when it sees OrderCancelled. */
export class CancelOrder {
  constructor(private readonly orders: OrderRepository) {}

  async execute(id: string, viewer: Viewer): Promise<Order> {
    assertId(id, 'order_id');
    const order = await this.orders.find(id);
    if (!order) throw notFound('ORDER_NOT_FOUND', `order ${id} does not exist`, { order_id: id });
    assertCancellable(order, viewer);
    const result = await this.orders.transition({
      orderId: id,
      from: ['AWAITING_PAYMENT'],
      to: 'CANCELLED',
      change: { kind: 'CANCELLED' },
    });
    if ('applied' in result) return result.applied;
    // Claimed by a payment, paid or expired between our read and our update: the conditional update lost, as it
    // should, and the order as it is now says why.
    const now = await this.orders.find(id);
    if (now) assertCancellable(now, viewer);
    throw precondition('ORDER_NOT_CANCELLABLE', `order ${id} is ${now?.status ?? 'gone'} and cannot be cancelled`, {
      order_id: id,
    });
  }
}
