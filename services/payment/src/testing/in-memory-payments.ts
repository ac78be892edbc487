import type { Payment } from '../domain/payment';
import type { ChargeResult, PaymentRepository } from '../application/ports';

/** The payment repository contract in memory, for unit tests of the use cases. */
export class InMemoryPayments implements PaymentRepository {
  readonly rows = new Map<string, Payment>();
  readonly events: { paymentId: string; kind: string }[] = [];
  readonly processed = new Set<string>();

  async findByOrder(orderId: string) {
    return [...this.rows.values()].find((payment) => payment.orderId === orderId);
  }

  async find(id: string) {
    return this.rows.get(id);
  }

  async start(payment: Payment) {
    // Checked and set without an await in between, like the unique index it stands for.
    if ([...this.rows.values()].some((row) => row.orderId === payment.orderId)) return false;
    this.rows.set(payment.id, { ...payment });
    return true;
  }

  async retry(paymentId: string, idempotencyKey: string, at: Date) {
    const row = this.rows.get(paymentId);
    if (row?.status !== 'FAILED') return false;
    this.rows.set(paymentId, { ...row, status: 'PENDING', idempotencyKey, attemptedAt: at });
    return true;
  }

  async stalePending(before: Date, limit: number) {
    return [...this.rows.values()]
      .filter((row) => row.status === 'PENDING' && row.attemptedAt < before)
      .sort((a, b) => a.attemptedAt.getTime() - b.attemptedAt.getTime())
      .slice(0, limit);
  }

  async complete(paymentId: string, result: ChargeResult) {
    const row = this.rows.get(paymentId)!;
    if (row.status !== 'PENDING') return row;
    const done: Payment = result.ok
      ? { ...row, status: 'SUCCEEDED', providerReference: result.reference }
      : { ...row, status: 'FAILED', failureReason: result.reason };
    this.rows.set(paymentId, done);
    this.events.push({ paymentId, kind: done.status });
    return done;
  }

  async markRefunded(paymentId: string, _reason: string, at: Date, causedBy: string) {
    const row = this.rows.get(paymentId);
    if (!row || this.processed.has(causedBy) || row.status !== 'SUCCEEDED') return undefined;
    this.processed.add(causedBy);
    const refunded: Payment = { ...row, status: 'REFUNDED', refundedAt: at };
    this.rows.set(paymentId, refunded);
    this.events.push({ paymentId, kind: 'REFUNDED' });
    return refunded;
  }
}
