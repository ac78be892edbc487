import { assertId, notFound } from '@flash-sale/errors';
import type { Reservation } from '../domain/reservation';
import { availableFromTruth } from '../domain/sale';
import type { SaleRepository, StockCache } from './ports';

export interface StockView {
  promotionId: string;
  total: number;
  available: number;
  sold: number;
  /** Units held by reservations and orders not yet paid. */
  reserved: number;
}

/** Read side: stock levels and single reservations. */
export class QueryStock {
  constructor(
    private readonly sales: SaleRepository,
    private readonly cache: StockCache,
  ) {}

  async stock(promotionId: string): Promise<StockView> {
    assertId(promotionId, 'promotion_id');
    const sale = await this.sales.find(promotionId);
    if (!sale)
      throw notFound('PROMOTION_NOT_FOUND', `promotion ${promotionId} has no stock`, { promotion_id: promotionId });
    const truth = availableFromTruth(sale.totalStock, sale.sold);
    const available = (await this.cache.available(promotionId)) ?? truth;
    return {
      promotionId,
      total: sale.totalStock,
      available,
      sold: sale.sold,
      reserved: Math.max(0, truth - available),
    };
  }

  async reservation(orderId: string): Promise<Reservation> {
    assertId(orderId, 'order_id');
    const reservation = await this.cache.findReservation(orderId);
    if (!reservation)
      throw notFound('RESERVATION_NOT_FOUND', `no reservation for order ${orderId}`, { order_id: orderId });
    return reservation;
  }
}
