import { orderEventsV1 } from '@flash-sale/contracts';
import type { Order } from '../../domain/order';
import type { OrderChange } from '../../application/ports';

/** Encodes an order's change as the `OrderEvent` published on `order.events`, keyed by order id. */
export function encodeOrderEvent(eventId: string, order: Order, change: OrderChange, at: Date): Uint8Array {
  return orderEventsV1.OrderEvent.encode(
    orderEventsV1.OrderEvent.fromPartial({
      eventId,
      orderId: order.id,
      promotionId: order.promotionId,
      userId: order.userId,
      quantity: order.quantity,
      amountCents: order.amountCents.toString(),
      occurTime: at,
      kind: kindOf(change),
    }),
  ).finish();
}

function kindOf(change: OrderChange): orderEventsV1.OrderEvent['kind'] {
  switch (change.kind) {
    case 'PAID':
      return { $case: 'orderPaid', value: { paymentId: change.paymentId } };
    case 'EXPIRED':
      return { $case: 'orderExpired', value: {} };
    case 'CANCELLED':
      return { $case: 'orderCancelled', value: {} };
    case 'REFUNDED':
      return { $case: 'orderRefunded', value: { paymentId: change.paymentId, reason: change.reason } };
  }
}

/**
 * Encodes a new order's payment deadline as the `OrderDeadline` published on `order.deadlines`, keyed by order id:
 * the one announcement of a new order.
 */
export function encodeOrderDeadline(order: Order): Uint8Array {
  return orderEventsV1.OrderDeadline.encode(
    orderEventsV1.OrderDeadline.fromPartial({ orderId: order.id, expireTime: order.expiresAt }),
  ).finish();
}
