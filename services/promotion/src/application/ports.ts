import type { Promotion, PromotionStatus } from '../domain/promotion';

export interface PromotionPage {
  promotions: Promotion[];
  /** Id to continue after, when there may be more. */
  nextAfterId?: string;
}

export interface PromotionRepository {
  insert(promotion: Promotion): Promise<void>;
  find(id: string): Promise<Promotion | undefined>;
  /** Newest first. `window` narrows by time (SCHEDULED, ENDED, or open now for ACTIVE and SOLD_OUT). */
  list(query: { window?: PromotionStatus; now: Date; pageSize: number; afterId?: string }): Promise<PromotionPage>;
  /** Promotions whose start is after `after` and at or before `until`. */
  listStarting(window: { after: Date; until: Date }): Promise<Promotion[]>;
}

/** The inventory service, as the promotion service needs it. */
export interface InventoryPort {
  /** Records the sale's stock truth and preheats Redis; idempotent. Returns the available units. */
  prepareSale(promotion: Promotion): Promise<number>;
  /** Units available now, or undefined when inventory has no stock for the promotion. */
  availableStock(promotionId: string): Promise<number | undefined>;
}

export interface IdGenerator {
  next(): string;
}

export type Clock = () => Date;
