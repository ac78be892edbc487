import { assertId, notFound } from '@flash-sale/errors';
import type { Reservation } from '../domain/reservation';
import type { SaleRepository, StockCache } from './ports';

/** Ends a reservation: released (expired or cancelled order) or confirmed (paid order). Both idempotent. */
export class SettleReservation {
  constructor(
    private readonly cache: StockCache,
    private readonly sales: SaleRepository,
  ) {}

  /** Gives the units back to stock and to the buyer's quota; true only for the call that did it. */
  async release(orderId: string): Promise<boolean> {
    const reservation = await this.find(orderId);
    return (await this.cache.release(reservation.promotionId, orderId)) === true;
  }

  /** Counts the units as sold in PostgreSQL (once per order), then marks the reservation paid in Redis. */
  async confirm(orderId: string): Promise<boolean> {
    const reservation = await this.find(orderId);
    const counted = await this.sales.confirmSold(reservation.promotionId, orderId, reservation.quantity);
    await this.cache.confirm(reservation.promotionId, orderId);
    return counted;
  }

  private async find(orderId: string): Promise<Reservation> {
    assertId(orderId, 'order_id');
    const reservation = await this.cache.findReservation(orderId);
    if (!reservation)
      throw notFound('RESERVATION_NOT_FOUND', `no reservation for order ${orderId}`, { order_id: orderId });
    return reservation;
  }
}
