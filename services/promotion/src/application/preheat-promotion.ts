import { assertId, notFound } from '@flash-sale/errors';
import type { Clock, InventoryPort, PromotionRepository } from './ports';
import { toView, type PromotionView } from './promotion-view';

/** Preheats a promotion's Redis counters on demand (admin). Idempotent: never hands out stock twice. */
export class PreheatPromotion {
  constructor(
    private readonly promotions: PromotionRepository,
    private readonly inventory: InventoryPort,
    private readonly clock: Clock,
  ) {}

  async execute(id: string): Promise<PromotionView> {
    assertId(id, 'promotion_id');
    const promotion = await this.promotions.find(id);
    if (!promotion) throw notFound('PROMOTION_NOT_FOUND', `promotion ${id} does not exist`, { promotion_id: id });
    const available = await this.inventory.prepareSale(promotion);
    return toView(promotion, this.clock(), available);
  }
}
