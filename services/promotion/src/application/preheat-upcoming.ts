import type { Logger } from '@flash-sale/logging';
import { preheatWindow } from '../domain/promotion';
import type { Clock, InventoryPort, PromotionRepository } from './ports';

/**
 * The scheduled preheat: every promotion that opens within the lead time gets its Redis counters rebuilt by
 * inventory (idempotent, so running it on every pass and on every replica is safe). One promotion failing
 * does not keep the others cold; it is retried on the next pass.
 */
export class PreheatUpcoming {
  constructor(
    private readonly promotions: PromotionRepository,
    private readonly inventory: InventoryPort,
    private readonly clock: Clock,
    private readonly leadMs: number,
    private readonly logger: Logger,
  ) {}

  /** Returns the ids it preheated. */
  async run(): Promise<string[]> {
    const done: string[] = [];
    for (const promotion of await this.promotions.listStarting(preheatWindow(this.clock(), this.leadMs))) {
      try {
        const available = await this.inventory.prepareSale(promotion);
        this.logger.info({ promotion_id: promotion.id, available }, 'promotion preheated before its start');
        done.push(promotion.id);
      } catch (error) {
        this.logger.error({ err: error, promotion_id: promotion.id }, 'scheduled preheat failed; retried next pass');
      }
    }
    return done;
  }
}
