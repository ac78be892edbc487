import type { Payment, PaymentFailureCode } from '../domain/payment';
import type { ChargeResult, PaymentRepository, StartResult } from '../application/ports';

/** The payment repository contract in memory, for unit tests of the use cases. */
export class InMemoryPayments implements PaymentRepository {
  readonly rows = new Map<string, Payment>();
  readonly events: { paymentId: string; kind: string }[] = [];
  readonly processed = new Set<string>();

  async findByKey(orderId: string, idempotencyKey: string) {
    return this.byKey(orderId, idempotencyKey);
  }

  async find(id: string) {
    return this.rows.get(id);
  }

  async start(payment: Payment): Promise<StartResult> {
    // Checked and set without an await in between, like the unique indexes they stand for.
    const existing =
      this.byKey(payment.orderId, payment.idempotencyKey) ??
      [...this.rows.values()].find((row) => row.orderId === payment.orderId && row.status !== 'FAILED');
    if (existing) return { started: false, existing };
    this.rows.set(payment.id, { ...payment });
    return { started: true };
  }

  async stalePending(before: Date, limit: number) {
    return [...this.rows.values()]
      .filter((row) => row.status === 'PENDING' && row.attemptedAt < before)
      .sort((a, b) => a.attemptedAt.getTime() - b.attemptedAt.getTime())
      .slice(0, limit);
  }

  async complete(paymentId: string, result: ChargeResult, at: Date, failureCode?: PaymentFailureCode) {
    const row = this.rows.get(paymentId)!;
    if (row.status !== 'PENDING') return row;
    const done: Payment = result.ok
      ? { ...row, status: 'SUCCEEDED', providerReference: result.reference, completedAt: at }
      : { ...row, status: 'FAILED', failureReason: result.reason, failureCode: failureCode ?? 'PAYMENT_DECLINED' };
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

  private byKey(orderId: string, idempotencyKey: string) {
    return [...this.rows.values()].find((row) => row.orderId === orderId && row.idempotencyKey === idempotencyKey);
  }
}
