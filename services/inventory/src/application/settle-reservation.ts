import { assertId, notFound, precondition } from '@flash-sale/errors';
import type { Reservation } from '../domain/reservation';
import type { SaleRepository, StockCache, StockSignals } from './ports';

/** Ends a reservation: released (expired or cancelled order) or confirmed (paid order). Both idempotent. */
export class SettleReservation {
  constructor(
    private readonly cache: StockCache,
    private readonly sales: SaleRepository,
    private readonly signals: StockSignals,
  ) {}

  /** Gives the units back to stock and to the buyer's quota; true only for the call that did it. */
  async release(orderId: string): Promise<boolean> {
    const reservation = await this.find(orderId);
    const result = await this.cache.release(reservation.promotionId, orderId);
    if (result.outcome !== 'RELEASED') return false;
    // The sale was sold out until this release: gateways may let buyers through again.
    if (result.stockNow === result.units) this.signals.available(reservation.promotionId, result.stockNow);
    return true;
  }

  /**
   * Marks the reservation paid in Redis, which decides against a racing release, then counts the units as sold
   * in PostgreSQL (once per order id, so a retry after a crash between the two steps still counts them once).
   * A released reservation cannot be paid: its units went back to stock and may already be sold again.
   */
  async confirm(orderId: string): Promise<boolean> {
    const reservation = await this.find(orderId);
    const marked = await this.cache.confirm(reservation.promotionId, orderId);
    if (marked === 'RELEASED') {
      throw precondition('RESERVATION_RELEASED', `the reservation of order ${orderId} was released`, {
        order_id: orderId,
      });
    }
    if (marked === 'UNKNOWN') throw reservationNotFound(orderId);
    return this.sales.confirmSold(reservation.promotionId, orderId, reservation.quantity);
  }

  private async find(orderId: string): Promise<Reservation> {
    assertId(orderId, 'order_id');
    const reservation = await this.cache.findReservation(orderId);
    if (!reservation) throw reservationNotFound(orderId);
    return reservation;
  }
}

const reservationNotFound = (orderId: string) =>
  notFound('RESERVATION_NOT_FOUND', `no reservation for order ${orderId}`, { order_id: orderId });
