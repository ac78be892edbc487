import { orderV1 } from '@flash-sale/contracts';
import { decodePageToken, encodePageToken, requireCaller, unary } from '@flash-sale/grpc-kit';
import type { Logger } from '@flash-sale/logging';
import type { OrderStatus } from '../domain/order';
import type { CancelOrder } from '../application/cancel-order';
import type { OrderView, QueryOrders } from '../application/query-orders';

export interface OrderUseCases {
  query: QueryOrders;
  cancel: CancelOrder;
}

const S = orderV1.OrderStatus;
const STATUS: Record<OrderStatus, orderV1.OrderStatus> = {
  PENDING: S.ORDER_STATUS_PENDING,
  AWAITING_PAYMENT: S.ORDER_STATUS_AWAITING_PAYMENT,
  PAID: S.ORDER_STATUS_PAID,
  EXPIRED: S.ORDER_STATUS_EXPIRED,
  CANCELLED: S.ORDER_STATUS_CANCELLED,
  REFUNDED: S.ORDER_STATUS_REFUNDED,
};

const toMessage = (order: OrderView): orderV1.Order =>
  orderV1.Order.fromPartial({
    orderId: order.id,
    promotionId: order.promotionId,
    userId: order.userId,
    quantity: order.quantity,
    amountCents: order.amountCents.toString(),
    status: STATUS[order.status],
    createTime: order.createdAt,
    ...(order.expiresAt ? { expireTime: order.expiresAt } : {}),
    ...(order.paidAt ? { paidTime: order.paidAt } : {}),
    ...(order.paymentId ? { paymentId: order.paymentId } : {}),
  });

export function orderHandlers(useCases: OrderUseCases, logger: Logger): orderV1.OrderServiceServer {
  const method = (name: string) => `flashsale.order.v1.OrderService/${name}`;
  return {
    getOrder: unary(method('GetOrder'), logger, async (request: orderV1.GetOrderRequest, { metadata }) => ({
      order: toMessage(await useCases.query.get(request.orderId, requireCaller(metadata))),
    })),
    listOrders: unary(method('ListOrders'), logger, async (request: orderV1.ListOrdersRequest, { metadata }) => {
      const afterId = decodePageToken(request.pageToken);
      const page = await useCases.query.listMine(requireCaller(metadata), {
        pageSize: request.pageSize,
        ...(afterId ? { afterId } : {}),
      });
      return {
        orders: page.orders.map(toMessage),
        nextPageToken: encodePageToken(page.nextAfterId),
      };
    }),
    cancelOrder: unary(method('CancelOrder'), logger, async (request: orderV1.CancelOrderRequest, { metadata }) => ({
      order: toMessage(await useCases.cancel.execute(request.orderId, requireCaller(metadata))),
    })),
  };
}
