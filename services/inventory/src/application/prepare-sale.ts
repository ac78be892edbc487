import { availableFromTruth, validateTerms, type SaleTerms } from '../domain/sale';
import type { SaleRepository, StockCache } from './ports';

/**
 * Makes a promotion sellable: records its terms in PostgreSQL (the truth) and preheats Redis. Idempotent: a
 * repeat updates the terms but never re-seeds a stock counter that already exists.
 */
export class PrepareSale {
  constructor(
    private readonly sales: SaleRepository,
    private readonly cache: StockCache,
    private readonly onPrepared: (promotionId: string) => void = () => undefined,
  ) {}

  async execute(terms: SaleTerms): Promise<number> {
    validateTerms(terms);
    const { total, sold } = await this.sales.upsert(terms);
    const available = await this.cache.prepare(terms, availableFromTruth(total, sold));
    this.onPrepared(terms.promotionId);
    return available;
  }
}
