import { Router } from 'express';
import { inventoryV1, promotionV1 } from '@flash-sale/contracts';
import { isServiceError, readFailure } from '@flash-sale/grpc-kit';
import { promotionJson } from '../http/mappers';
import {
  createPromotionBody,
  idParam,
  listPromotionsQuery,
  parse,
  purchaseBody,
  requireIdempotencyKey,
} from '../http/validation';
import { httpProblem } from '../http/problem';
import type { SoldOutSet } from '../sold-out-set';
import { invoke, type Upstreams } from '../upstreams';
import type { AuthMiddleware } from './auth-middleware';
import { scopeOf } from './context';

/** `/v1/promotions`: thin translations to the promotion and inventory services. */
export interface SoldOutGuard {
  set: SoldOutSet;
  /** Counts purchases rejected from memory. */
  rejected: () => void;
}

export function promotionRoutes(
  upstreams: Upstreams,
  auth: AuthMiddleware,
  timeoutMs: number,
  soldOut: SoldOutGuard,
): Router {
  const router = Router();
  const { promotion, inventory } = upstreams;

  router.post('/v1/promotions', auth.admin, async (req, res) => {
    const body = parse(createPromotionBody, req.body, 'body');
    const request = promotionV1.CreatePromotionRequest.fromPartial({
      ...body,
      priceCents: String(body.priceCents),
      startsAt: new Date(body.startsAt),
      endsAt: new Date(body.endsAt),
    });
    const reply = await invoke(promotion, promotion.createPromotion, request, scopeOf(req, timeoutMs));
    const json = promotionJson(reply.promotion!);
    res.status(201).location(`/v1/promotions/${json.id}`).json(json);
  });

  router.get('/v1/promotions', auth.optional, async (req, res) => {
    const query = parse(listPromotionsQuery, req.query, 'query');
    const request = promotionV1.ListPromotionsRequest.fromPartial({
      pageSize: query.pageSize ?? 0,
      pageToken: query.pageToken ?? '',
      status: query.status ? promotionV1.promotionStatusFromJSON(`PROMOTION_STATUS_${query.status}`) : 0,
    });
    const reply = await invoke(promotion, promotion.listPromotions, request, scopeOf(req, timeoutMs));
    res.json({
      promotions: reply.promotions.map(promotionJson),
      ...(reply.nextPageToken ? { nextPageToken: reply.nextPageToken } : {}),
    });
  });

  router.get('/v1/promotions/:id', auth.optional, async (req, res) => {
    const promotionId = parse(idParam, req.params.id, 'path');
    const reply = await invoke(promotion, promotion.getPromotion, { promotionId }, scopeOf(req, timeoutMs));
    res.json(promotionJson(reply.promotion!));
  });

  router.post('/v1/promotions/:id/purchase', auth.user, async (req, res) => {
    const promotionId = parse(idParam, req.params.id, 'path');
    const idempotencyKey = requireIdempotencyKey(req.get('idempotency-key'));
    const { quantity } = parse(purchaseBody, req.body, 'body');
    // The sold-out fast path: once a sale is known to be sold out, buyers never reach inventory.
    if (soldOut.set.has(promotionId)) {
      soldOut.rejected();
      throw httpProblem(409, 'SOLD_OUT', 'the promotion is sold out');
    }
    const request = inventoryV1.ReserveRequest.fromPartial({ promotionId, quantity, idempotencyKey });
    const reply = await invoke(inventory, inventory.reserve, request, scopeOf(req, timeoutMs)).catch(
      (error: unknown) => {
        if (isServiceError(error) && readFailure(error).info?.reason === 'SOLD_OUT') soldOut.set.add(promotionId);
        throw error;
      },
    );
    res.status(202).location(`/v1/orders/${reply.orderId}`).json({ orderId: reply.orderId, status: 'PENDING' });
  });

  return router;
}
