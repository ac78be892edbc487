import { notFound, precondition } from '@flash-sale/errors';

export type OrderStatus = 'PENDING' | 'AWAITING_PAYMENT' | 'PAYING' | 'PAID' | 'EXPIRED' | 'CANCELLED' | 'REFUNDED';

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
  /** The payment that claimed (PAYING), paid (PAID) or was refunded for (REFUNDED) the order. */
  paymentId?: string;
  /** When the current payment claimed the order (PAYING only). */
  paymentClaimedAt?: Date;
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
  /** The trace the request came in (W3C `traceparent`, `tracestate`), saved with what it writes; opaque here. */
  traceContext?: Readonly<Record<string, string>>;
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

const notFoundFor = (id: string) => notFound('ORDER_NOT_FOUND', `order ${id} does not exist`, { order_id: id });

/** Only the buyer may cancel, and only before paying: an order being paid waits for its payment's outcome. */
export function assertCancellable(order: Order, viewer: Viewer): void {
  if (order.userId !== viewer.userId && !viewer.isAdmin) throw notFoundFor(order.id);
  if (order.status === 'PAYING') {
    throw precondition('ORDER_BEING_PAID', `order ${order.id} is being paid and cannot be cancelled`, {
      order_id: order.id,
      status: order.status,
    });
  }
  if (order.status !== 'AWAITING_PAYMENT') {
    throw precondition('ORDER_NOT_CANCELLABLE', `order ${order.id} is ${order.status} and cannot be cancelled`, {
      order_id: order.id,
      status: order.status,
    });
  }
}

/**
 * Whether a payment may claim the order at `now`, before anything is charged: 'CLAIM' when it awaits payment and
 * its deadline is ahead, 'HELD' when this payment holds it already (a retry). Anything else is refused, and
 * nothing is charged. Only the buyer pays; to anybody else the order does not exist.
 */
export function claimDecision(order: Order | undefined, userId: string, id: string, paymentId: string, now: Date) {
  if (!order || order.userId !== userId) throw notFoundFor(id);
  if ((order.status === 'PAYING' || order.status === 'PAID') && order.paymentId === paymentId) return 'HELD';
  if (order.status === 'PAYING') {
    throw precondition('ORDER_BEING_PAID', `order ${id} is being paid by another payment`, {
      order_id: id,
      status: order.status,
    });
  }
  if (order.status !== 'AWAITING_PAYMENT') {
    throw precondition('ORDER_NOT_PAYABLE', `order ${id} is ${order.status} and cannot be paid`, {
      order_id: id,
      status: order.status,
    });
  }
  if (isOverdue(order, now)) {
    throw precondition('ORDER_NOT_PAYABLE', `the payment deadline of order ${id} has passed`, {
      order_id: id,
      status: 'EXPIRED',
    });
  }
  return 'CLAIM';
}

/**
 * What a payment's outcome does to its order. A payment that claimed the order decides it: charged, PAID; not
 * charged, the order is released, back to AWAITING_PAYMENT while its deadline is ahead or EXPIRED (stock
 * released) once it has passed. A captured payment that holds no claim is applied if the order still awaits
 * payment and the money was taken before the deadline; otherwise it is refunded, with the reason. A failed
 * payment that holds no claim changes nothing.
 */
export type Settlement =
  | { kind: 'PAY'; paidAt: Date }
  | { kind: 'RELEASE' }
  | { kind: 'EXPIRE' }
  | { kind: 'REFUND'; reason: string }
  | { kind: 'NONE' };

export type PaymentResult = { succeeded: true; paidAt: Date } | { succeeded: false };

export function settlementFor(
  order: Pick<Order, 'status' | 'paymentId' | 'expiresAt'>,
  paymentId: string,
  result: PaymentResult,
  now: Date,
): Settlement {
  const holds = order.status === 'PAYING' && order.paymentId === paymentId;
  if (!result.succeeded) {
    if (!holds) return { kind: 'NONE' };
    return isOverdue(order, now) ? { kind: 'EXPIRE' } : { kind: 'RELEASE' };
  }
  if (holds) return { kind: 'PAY', paidAt: result.paidAt };
  if ((order.status === 'PAID' || order.status === 'REFUNDED') && order.paymentId === paymentId) {
    return { kind: 'NONE' };
  }
  if (order.status === 'AWAITING_PAYMENT') {
    if (!isOverdue(order, result.paidAt)) return { kind: 'PAY', paidAt: result.paidAt };
    return { kind: 'REFUND', reason: 'captured after the payment deadline, without a claim on the order' };
  }
  const reason =
    order.status === 'PAYING' || order.status === 'PAID'
      ? `order ${order.status === 'PAID' ? 'already paid' : 'being paid'} by payment ${order.paymentId ?? '?'}`
      : `order ${order.status} before the payment was applied`;
  return { kind: 'REFUND', reason };
}
