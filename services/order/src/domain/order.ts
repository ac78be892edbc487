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
