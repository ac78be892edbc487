import { orderFromRequest, type Order, type OrderRequest } from '../domain/order';
import type { OrderChange, OrderRepository, StatusCount, Transition, TransitionResult } from '../application/ports';

/** The repository contract in memory, for unit tests of the use cases. */
export class InMemoryOrderRepository implements OrderRepository {
  readonly orders = new Map<string, Order>();
  readonly processed = new Set<string>();
  readonly outbox: { orderId: string; change: OrderChange }[] = [];
  /** Runs before each conditional update, so a test can change the order between a use case's read and its write. */
  beforeTransition: (transition: Transition) => void = () => undefined;

  async createRequested(requests: OrderRequest[]): Promise<Order[]> {
    const created: Order[] = [];
    for (const request of requests) {
      if (this.orders.has(request.orderId)) continue;
      const order = orderFromRequest(request);
      this.orders.set(order.id, order);
      created.push(order);
    }
    return created;
  }

  async find(id: string) {
    const order = this.orders.get(id);
    return order ? { ...order } : undefined;
  }

  async listForUser(userId: string, page: { pageSize: number; afterId?: string }) {
    const mine = [...this.orders.values()]
      .filter((order) => order.userId === userId && (!page.afterId || BigInt(order.id) < BigInt(page.afterId)))
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
    return { orders: mine.slice(0, page.pageSize) };
  }

  async transition(transition: Transition): Promise<TransitionResult> {
    this.beforeTransition(transition);
    if (transition.causedBy && this.processed.has(transition.causedBy)) return { duplicate: true };
    const order = this.orders.get(transition.orderId);
    if (!order || !transition.from.includes(order.status)) return { notInState: true };
    if (transition.dueBy && order.expiresAt > transition.dueBy) return { notInState: true };
    if (transition.aliveAt && order.expiresAt <= transition.aliveAt) return { notInState: true };
    if (transition.heldBy && order.paymentId !== transition.heldBy) return { notInState: true };
    const updated: Order = { ...order, status: transition.to };
    for (const [column, value] of Object.entries(transition.patch ?? {})) {
      if (value === null) delete (updated as unknown as Record<string, unknown>)[column];
      else (updated as unknown as Record<string, unknown>)[column] = value;
    }
    this.orders.set(order.id, updated);
    if (transition.causedBy) this.processed.add(transition.causedBy);
    if (transition.change) this.outbox.push({ orderId: order.id, change: transition.change });
    return { applied: { ...updated } };
  }

  async expireOverdue(now: Date, limit: number): Promise<Order[]> {
    const overdue = [...this.orders.values()]
      .filter((order) => order.status === 'AWAITING_PAYMENT' && order.expiresAt <= now)
      .sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime())
      .slice(0, limit);
    return overdue.map((order) => {
      const expired = { ...order, status: 'EXPIRED' as const };
      this.orders.set(order.id, expired);
      this.outbox.push({ orderId: order.id, change: { kind: 'EXPIRED' } });
      return expired;
    });
  }

  async countByStatus(promotionId: string): Promise<StatusCount[]> {
    const counts = new Map<StatusCount['status'], StatusCount>();
    for (const order of this.orders.values()) {
      if (order.promotionId !== promotionId || order.status === 'PENDING') continue;
      const count = counts.get(order.status);
      if (!count) {
        const at = order.createdAt;
        counts.set(order.status, {
          status: order.status,
          orders: 1,
          units: order.quantity,
          firstCreatedAt: at,
          lastCreatedAt: at,
        });
        continue;
      }
      count.orders += 1;
      count.units += order.quantity;
      if (order.createdAt < count.firstCreatedAt) count.firstCreatedAt = order.createdAt;
      if (order.createdAt > count.lastCreatedAt) count.lastCreatedAt = order.createdAt;
    }
    return [...counts.values()];
  }

  async earliestDeadline(after: Date): Promise<Date | undefined> {
    return [...this.orders.values()]
      .filter((order) => order.status === 'AWAITING_PAYMENT' && order.expiresAt > after)
      .map((order) => order.expiresAt)
      .sort((a, b) => a.getTime() - b.getTime())[0];
  }
}
