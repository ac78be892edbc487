import type { z } from '@flash-sale/config';
import * as s from './schemas';

export type Access = 'public' | 'user' | 'admin';

/**
 * What the HTTP API says about one gRPC method: who may call it, what it takes and what it answers. The method
 * and path are not here: they come from the method's `google.api.http` annotation in proto/ (see bind-routes.ts).
 */
export interface OperationSpec {
  /** Fully qualified gRPC method this route translates to. */
  rpc: string;
  operationId: string;
  summary: string;
  tag: 'promotions' | 'orders';
  access: Access;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** The JSON body; without one, a body must be absent or `{}`. */
  body?: z.ZodObject;
  /** Requires an `Idempotency-Key` header; the same key and body replay the same response. */
  idempotent?: true;
  /** The gRPC call may be sent again after UNAVAILABLE: a read, or a write the upstream dedupes by key. */
  retry?: true;
  success: { status: number; description: string; schema: z.ZodType };
  /** A second success the route can answer (e.g. 202 while work goes on), documented beside the first. */
  alsoSucceeds?: { status: number; description: string; schema: z.ZodType };
  /** OpenAPI links: operations that take a value of this response (by operationId -> parameter -> expression). */
  links?: Record<string, Record<string, string>>;
  /** Outcomes particular to this route, by HTTP status (the general ones are added for every route). */
  outcomes: Record<number, string>;
}

