import type { OrderStatusName, PayableOrder, Payment, PaymentFailureCode } from '../domain/payment';

export type ChargeResult = { ok: true; reference: string } | { ok: false; reason: string };

/**
 * What a provider knows of one charge: its result, `{ processing: true }` while it is still being worked on, or
 * undefined when it never received it.
 */
export type ChargeStatus = ChargeResult | { processing: true } | undefined;

/**
 * A payment provider. `charge` must be idempotent per payment id (real providers take an idempotency key), so a
 * retried or concurrent attempt never charges twice. Each payment is one attempt: a new attempt has a new id.
 */
export interface PaymentProvider {
  charge(request: { paymentId: string; orderId: string; amountCents: bigint }): Promise<ChargeResult>;
  refund(request: { paymentId: string; reference: string; amountCents: bigint }): Promise<void>;
  /** What became of this payment's charge (see ChargeStatus); answers at once, even while the charge runs. */
  lookup(paymentId: string): Promise<ChargeStatus>;
}

/** Why an order cannot take a payment now; `ORDER_BEING_PAID` may change, the others will not. */
export type StartResult = { started: true } | { started: false; existing: Payment };

export interface PaymentRepository {
  /** The attempt this buyer's idempotency key names for this order, if any. */
  findByKey(orderId: string, idempotencyKey: string): Promise<Payment | undefined>;
  find(id: string): Promise<Payment | undefined>;
  /**
   * Inserts a PENDING payment. Refused when the key was used already, or when the order has a payment that did not
   * fail (one live payment per order, kept by a unique index): `existing` is then that payment.
   */
  start(payment: Payment): Promise<StartResult>;
  /** PENDING payments whose attempt started before `before`, oldest first. */
  stalePending(before: Date, limit: number): Promise<Payment[]>;
  /**
   * PENDING -> SUCCEEDED or FAILED with its event in the outbox, atomically; returns the payment as stored (a
   * payment already settled is returned unchanged and announced no second time).
   */
  complete(paymentId: string, result: ChargeResult, at: Date, failureCode?: PaymentFailureCode): Promise<Payment>;
  /** SUCCEEDED -> REFUNDED with its event, atomically, once per payment (keyed by the causing event). */
  markRefunded(paymentId: string, reason: string, at: Date, causedBy: string): Promise<Payment | undefined>;
}

/**
 * The order service, as the payment path needs it: every call names the buyer it acts for, so the order service's
 * own ownership rules apply.
 */
export interface Orders {
  /** The order as its buyer sees it, or undefined. */
  find(orderId: string, userId: string): Promise<PayableOrder | undefined>;
  /**
   * Claims the order for this payment before anything is charged: AWAITING_PAYMENT -> PAYING, only before its
   * deadline; the same payment again is a no-op. Throws the order service's refusal (a DomainError) when the
   * order cannot be claimed, or a transport error when the outcome is unknown.
   */
  claim(orderId: string, paymentId: string, userId: string): Promise<void>;
  /** Tells the order what became of its claiming payment; returns the order's status after it. */
  settle(
    orderId: string,
    paymentId: string,
    userId: string,
    outcome: { succeeded: true; paidAt: Date } | { succeeded: false },
  ): Promise<OrderStatusName>;
}

export interface IdGenerator {
  next(): string;
}
