import { assertId, notFound } from '@flash-sale/errors';
import type { LedgerEntry } from '../domain/ledger';
import type { SaleRepository, StockCache, StockSignals } from './ports';

/**
 * Ends a reservation: released (order expired or cancelled) or confirmed (order paid). Both idempotent per
 * order. The ledger in PostgreSQL is written first, then Redis: a crash in between leaves Redis behind the
 * truth, which a redelivered event or the reconciler repairs; never the other way round.
 */
export class SettleReservation {
  constructor(
    private readonly cache: StockCache,
    private readonly sales: SaleRepository,
    private readonly signals: StockSignals,
  ) {}

  /** Gives the units back to stock and to the buyer's quota; true only for the call that did it. */
  async release(orderId: string): Promise<boolean> {
    const entry = await this.find(orderId);
    const settled = await this.sales.settle(entry, 'RELEASED');
    const result = await this.cache.release(entry.promotionId, orderId);
    if (result.outcome === 'RELEASED' && result.stockNow === result.units) {
      // The sale was sold out until this release: gateways may let buyers through again.
      this.signals.available(entry.promotionId, result.stockNow);
    }
    return settled || result.outcome === 'RELEASED';
  }

  /** Counts the units as sold in PostgreSQL (once per order), then marks the reservation paid in Redis. */
  async confirm(orderId: string): Promise<boolean> {
    const entry = await this.find(orderId);
    const counted = await this.sales.settle(entry, 'CONFIRMED');
    await this.cache.confirm(entry.promotionId, orderId);
    return counted;
  }

  /** Redis knows live reservations; the ledger knows them too once recorded, and after Redis lost its data. */
  private async find(orderId: string): Promise<LedgerEntry> {
    assertId(orderId, 'order_id');
    const entry = (await this.cache.findReservation(orderId)) ?? (await this.sales.findEntry(orderId));
    if (!entry) throw notFound('RESERVATION_NOT_FOUND', `no reservation for order ${orderId}`, { order_id: orderId });
    return entry;
  }
}
