import { status } from '@grpc/grpc-js';
import { Router } from 'express';
import { promotionV1 } from '@flash-sale/contracts';
import { isServiceError } from '@flash-sale/grpc-kit';
import { orderSummaryJson, promotionJson } from '../http/mappers';
import type { AuthMiddleware } from '../routes/auth-middleware';
import { scopeOf } from '../routes/context';
import type { Upstreams } from '../upstreams';
import type { ConsoleFeed, ConsoleSources } from './console-feed';
import { CONSOLE_PAGE, CONSOLE_SCRIPT } from './page';

/** The feed's sources: the same gRPC calls the public API makes, with the asking admin as the caller. */
export function upstreamSources(upstreams: Upstreams): ConsoleSources {
  const { promotion, order } = upstreams.clients;
  const read = { retry: true };
  return {
    list: async (which, pageSize, scope) => {
      const request = promotionV1.ListPromotionsRequest.fromPartial({
        pageSize,
        status: promotionV1.promotionStatusFromJSON(`PROMOTION_STATUS_${which}`),
      });
      const reply = await upstreams.call('promotion', promotion.listPromotions, request, { ...scope, ...read });
      return reply.promotions.map(promotionJson);
    },
    get: async (promotionId, scope) => {
      try {
        const reply = await upstreams.call('promotion', promotion.getPromotion, { promotionId }, { ...scope, ...read });
        return promotionJson(reply.promotion!);
      } catch (error) {
        if (isServiceError(error) && error.code === status.NOT_FOUND) return undefined;
        throw error;
      }
    },
    summary: async (promotionId, scope) =>
      orderSummaryJson(await upstreams.call('order', order.getSaleSummary, { promotionId }, { ...scope, ...read })),
  };
}

/**
 * `/console`: the live sale console. The page and its script carry no data and need no token; the page asks for an
 * admin token and polls `/console/sales` with it (admin only: 401 and 403 as on the admin routes).
 */
export function consoleRouter(feed: ConsoleFeed, auth: AuthMiddleware, timeoutMs: number): Router {
  const router = Router();
  router.get('/console', (_req, res) => void res.type('html').set('Cache-Control', 'no-cache').send(CONSOLE_PAGE));
  // A file of its own, not an inline script: the page keeps helmet's strict Content-Security-Policy.
  router.get(
    '/console/console.js',
    (_req, res) => void res.type('js').set('Cache-Control', 'no-cache').send(CONSOLE_SCRIPT),
  );
  router.get('/console/sales', auth.admin, async (req, res) => {
    const snapshot = await feed.snapshot(scopeOf(req, timeoutMs));
    res.set('Cache-Control', 'no-store').json(snapshot);
  });
  return router;
}
