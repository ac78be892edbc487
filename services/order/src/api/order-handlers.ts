import { orderV1 } from '@flash-sale/contracts';
import { decodePageToken, encodePageToken, optionalCaller, requireCaller, unary } from '@flash-sale/grpc-kit';
import type { Metadata } from '@grpc/grpc-js';
import type { Logger } from '@flash-sale/logging';
import { invalid, notFound, permissionDenied } from '@flash-sale/errors';
import type { OrderStatus } from '../domain/order';
import type { CancelOrder } from '../application/cancel-order';
import type { ClaimPayment } from '../application/claim-payment';
import type { OrderView, QueryOrders } from '../application/query-orders';
import type { SettlePayment } from '../application/settle-payment';
import type { SaleSummary, SummarizeSale } from '../application/summarize-sale';

export interface OrderUseCases {
  query: QueryOrders;
  cancel: CancelOrder;
  claim: ClaimPayment;
  settle: SettlePayment;
  summarize: SummarizeSale;
}

const S = orderV1.OrderStatus;
const STATUS: Record<OrderStatus, orderV1.OrderStatus> = {
  PENDING: S.ORDER_STATUS_PENDING,
  AWAITING_PAYMENT: S.ORDER_STATUS_AWAITING_PAYMENT,
  PAYING: S.ORDER_STATUS_PAYING,
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

/** Statuses in the enum's order, so the answer lists them the same way every time. */
const summaryMessage = (summary: SaleSummary): orderV1.GetSaleSummaryResponse =>
  orderV1.GetSaleSummaryResponse.fromPartial({
    promotionId: summary.promotionId,
    statuses: summary.statuses
      .map((count) => ({ status: STATUS[count.status], orders: String(count.orders), units: String(count.units) }))
      .sort((a, b) => a.status - b.status),
    orders: String(summary.orders),
    units: String(summary.units),
    ...(summary.firstOrderAt ? { firstOrderTime: summary.firstOrderAt } : {}),
    ...(summary.lastOrderAt ? { lastOrderTime: summary.lastOrderAt } : {}),
  });

function requireAdmin(metadata: Metadata) {
  if (!requireCaller(metadata).isAdmin) throw permissionDenied('FORBIDDEN', 'this call needs the admin role');
}

/**
 * The buyer an internal call acts for: named in the request by the payment service. A payment service of the
 * previous version names the buyer in the caller metadata instead, which only a mesh without mTLS lets through (with
 * mTLS, metadata from anyone but a front is refused before it gets here): taken during such an upgrade.
 */
function buyerOf(request: { userId: string }, metadata: Metadata): string {
  const userId = request.userId || optionalCaller(metadata)?.userId;
  if (!userId) throw invalid('USER_ID_REQUIRED', 'user_id is required', { field: 'user_id' });
  return userId;
}

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
    getSaleSummary: unary(
      method('GetSaleSummary'),
      logger,
      async (request: orderV1.GetSaleSummaryRequest, { metadata }) => {
        requireAdmin(metadata);
        return summaryMessage(await useCases.summarize.execute(request.promotionId));
      },
    ),
    getBuyerOrder: unary(
      method('GetBuyerOrder'),
      logger,
      async (request: orderV1.GetBuyerOrderRequest, { metadata }) => ({
        order: toMessage(
          await useCases.query.get(request.orderId, { userId: buyerOf(request, metadata), isAdmin: false }),
        ),
      }),
    ),
    claimPayment: unary(method('ClaimPayment'), logger, async (request: orderV1.ClaimPaymentRequest, { metadata }) => ({
      order: toMessage(await useCases.claim.execute(request.orderId, request.paymentId, buyerOf(request, metadata))),
    })),
    settlePayment: unary(
      method('SettlePayment'),
      logger,
      async (request: orderV1.SettlePaymentRequest, { metadata }) => {
        const settled = await useCases.settle.execute({
          orderId: request.orderId,
          paymentId: request.paymentId,
          userId: buyerOf(request, metadata),
          result: request.succeeded
            ? { succeeded: true, paidAt: request.paidTime ?? new Date() }
            : { succeeded: false },
        });
        if ('unknownOrder' in settled) {
          throw notFound('ORDER_NOT_FOUND', `order ${request.orderId} does not exist`, { order_id: request.orderId });
        }
        return { order: toMessage(settled.order) };
      },
    ),
  };
}
