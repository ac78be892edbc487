import { orderFromRequest, type Order, type OrderRequest } from '../domain/order';
import type { OrderRepository } from './ports';

/** Turns accepted reservations into orders, a batch at a time; repeats and replays insert nothing. */
export class RecordOrderRequests {
  constructor(private readonly orders: OrderRepository) {}

  async execute(requests: OrderRequest[]): Promise<Order[]> {
    if (requests.length === 0) return [];
    // Sanity of the derived order is checked here, before anything is written.
    requests.forEach(orderFromRequest);
    return this.orders.createRequested(requests);
  }
}
