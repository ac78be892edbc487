import { validateTerms, type SaleTerms } from '../domain/sale';
import type { SaleRepository, StockCache } from './ports';

/**
 * Makes a promotion sellable, and is also how Redis is rebuilt: records the terms in PostgreSQL (the truth),
 * then brings Redis into line with the reservation ledger and opens the sale. Idempotent: on a live sale it
 * changes nothing but the terms; on a Redis that lost its data it restores stock, per-user counts, idempotency
 * keys and reservations before any buyer is let in.
 */
export class PrepareSale {
  constructor(
    private readonly sales: SaleRepository,
    private readonly cache: StockCache,
    private readonly onPrepared: (promotionId: string) => void = () => undefined,
  ) {}

  async execute(terms: SaleTerms): Promise<number> {
    validateTerms(terms);
    await this.sales.upsert(terms);
    const { available } = await this.cache.rebuild(terms, await this.sales.ledger(terms.promotionId));
    this.onPrepared(terms.promotionId);
    return available;
  }
}
