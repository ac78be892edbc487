import { orderFromRequest, type Order, type OrderRequest } from '../domain/order';
import { noAlarm, type DeadlineAlarm, type OrderRepository } from './ports';

/**
 * Turns accepted reservations into orders, a batch at a time; repeats and replays insert nothing. The alarm hears
 * each new order's deadline, and `created` the orders whose rows were just committed (for the sale's figures).
 */
export class RecordOrderRequests {
  constructor(
    private readonly orders: OrderRepository,
    private readonly alarm: DeadlineAlarm = noAlarm,
    private readonly created: (orders: readonly Order[]) => void = () => undefined,
  ) {}

  async execute(requests: OrderRequest[]): Promise<Order[]> {
    if (requests.length === 0) return [];
    // Sanity of the derived order is checked here, before anything is written.
    requests.forEach(orderFromRequest);
    const created = await this.orders.createRequested(requests);
    for (const order of created) this.alarm.expect(order.expiresAt);
    this.created(created);
    return created;
  }
}
