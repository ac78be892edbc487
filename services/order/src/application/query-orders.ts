import { assertId } from '@flash-sale/errors';
import { assertVisible, type Order, type Viewer } from '../domain/order';
import type { OrderRepository, ReservationLookup } from './ports';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Pending orders have no payment deadline yet: it starts when the order row is written. */
export type OrderView = Omit<Order, 'expiresAt'> & { expiresAt?: Date };

export class QueryOrders {
  constructor(
    private readonly orders: OrderRepository,
    private readonly reservations: ReservationLookup,
  ) {}

  /** An order, or PENDING for an accepted reservation whose order row is not written yet. */
  async get(id: string, viewer: Viewer): Promise<OrderView> {
    assertId(id, 'order_id');
    const order = await this.orders.find(id);
    if (order) return assertVisible(order, viewer, id);
    const reservation = assertVisible(
      await this.reservations.find(id).then((found) => (found ? { ...found, id: found.orderId } : undefined)),
      viewer,
      id,
    );
    return {
      id,
      promotionId: reservation.promotionId,
      userId: reservation.userId,
      quantity: reservation.quantity,
      amountCents: reservation.amountCents,
      status: 'PENDING',
      createdAt: reservation.reservedAt,
    };
  }

  async listMine(viewer: Viewer, page: { pageSize?: number; afterId?: string }) {
    const pageSize = Math.min(Math.max(page.pageSize || DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    return this.orders.listForUser(viewer.userId, { pageSize, ...(page.afterId ? { afterId: page.afterId } : {}) });
  }
}
