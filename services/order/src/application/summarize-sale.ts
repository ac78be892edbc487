import { assertId } from '@flash-sale/errors';
import type { OrderRepository, StatusCount } from './ports';

/** How the written orders of one promotion stand (orders still PENDING have no row and are not counted). */
export interface SaleSummary {
  promotionId: string;
  statuses: StatusCount[];
  orders: number;
  units: number;
  firstOrderAt?: Date;
  lastOrderAt?: Date;
}

export class SummarizeSale {
  constructor(private readonly orders: OrderRepository) {}

  async execute(promotionId: string): Promise<SaleSummary> {
    assertId(promotionId, 'promotion_id');
    const statuses = await this.orders.countByStatus(promotionId);
    const times = statuses.flatMap((count) => [count.firstCreatedAt.getTime(), count.lastCreatedAt.getTime()]);
    return {
      promotionId,
      statuses,
      orders: statuses.reduce((sum, count) => sum + count.orders, 0),
      units: statuses.reduce((sum, count) => sum + count.units, 0),
      ...(times.length
        ? { firstOrderAt: new Date(Math.min(...times)), lastOrderAt: new Date(Math.max(...times)) }
        : {}),
    };
  }
}
