import { inventoryV1, orderV1, paymentV1, promotionV1 } from '@flash-sale/contracts';
import { isServiceError, readFailure } from '@flash-sale/grpc-kit';
import { orderJson, orderSummaryJson, paymentJson, promotionJson } from '../http/mappers';
import { HttpProblem, problem, type Problem } from '../http/problem';
import type { ReserveBatcher } from '../reserve-batcher';
import type { SoldOutSet } from '../sold-out-set';
import type { CallScope, Upstreams } from '../upstreams';

/** A validated request, as a handler sees it. */
export interface OperationInput {
  // Typed loosely here; each handler's input was parsed by its operation's own schemas.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  params: any;
  query: any;
  body: any;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  idempotencyKey: string;
  scope: CallScope;
}

export interface OperationResult {
  status: number;
  body: unknown;
  location?: string;
  /** Not the final answer for its idempotency key (work goes on): never replayed, the key is released instead. */
  provisional?: true;
}

export type Handler = (input: OperationInput) => Promise<OperationResult>;

/**
 * A refusal an operation can decide from memory before its idempotency key is claimed: undefined to go ahead, or
 * what refuses (counting the refusal). Only for outcomes that are never replayed (they may differ on a later try):
 * the key is then only read, so a stored answer is still replayed, and nothing is written. The refusal is the
 * problem itself, not an error to throw: it is answered directly, without capturing a stack trace for every
 * buyer who presses buy after the sale sold out.
 */
export type MemoryRefusal = (input: OperationInput) => (() => Problem) | undefined;

export interface HandlerDependencies {
  upstreams: Upstreams;
  soldOut: SoldOutSet;
  /** Counts purchases refused from the in-memory sold-out set. */
  soldOutRejected: () => void;
  /** Coalesces purchases into ReserveBatch calls; without it, each purchase is its own Reserve call. */
  batcher?: ReserveBatcher;
}

const RESERVE = 'flashsale.inventory.v1.InventoryService.Reserve';

/** The operations that can be refused from memory (see MemoryRefusal), by fully qualified method. */
export function memoryRefusals({
  soldOut,
  soldOutRejected,
}: Pick<HandlerDependencies, 'soldOut' | 'soldOutRejected'>): Record<string, MemoryRefusal> {
  return {
    // The sold-out fast path: once a sale is known to be sold out, buyers never reach inventory.
    [RESERVE]: ({ params }) =>
      soldOut.has((params as { promotionId: string }).promotionId)
        ? () => {
            soldOutRejected();
            return problem(409, 'SOLD_OUT', 'the promotion is sold out');
          }
        : undefined,
  };
}

const ok = (body: unknown, status = 200, location?: string): OperationResult => ({
  status,
  body,
  ...(location ? { location } : {}),
});
const page = <T>(key: string, items: T[], nextPageToken: string) => ({
  [key]: items,
  ...(nextPageToken ? { nextPageToken } : {}),
});

/** Each gRPC method's translation: request message in, JSON out. No rules live here. */
export function operationHandlers({
  upstreams,
  soldOut,
  soldOutRejected,
  batcher,
}: HandlerDependencies): Record<string, Handler> {
  const { promotion, inventory, order, payment } = upstreams.clients;
  const call = upstreams.call.bind(upstreams);
  const soldOutRefusal = memoryRefusals({ soldOut, soldOutRejected })[RESERVE]!;
  return {
    'flashsale.promotion.v1.PromotionService.CreatePromotion': async ({ body, scope }) => {
      const request = promotionV1.CreatePromotionRequest.fromPartial({
        ...body,
        priceCents: String(body.priceCents),
        startsAt: new Date(body.startsAt),
        endsAt: new Date(body.endsAt),
      });
      const json = promotionJson((await call('promotion', promotion.createPromotion, request, scope)).promotion!);
      return ok(json, 201, `/v1/promotions/${json.id}`);
    },
    'flashsale.promotion.v1.PromotionService.ListPromotions': async ({ query, scope }) => {
      const request = promotionV1.ListPromotionsRequest.fromPartial({
        pageSize: query.pageSize ?? 0,
        pageToken: query.pageToken ?? '',
        status: query.status ? promotionV1.promotionStatusFromJSON(`PROMOTION_STATUS_${query.status}`) : 0,
      });
      const reply = await call('promotion', promotion.listPromotions, request, scope);
      return ok(page('promotions', reply.promotions.map(promotionJson), reply.nextPageToken));
    },
    'flashsale.promotion.v1.PromotionService.GetPromotion': async ({ params, scope }) => {
      const reply = await call('promotion', promotion.getPromotion, { promotionId: params.promotionId }, scope);
      return ok(promotionJson(reply.promotion!));
    },
    'flashsale.promotion.v1.PromotionService.PreheatPromotion': async ({ params, scope }) => {
      const reply = await call('promotion', promotion.preheatPromotion, { promotionId: params.promotionId }, scope);
      return ok(promotionJson(reply.promotion!));
    },
    [RESERVE]: async (input) => {
      const { params, body, idempotencyKey, scope } = input;
      const { promotionId } = params as { promotionId: string };
      // Checked again here: the sale may have sold out while the key was being claimed.
      const refuse = soldOutRefusal(input);
      if (refuse) throw new HttpProblem(refuse());
      const request = inventoryV1.ReserveRequest.fromPartial({ promotionId, quantity: body.quantity, idempotencyKey });
      const reserved = batcher ? batcher.reserve(request, scope) : call('inventory', inventory.reserve, request, scope);
      const reply = await reserved.catch((error: unknown) => {
        const reason =
          error instanceof HttpProblem ? error.problem.code : isServiceError(error) && readFailure(error).info?.reason;
        if (reason === 'SOLD_OUT') soldOut.add(promotionId);
        throw error;
      });
      return ok({ orderId: reply.orderId, status: 'PENDING' }, 202, `/v1/orders/${reply.orderId}`);
    },
    'flashsale.order.v1.OrderService.ListOrders': async ({ query, scope }) => {
      const request = orderV1.ListOrdersRequest.fromPartial({
        pageSize: query.pageSize ?? 0,
        pageToken: query.pageToken ?? '',
      });
      const reply = await call('order', order.listOrders, request, scope);
      return ok(page('orders', reply.orders.map(orderJson), reply.nextPageToken));
    },
    'flashsale.order.v1.OrderService.GetOrder': async ({ params, scope }) => {
      const reply = await call('order', order.getOrder, { orderId: params.orderId }, scope);
      return ok(orderJson(reply.order!));
    },
    'flashsale.payment.v1.PaymentService.Pay': async ({ params, idempotencyKey, scope }) => {
      const request = paymentV1.PayRequest.fromPartial({ orderId: params.orderId, idempotencyKey });
      const reply = await call('payment', payment.pay, request, scope);
      const body = paymentJson(reply.payment!, reply.orderStatus);
      if (body.status === 'PAID') return ok(body);
      // Still charging: the answer is not final for this key, so a retry with it asks again.
      return { ...ok(body, 202, `/v1/orders/${params.orderId}`), provisional: true };
    },
    'flashsale.order.v1.OrderService.GetSaleSummary': async ({ params, scope }) => {
      const reply = await call('order', order.getSaleSummary, { promotionId: params.promotionId }, scope);
      return ok(orderSummaryJson(reply));
    },
    'flashsale.order.v1.OrderService.CancelOrder': async ({ params, scope }) => {
      const reply = await call('order', order.cancelOrder, { orderId: params.orderId }, scope);
      return ok(orderJson(reply.order!));
    },
  };
}
