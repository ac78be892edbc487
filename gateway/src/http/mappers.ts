import { orderV1, paymentV1, promotionV1 } from '@flash-sale/contracts';
import { WRITTEN_STATUSES } from '../api/schemas';

/** Enum value -> contract name: `ORDER_STATUS_PAID` -> `PAID`. */
function enumName(toJson: (value: number) => string, value: number, prefix: string): string {
  return toJson(value).replace(prefix, '');
}

const iso = (value: Date | undefined) => value?.toISOString();
const cents = (value: string) => Number(value);

export function promotionJson(p: promotionV1.Promotion) {
  return {
    id: p.promotionId,
    itemId: p.itemId,
    title: p.title,
    priceCents: cents(p.priceCents),
    stock: p.stock,
    perUserLimit: p.perUserLimit,
    startsAt: iso(p.startsAt),
    endsAt: iso(p.endsAt),
    paymentTimeoutSeconds: p.paymentTimeoutSeconds,
    status: enumName(promotionV1.promotionStatusToJSON, p.status, 'PROMOTION_STATUS_'),
    availableStock: p.availableStock,
    createdAt: iso(p.createTime),
  };
}

export function orderJson(o: orderV1.Order) {
  return {
    id: o.orderId,
    promotionId: o.promotionId,
    userId: o.userId,
    quantity: o.quantity,
    amountCents: cents(o.amountCents),
    status: enumName(orderV1.orderStatusToJSON, o.status, 'ORDER_STATUS_'),
    createdAt: iso(o.createTime),
    ...(o.expireTime ? { expiresAt: iso(o.expireTime) } : {}),
    ...(o.paidTime ? { paidAt: iso(o.paidTime) } : {}),
    ...(o.paymentId && o.paymentId !== '0' ? { paymentId: o.paymentId } : {}),
  };
}

/** Every written status, zero when the service left it out (it lists only statuses that have orders). */
export function orderSummaryJson(summary: orderV1.GetSaleSummaryResponse) {
  const byStatus = Object.fromEntries(WRITTEN_STATUSES.map((status) => [status, { orders: 0, units: 0 }]));
  for (const count of summary.statuses) {
    byStatus[enumName(orderV1.orderStatusToJSON, count.status, 'ORDER_STATUS_')] = {
      orders: Number(count.orders),
      units: Number(count.units),
    };
  }
  return {
    promotionId: summary.promotionId,
    orders: Number(summary.orders),
    units: Number(summary.units),
    byStatus: byStatus as Record<(typeof WRITTEN_STATUSES)[number], { orders: number; units: number }>,
    ...(summary.firstOrderTime ? { firstOrderAt: iso(summary.firstOrderTime) } : {}),
    ...(summary.lastOrderTime ? { lastOrderAt: iso(summary.lastOrderTime) } : {}),
  };
}

/** A Pay answer is final only once its order is paid; until then the charge is still going on (PAYING). */
export const orderIsPaid = (order: orderV1.OrderStatus) => order === orderV1.OrderStatus.ORDER_STATUS_PAID;

/** The contract speaks of the order's state after paying: PAID only when the order is paid, else PAYING. */
export function paymentJson(p: paymentV1.Payment, order: orderV1.OrderStatus) {
  return {
    status: orderIsPaid(order) ? ('PAID' as const) : ('PAYING' as const),
    paymentId: p.paymentId,
    orderId: p.orderId,
    amountCents: cents(p.amountCents),
  };
}