export const OPERATIONS: readonly OperationSpec[] = [
  {
    rpc: 'flashsale.promotion.v1.PromotionService.CreatePromotion',
    operationId: 'createPromotion',
    summary: 'Create a flash sale and preheat its stock',
    tag: 'promotions',
    access: 'admin',
    body: s.createPromotionBody,
    success: { status: 201, description: 'the promotion, with a Location header', schema: s.promotion },
    links: {
      getPromotion: { promotionId: '$response.body#/id' },
      preheatPromotion: { promotionId: '$response.body#/id' },
      purchase: { promotionId: '$response.body#/id' },
    },
    outcomes: { 400: 'INVALID_REQUEST, INVALID_PROMOTION' },
  },
  {
    rpc: 'flashsale.promotion.v1.PromotionService.ListPromotions',
    operationId: 'listPromotions',
    retry: true,
    summary: 'List promotions, newest first',
    tag: 'promotions',
    access: 'public',
    query: s.listPromotionsQuery,
    success: { status: 200, description: 'one page of promotions', schema: s.promotionList },
    outcomes: { 400: 'INVALID_REQUEST, INVALID_PAGE_TOKEN' },
  },
  {
    rpc: 'flashsale.promotion.v1.PromotionService.GetPromotion',
    operationId: 'getPromotion',
    retry: true,
    summary: 'A promotion with its live available stock and status',
    tag: 'promotions',
    access: 'public',
    params: s.promotionIdParams,
    success: { status: 200, description: 'the promotion', schema: s.promotion },
    outcomes: { 404: 'PROMOTION_NOT_FOUND' },
  },
  {
    rpc: 'flashsale.promotion.v1.PromotionService.PreheatPromotion',
    operationId: 'preheatPromotion',
    retry: true,
    summary: "Rebuild the promotion's Redis counters from PostgreSQL (idempotent)",
    tag: 'promotions',
    access: 'admin',
    params: s.promotionIdParams,
    success: { status: 200, description: 'the promotion after the rebuild', schema: s.promotion },
    outcomes: { 404: 'PROMOTION_NOT_FOUND', 409: 'the sale can no longer be preheated' },
  },
  {
    rpc: 'flashsale.inventory.v1.InventoryService.Reserve',
    operationId: 'purchase',
    retry: true,
    summary: 'Reserve stock; the order is created asynchronously',
    tag: 'promotions',
    access: 'user',
    params: s.promotionIdParams,
    body: s.purchaseBody,
    idempotent: true,
    success: { status: 202, description: 'reserved; the order is PENDING until written', schema: s.purchaseAccepted },
    links: {
      getOrder: { orderId: '$response.body#/orderId' },
      payOrder: { orderId: '$response.body#/orderId' },
      cancelOrder: { orderId: '$response.body#/orderId' },
    },
    outcomes: {
      404: 'PROMOTION_NOT_FOUND',
      409: 'SOLD_OUT, INSUFFICIENT_STOCK, PURCHASE_LIMIT_REACHED, SALE_NOT_ACTIVE',
    },
  },
  {
    rpc: 'flashsale.order.v1.OrderService.ListOrders',
    operationId: 'listOrders',
    retry: true,
    summary: "The caller's orders, newest first",
    tag: 'orders',
    access: 'user',
    query: s.listOrdersQuery,
    success: { status: 200, description: 'one page of orders', schema: s.orderList },
    outcomes: { 400: 'INVALID_REQUEST, INVALID_PAGE_TOKEN' },
  },
  {
    rpc: 'flashsale.order.v1.OrderService.GetOrder',
    operationId: 'getOrder',
    retry: true,
    summary: 'An order of the caller (any order for an admin)',
    tag: 'orders',
    access: 'user',
    params: s.orderIdParams,
    success: { status: 200, description: 'the order', schema: s.order },
    outcomes: { 404: 'ORDER_NOT_FOUND' },
  },
  {
    rpc: 'flashsale.payment.v1.PaymentService.Pay',
    operationId: 'payOrder',
    retry: true,
    summary:
      'Pay an order awaiting payment; the amount comes from the order. The order is claimed (PAYING) before it is ' +
      'charged, so a payment sent before the deadline keeps the item however long the charge takes',
    tag: 'orders',
    access: 'user',
    params: s.orderIdParams,
    idempotent: true,
    success: { status: 200, description: 'the order is PAID', schema: s.payment },
    alsoSucceeds: {
      status: 202,
      description:
        'the order is PAYING: the charge is still running (or the order is being updated after it). The order ' +
        "stays the buyer's; GET the order (Location) until it is PAID, or send the same key again",
      schema: s.payment,
    },
    outcomes: {
      402: 'PAYMENT_DECLINED (nothing was charged; a new key may try again)',
      404: 'ORDER_NOT_FOUND',
      409:
        'ORDER_NOT_PAYABLE (paid, expired, cancelled, or the deadline passed), ORDER_BEING_PAID (another payment ' +
        'is running; if it fails, pay again), PAYMENT_ABANDONED (the attempt was given up before any charge; a new ' +
        'key may try again)',
    },
  },
  {
    rpc: 'flashsale.order.v1.OrderService.CancelOrder',
    operationId: 'cancelOrder',
    summary: 'Cancel an unpaid order; its stock comes back',
    tag: 'orders',
    access: 'user',
    params: s.orderIdParams,
    success: { status: 200, description: 'the cancelled order', schema: s.order },
    outcomes: {
      404: 'ORDER_NOT_FOUND',
      409: 'ORDER_NOT_CANCELLABLE (paid, expired or cancelled), ORDER_BEING_PAID (a payment is running)',
    },
  },
  {
    rpc: 'flashsale.order.v1.OrderService.GetSaleSummary',
    operationId: 'getOrderSummary',
    retry: true,
    summary: "How a promotion's orders stand: orders and units by status, counted from the order rows",
    tag: 'orders',
    access: 'admin',
    params: s.promotionIdParams,
    success: {
      status: 200,
      description: 'the counts (all zero for a promotion without orders)',
      schema: s.orderSummary,
    },
    outcomes: {},
  },
];

/** Outcomes any route can have, by HTTP status. */
export function generalOutcomes(spec: OperationSpec, method: string): Record<number, string> {
  const outcomes: Record<number, string> = {
    400: 'INVALID_REQUEST: a field is invalid (listed in `errors`)',
    401: 'UNAUTHENTICATED, INVALID_TOKEN, TOKEN_EXPIRED',
    429: 'RATE_LIMITED (see Retry-After)',
    500: 'INTERNAL',
    502: 'UPSTREAM_ERROR',
    503: 'UPSTREAM_UNAVAILABLE, OVERLOADED (see Retry-After)',
    504: 'UPSTREAM_TIMEOUT',
  };
  if (spec.access === 'admin') outcomes[403] = 'FORBIDDEN: the admin role is needed';
  if (method === 'POST') {
    outcomes[413] = 'BODY_TOO_LARGE';
    outcomes[415] = 'UNSUPPORTED_MEDIA_TYPE: the body must be application/json';
  }
  if (spec.idempotent) outcomes[422] = 'IDEMPOTENCY_KEY_REUSED: the key was used with another request';
  return outcomes;
}
