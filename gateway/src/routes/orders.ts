import { Router } from 'express';
import { orderV1, paymentV1 } from '@flash-sale/contracts';
import { orderJson, paymentJson } from '../http/mappers';
import { emptyBody, idParam, listOrdersQuery, parse, requireIdempotencyKey } from '../http/validation';
import { invoke, type Upstreams } from '../upstreams';
import type { AuthMiddleware } from './auth-middleware';
import { scopeOf } from './context';

/** `/v1/orders`: thin translations to the order and payment services. */
export function orderRoutes(upstreams: Upstreams, auth: AuthMiddleware, timeoutMs: number): Router {
  const router = Router();
  const { order, payment } = upstreams;

  router.get('/v1/orders', auth.user, async (req, res) => {
    const query = parse(listOrdersQuery, req.query, 'query');
    const request = orderV1.ListOrdersRequest.fromPartial({
      pageSize: query.pageSize ?? 0,
      pageToken: query.pageToken ?? '',
    });
    const reply = await invoke(order, order.listOrders, request, scopeOf(req, timeoutMs));
    res.json({
      orders: reply.orders.map(orderJson),
      ...(reply.nextPageToken ? { nextPageToken: reply.nextPageToken } : {}),
    });
  });

  router.get('/v1/orders/:id', auth.user, async (req, res) => {
    const orderId = parse(idParam, req.params.id, 'path');
    const reply = await invoke(order, order.getOrder, { orderId }, scopeOf(req, timeoutMs));
    res.json(orderJson(reply.order!));
  });

  router.post('/v1/orders/:id/pay', auth.user, async (req, res) => {
    const orderId = parse(idParam, req.params.id, 'path');
    const idempotencyKey = requireIdempotencyKey(req.get('idempotency-key'));
    parse(emptyBody, req.body, 'body');
    const request = paymentV1.PayRequest.fromPartial({ orderId, idempotencyKey });
    const reply = await invoke(payment, payment.pay, request, scopeOf(req, timeoutMs));
    res.json(paymentJson(reply.payment!));
  });

  router.post('/v1/orders/:id/cancel', auth.user, async (req, res) => {
    const orderId = parse(idParam, req.params.id, 'path');
    parse(emptyBody, req.body, 'body');
    const reply = await invoke(order, order.cancelOrder, { orderId }, scopeOf(req, timeoutMs));
    res.json(orderJson(reply.order!));
  });

  return router;
}
