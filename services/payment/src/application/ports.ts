import type { PayableOrder, Payment } from '../domain/payment';

export type ChargeResult = { ok: true; reference: string } | { ok: false; reason: string };

/**
 * A payment provider. `charge` must be idempotent per payment id (real providers take an idempotency key), so
 * a retried or concurrent attempt never charges twice.
 */
export interface PaymentProvider {
  charge(request: { paymentId: string; orderId: string; amountCents: bigint }): Promise<ChargeResult>;
  refund(request: { paymentId: string; reference: string; amountCents: bigint }): Promise<void>;
  /** What became of this payment's charge: its result, or undefined when the provider never received it. */
  lookup(paymentId: string): Promise<ChargeResult | undefined>;
}

export interface PaymentRepository {
  findByOrder(orderId: string): Promise<Payment | undefined>;
  find(id: string): Promise<Payment | undefined>;
  /** Inserts a PENDING payment; false when the order already has one (unique order id). */
  start(payment: Payment): Promise<boolean>;
  /** Turns a FAILED payment into a new PENDING attempt under a new key; false when it is no longer FAILED. */
  retry(paymentId: string, idempotencyKey: string, at: Date): Promise<boolean>;
  /** PENDING payments whose attempt started before `before`, oldest first. */
  stalePending(before: Date, limit: number): Promise<Payment[]>;
  /** PENDING -> SUCCEEDED or FAILED with its event in the outbox, atomically; returns the payment as stored. */
  complete(paymentId: string, result: ChargeResult, at: Date): Promise<Payment>;
  /** SUCCEEDED -> REFUNDED with its event, atomically, once per payment (keyed by the causing event). */
  markRefunded(paymentId: string, reason: string, at: Date, causedBy: string): Promise<Payment | undefined>;
}

export interface OrderLookup {
  /** The order as its buyer sees it (the call carries the buyer's identity), or undefined. */
  find(orderId: string, userId: string): Promise<PayableOrder | undefined>;
}

export interface IdGenerator {
  next(): string;
}
