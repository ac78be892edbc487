import { invalid, notFound, precondition, type DomainError } from '@flash-sale/errors';

export type PaymentStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUNDED';

/**
 * Why a payment failed, which is what its buyer hears again for its key: the provider declined it, the order
 * refused the claim (the order service's own reason), or it was given up without reaching the provider.
 */
export type PaymentFailureCode =
  'PAYMENT_DECLINED' | 'PAYMENT_ABANDONED' | 'ORDER_NOT_PAYABLE' | 'ORDER_BEING_PAID' | 'ORDER_NOT_FOUND';

/** What became of a settled payment, as the sale's figures count it. */
export type PaymentOutcome = 'succeeded' | 'declined' | 'failed' | 'abandoned' | 'refunded';

/**
 * A settled payment's outcome: captured, refunded, declined by the provider, abandoned (never reached it), or failed
 * otherwise (the order refused the claim). Undefined while it is PENDING.
 */
export function paymentOutcome(payment: Pick<Payment, 'status' | 'failureCode'>): PaymentOutcome | undefined {
  if (payment.status === 'SUCCEEDED') return 'succeeded';
  if (payment.status === 'REFUNDED') return 'refunded';
  if (payment.status !== 'FAILED') return undefined;
  if (payment.failureCode === 'PAYMENT_DECLINED' || payment.failureCode === undefined) return 'declined';
  return payment.failureCode === 'PAYMENT_ABANDONED' ? 'abandoned' : 'failed';
}

/** One attempt to pay an order: a new attempt (a new idempotency key) is a new payment with its own id. */
export interface Payment {
  id: string;
  orderId: string;
  userId: string;
  amountCents: bigint;
  status: PaymentStatus;
  idempotencyKey: string;
  providerReference?: string;
  failureReason?: string;
  failureCode?: PaymentFailureCode;
  createdAt: Date;
  /** When the attempt started; PENDING attempts older than the recovery age are settled from the provider. */
  attemptedAt: Date;
  /** When it left PENDING (for a captured payment: when the money was taken). */
  completedAt?: Date;
  refundedAt?: Date;
}

/** The order as the payment service sees it: the amount always comes from here, never from the client. */
export interface PayableOrder {
  id: string;
  userId: string;
  status: string;
  amountCents: bigint;
  /** The payment deadline; past it the order is about to expire and is not charged. */
  expiresAt?: Date;
}

/** An order status as the order service names it (PAID, PAYING, EXPIRED ...). */
export type OrderStatusName = string;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export function validateIdempotencyKey(key: string): void {
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw invalid('INVALID_IDEMPOTENCY_KEY', 'idempotency key must be 1-128 visible ASCII characters', {
      field: 'idempotency_key',
    });
  }
}

export const orderNotFound = (orderId: string) =>
  notFound('ORDER_NOT_FOUND', `order ${orderId} does not exist`, { order_id: orderId });

/**
 * A cheap first look before a payment is written: only the buyer pays, and only an order that awaits payment
 * with its deadline ahead. The order service's claim decides for real, at the moment it commits.
 */
export function assertPayable(
  order: PayableOrder | undefined,
  userId: string,
  orderId: string,
  now: Date,
): PayableOrder {
  if (!order || order.userId !== userId) throw orderNotFound(orderId);
  if (order.status === 'PAYING') throw beingPaid(orderId);
  if (order.status !== 'AWAITING_PAYMENT') {
    throw precondition('ORDER_NOT_PAYABLE', `order ${orderId} is ${order.status} and cannot be paid`, {
      order_id: orderId,
      status: order.status,
    });
  }
  if (order.expiresAt && order.expiresAt.getTime() <= now.getTime()) {
    throw precondition('ORDER_NOT_PAYABLE', `the payment deadline of order ${orderId} has passed`, {
      order_id: orderId,
      status: 'EXPIRED',
    });
  }
  return order;
}

const beingPaid = (orderId: string) =>
  precondition('ORDER_BEING_PAID', `order ${orderId} is being paid by another payment; if it fails, pay again`, {
    order_id: orderId,
  });

/** Another payment of the order is live (running, captured or refunded): this attempt is refused. */
export function liveConflict(existing: Payment): DomainError {
  if (existing.status === 'PENDING') return beingPaid(existing.orderId);
  return precondition('ORDER_NOT_PAYABLE', `order ${existing.orderId} is already paid`, {
    order_id: existing.orderId,
    payment_status: existing.status,
  });
}

/** What a settled payment that did not take the money tells its buyer (the same for every retry of its key). */
export function refusalOf(payment: Payment): DomainError {
  const details = { order_id: payment.orderId, payment_id: payment.id };
  if (payment.status === 'REFUNDED') {
    return precondition(
      'ORDER_NOT_PAYABLE',
      `payment ${payment.id} was refunded: the order could not take it`,
      details,
    );
  }
  const code = payment.failureCode ?? 'PAYMENT_DECLINED';
  const reason = payment.failureReason ?? 'unknown reason';
  if (code === 'ORDER_NOT_FOUND') return orderNotFound(payment.orderId);
  const message =
    code === 'PAYMENT_DECLINED'
      ? `the payment was declined: ${reason}; a new Idempotency-Key may try again`
      : code === 'PAYMENT_ABANDONED'
        ? `the payment was given up before it was charged (${reason}); a new Idempotency-Key may try again`
        : reason;
  return precondition(code, message, details);
}
