import { isOverdue } from '../domain/order';
import { noAlarm, type DeadlineAlarm, type ExpiryResult, type OrderRepository } from './ports';

/**
 * Payment deadlines. `expire` handles one order when its deadline message is due; `sweep` is the safety net that
 * finds every overdue order the messages missed (a lost message, a consumer far behind). Both are the same
 * conditional change AWAITING_PAYMENT -> EXPIRED, so they never fight each other or a payment: exactly one wins.
 */
export class ExpireOrders {
  constructor(
    private readonly orders: OrderRepository,
    private readonly clock: () => Date = () => new Date(),
    private readonly alarm: DeadlineAlarm = noAlarm,
  ) {}

  async expire(orderId: string): Promise<ExpiryResult> {
    const order = await this.orders.find(orderId);
    if (!order) return 'UNKNOWN_ORDER';
    if (order.status !== 'AWAITING_PAYMENT') return 'SETTLED';
    const now = this.clock();
    if (!isOverdue(order, now)) return 'NOT_DUE';
    const result = await this.orders.transition({
      orderId,
      from: ['AWAITING_PAYMENT'],
      to: 'EXPIRED',
      change: { kind: 'EXPIRED' },
      dueBy: now,
    });
    return 'applied' in result ? 'EXPIRED' : 'SETTLED';
  }

  /**
   * Expires one batch of overdue orders; returns how many (a full batch means: call again). When it caught up, the
   * alarm is set for the next deadline, so the sweep comes back then rather than at its next round.
   */
  async sweep(limit: number): Promise<number> {
    const now = this.clock();
    const expired = (await this.orders.expireOverdue(now, limit)).length;
    if (expired < limit) {
      const next = await this.orders.earliestDeadline(now);
      if (next) this.alarm.expect(next);
    }
    return expired;
  }
}
