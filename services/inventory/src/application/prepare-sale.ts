import { DomainError } from '@flash-sale/errors';
import { validateTerms, type SaleTerms } from '../domain/sale';
import type { LedgerProgress, SaleRepository, StockCache } from './ports';

/** How long a rebuild waits for the ledger to record what was already published before giving up for now. */
export const LEDGER_CATCH_UP_MS = 10_000;

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
    private readonly progress: LedgerProgress,
    /** Told about every sale made sellable (the outbox relay watches its stream, the figures count it open). */
    private readonly onPrepared: (terms: SaleTerms) => void = () => undefined,
  ) {}

  async execute(terms: SaleTerms): Promise<number> {
    validateTerms(terms);
    // A sale PostgreSQL knows but Redis lost may have reservations still on their way into the ledger.
    const lost = (await this.sales.find(terms.promotionId)) && !(await this.cache.isOpen(terms.promotionId));
    if (lost && !(await this.progress.catchUp(LEDGER_CATCH_UP_MS))) {
      throw new DomainError(
        'unavailable',
        'LEDGER_CATCHING_UP',
        'the reservation ledger is catching up; retry shortly',
      );
    }
    await this.sales.upsert(terms);
    const { available } = await this.cache.rebuild(terms, this.sales.ledgerPages(terms.promotionId));
    this.onPrepared(terms);
    return available;
  }
}
