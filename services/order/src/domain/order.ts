import { notFound, precondition } from '@flash-sale/errors';

export type OrderStatus = 'PENDING' | 'AWAITING_PAYMENT' | 'PAID' | 'EXPIRED' | 'CANCELLED' | 'REFUNDED';

export interface Order {
  id: string;
  promotionId: string;
  userId: string;
  quantity: number;
  amountCents: bigint;
  status: OrderStatus;
  createdAt: Date;
  expiresAt: Date;
  paidAt?: Date;
  paymentId?: string;
}

/** What the order service learns from inventory's OrderRequested event. */
export interface OrderRequest {
  eventId: string;
  orderId: string;
  promotionId: string;
  userId: string;
  quantity: number;
  amountCents: bigint;
  reservedAt: Date;
  paymentTimeoutSeconds: number;
}

const ID = /^[1-9][0-9]{0,18}$/;
/** The longest payment window a promotion may give (a day); anything longer is a corrupt event. */
export const MAX_PAYMENT_TIMEOUT_SECONDS = 86_400;

/**
 * What is wrong with a reservation event, if anything: such an event is set aside (dead-lettered) rather than
 * written, since retrying it can never succeed.
 */
export function orderRequestProblem(request: OrderRequest): string | undefined {
  for (const [field, id] of [
    ['event_id', request.eventId],
    ['order_id', request.orderId],
    ['promotion_id', request.promotionId],
  ] as const) {
    if (!ID.test(id) || BigInt(id) >= 2n ** 63n) return `${field} ${JSON.stringify(id)} is not a positive 64-bit id`;
  }
  if (request.userId.trim() === '') return 'user_id is empty';
  if (!Number.isInteger(request.quantity) || request.quantity < 1)
    return `quantity ${request.quantity} is not positive`;
  if (request.amountCents < 0n) return `amount_cents ${request.amountCents} is negative`;
  const timeout = request.paymentTimeoutSeconds;
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_PAYMENT_TIMEOUT_SECONDS) {
    return `payment_timeout_seconds ${timeout} is outside 1..${MAX_PAYMENT_TIMEOUT_SECONDS}`;
  }
  if (Number.isNaN(request.reservedAt.getTime())) return 'reserve_time is missing or invalid';
  return undefined;
}

/** Whether an order's payment deadline has passed at `now` (an order expires at its deadline, not after it). */
export const isOverdue = (order: Pick<Order, 'expiresAt'>, now: Date) => order.expiresAt.getTime() <= now.getTime();

/** A reservation becomes an order awaiting payment; the deadline runs from the reservation, not from now. */
export function orderFromRequest(request: OrderRequest): Order {
  return {
    id: request.orderId,
    promotionId: request.promotionId,
    userId: request.userId,
    quantity: request.quantity,
    amountCents: request.amountCents,
    status: 'AWAITING_PAYMENT',
    createdAt: request.reservedAt,
    expiresAt: new Date(request.reservedAt.getTime() + request.paymentTimeoutSeconds * 1000),
  };
}

export interface Viewer {
  userId: string;
  isAdmin: boolean;
}

/** Owners and admins see an order; anybody else is told it does not exist (no probing of other users' ids). */
export function assertVisible<T extends Pick<Order, 'id' | 'userId'>>(
  order: T | undefined,
  viewer: Viewer,
  id: string,
): T {
  if (!order || (order.userId !== viewer.userId && !viewer.isAdmin)) {
    throw notFound('ORDER_NOT_FOUND', `order ${id} does not exist`, { order_id: id });
  }
  return order;
}

/** Only the buyer may cancel, and only before paying. */
export function assertCancellable(order: Order, viewer: Viewer): void {
  if (order.userId !== viewer.userId && !viewer.isAdmin) {
    throw notFound('ORDER_NOT_FOUND', `order ${order.id} does not exist`, { order_id: order.id });
  }
  if (order.status !== 'AWAITING_PAYMENT') {
    throw precondition('ORDER_NOT_CANCELLABLE', `order ${order.id} is ${order.status} and cannot be cancelled`, {
      order_id: order.id,
      status: order.status,
    });
  }
}

/**
 * What a successful payment does to an order. The database applies it with a conditional update, so when pay
 * and expiry race exactly one wins; a payment that finds the order expired or cancelled is refunded.
 */
export type PaymentOutcome = 'PAY' | 'REFUND' | 'ALREADY_APPLIED';

export function paymentOutcome(order: Pick<Order, 'status' | 'paymentId'>, paymentId: string): PaymentOutcome {
  if (order.status === 'AWAITING_PAYMENT') return 'PAY';
  if (order.paymentId === paymentId) return 'ALREADY_APPLIED';
  return 'REFUND';
}
