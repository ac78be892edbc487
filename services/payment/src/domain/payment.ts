import { invalid, notFound, precondition } from '@flash-sale/errors';

export type PaymentStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUNDED';

export interface Payment {
  id: string;
  orderId: string;
  userId: string;
  amountCents: bigint;
  status: PaymentStatus;
  idempotencyKey: string;
  providerReference?: string;
  failureReason?: string;
  createdAt: Date;
  /** When the current attempt started (a declined payment retried under a new key starts a new one). */
  attemptedAt: Date;
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

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export function validateIdempotencyKey(key: string): void {
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw invalid('INVALID_IDEMPOTENCY_KEY', 'idempotency key must be 1-128 visible ASCII characters', {
      field: 'idempotency_key',
    });
  }
}

/** Only the buyer pays, and only an order that awaits payment and whose deadline has not passed. */
export function assertPayable(
  order: PayableOrder | undefined,
  userId: string,
  orderId: string,
  now: Date,
): PayableOrder {
  if (!order || order.userId !== userId)
    throw notFound('ORDER_NOT_FOUND', `order ${orderId} does not exist`, { order_id: orderId });
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

/**
 * What to do with an earlier payment of the same order: the same key from the same buyer continues it (a
 * retry, even of an attempt that crashed half way); a failed one may be tried again with a new key; anything
 * else means the order is paid or being paid already.
 */
export function earlierAttempt(existing: Payment, userId: string, key: string): 'CONTINUE' | 'RETRY' {
  if (existing.userId !== userId) {
    throw notFound('ORDER_NOT_FOUND', `order ${existing.orderId} does not exist`, { order_id: existing.orderId });
  }
  if (existing.idempotencyKey === key) return 'CONTINUE';
  if (existing.status === 'FAILED') return 'RETRY';
  throw precondition('ORDER_NOT_PAYABLE', `order ${existing.orderId} is already paid or being paid`, {
    order_id: existing.orderId,
    payment_status: existing.status,
  });
}
