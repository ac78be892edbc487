import { statusAt, type Promotion, type PromotionStatus } from '../domain/promotion';

export interface PromotionView extends Promotion {
  status: PromotionStatus;
  availableStock: number;
}

export function toView(promotion: Promotion, now: Date, available: number | undefined): PromotionView {
  return { ...promotion, status: statusAt(promotion, now, available), availableStock: available ?? promotion.stock };
}
