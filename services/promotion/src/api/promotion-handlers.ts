import { promotionV1 } from '@flash-sale/contracts';
import { permissionDenied } from '@flash-sale/errors';
import { decodePageToken, encodePageToken, requireCaller, unary } from '@flash-sale/grpc-kit';
import type { Logger } from '@flash-sale/logging';
import type { Metadata } from '@grpc/grpc-js';
import type { PromotionStatus } from '../domain/promotion';
import type { CreatePromotion } from '../application/create-promotion';
import type { PreheatPromotion } from '../application/preheat-promotion';
import type { PromotionView } from '../application/promotion-view';
import type { QueryPromotions } from '../application/query-promotions';

export interface PromotionUseCases {
  create: CreatePromotion;
  query: QueryPromotions;
  preheat: PreheatPromotion;
}

const S = promotionV1.PromotionStatus;
const STATUS: Record<PromotionStatus, promotionV1.PromotionStatus> = {
  SCHEDULED: S.PROMOTION_STATUS_SCHEDULED,
  ACTIVE: S.PROMOTION_STATUS_ACTIVE,
  SOLD_OUT: S.PROMOTION_STATUS_SOLD_OUT,
  ENDED: S.PROMOTION_STATUS_ENDED,
};
const STATUS_NAME = new Map(Object.entries(STATUS).map(([name, value]) => [value, name as PromotionStatus]));

const toMessage = (view: PromotionView): promotionV1.Promotion => ({
  promotionId: view.id,
  itemId: view.itemId,
  title: view.title,
  priceCents: view.priceCents.toString(),
  stock: view.stock,
  perUserLimit: view.perUserLimit,
  startsAt: view.startsAt,
  endsAt: view.endsAt,
  paymentTimeoutSeconds: view.paymentTimeoutSeconds,
  status: STATUS[view.status],
  availableStock: view.availableStock,
  createTime: view.createdAt,
});

function requireAdmin(metadata: Metadata) {
  if (!requireCaller(metadata).isAdmin) throw permissionDenied('FORBIDDEN', 'this call needs the admin role');
}

export function promotionHandlers(useCases: PromotionUseCases, logger: Logger): promotionV1.PromotionServiceServer {
  const method = (name: string) => `flashsale.promotion.v1.PromotionService/${name}`;
  return {
    createPromotion: unary(
      method('CreatePromotion'),
      logger,
      async (request: promotionV1.CreatePromotionRequest, { metadata }) => {
        requireAdmin(metadata);
        const view = await useCases.create.execute({
          itemId: request.itemId,
          title: request.title,
          priceCents: BigInt(request.priceCents),
          stock: request.stock,
          perUserLimit: request.perUserLimit,
          startsAt: request.startsAt ?? new Date(Number.NaN),
          endsAt: request.endsAt ?? new Date(Number.NaN),
          paymentTimeoutSeconds: request.paymentTimeoutSeconds,
        });
        return { promotion: toMessage(view) };
      },
    ),
    getPromotion: unary(method('GetPromotion'), logger, async (request: promotionV1.GetPromotionRequest) => ({
      promotion: toMessage(await useCases.query.get(request.promotionId)),
    })),
    listPromotions: unary(method('ListPromotions'), logger, async (request: promotionV1.ListPromotionsRequest) => {
      const status = STATUS_NAME.get(request.status);
      const afterId = decodePageToken(request.pageToken);
      const page = await useCases.query.list({
        pageSize: request.pageSize,
        ...(status ? { status } : {}),
        ...(afterId ? { afterId } : {}),
      });
      return { promotions: page.promotions.map(toMessage), nextPageToken: encodePageToken(page.nextAfterId) };
    }),
    preheatPromotion: unary(
      method('PreheatPromotion'),
      logger,
      async (request: promotionV1.PreheatPromotionRequest, { metadata }) => {
        requireAdmin(metadata);
        return { promotion: toMessage(await useCases.preheat.execute(request.promotionId)) };
      },
    ),
  };
}
