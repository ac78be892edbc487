import { assertId, notFound } from '@flash-sale/errors';
import type { PromotionStatus } from '../domain/promotion';
import type { Clock, InventoryPort, PromotionRepository } from './ports';
import { toView, type PromotionView } from './promotion-view';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export class QueryPromotions {
  constructor(
    private readonly promotions: PromotionRepository,
    private readonly inventory: InventoryPort,
    private readonly clock: Clock,
  ) {}

  async get(id: string): Promise<PromotionView> {
    assertId(id, 'promotion_id');
    const promotion = await this.promotions.find(id);
    if (!promotion) throw notFound('PROMOTION_NOT_FOUND', `promotion ${id} does not exist`, { promotion_id: id });
    return toView(promotion, this.clock(), await this.inventory.availableStock(id));
  }

  /** A page of promotions, newest first, optionally only those with `status` now. */
  async list(query: { status?: PromotionStatus; pageSize?: number; afterId?: string }) {
    const now = this.clock();
    const pageSize = Math.min(Math.max(query.pageSize || DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE);
    const page = await this.promotions.list({
      now,
      pageSize,
      ...(query.status ? { window: query.status } : {}),
      ...(query.afterId ? { afterId: query.afterId } : {}),
    });
    const views: PromotionView[] = await Promise.all(
      page.promotions.map(async (promotion) =>
        toView(promotion, now, await this.inventory.availableStock(promotion.id)),
      ),
    );
    return {
      promotions: query.status ? views.filter((view) => view.status === query.status) : views,
      ...(page.nextAfterId ? { nextAfterId: page.nextAfterId } : {}),
    };
  }
}
