import { validateNewPromotion, type NewPromotion } from '../domain/promotion';
import type { Clock, IdGenerator, InventoryPort, PromotionRepository } from './ports';
import { toView, type PromotionView } from './promotion-view';

/**
 * Creates a promotion: validates it, has inventory record the stock and preheat Redis, then stores it. The
 * inventory call comes first so that a promotion visible to buyers is always sellable; a failure in between
 * leaves only an orphan stock row under an id nobody knows.
 */
export class CreatePromotion {
  constructor(
    private readonly promotions: PromotionRepository,
    private readonly inventory: InventoryPort,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  async execute(input: NewPromotion): Promise<PromotionView> {
    const now = this.clock();
    const promotion = { ...validateNewPromotion(input, now), id: this.ids.next(), createdAt: now };
    const available = await this.inventory.prepareSale(promotion);
    await this.promotions.insert(promotion);
    return toView(promotion, now, available);
  }
}
