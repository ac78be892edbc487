import type { Logger } from '@flash-sale/logging';
import { SALE_RETENTION_MS } from '../domain/sale';
import { LEDGER_CATCH_UP_MS } from './prepare-sale';
import type { LedgerProgress, SaleRepository, StockCache } from './ports';

export interface Drift {
  promotionId: string;
  /** Redis had lost the sale entirely and was rebuilt from the ledger. */
  rebuilt: boolean;
  /** Redis had lost the sale, but the ledger had not caught up yet: left closed until the next pass. */
  deferred?: boolean;
  /** Ledger entries Redis lacked or held in an older state (now merged). */
  entries: number;
  /** The stock counter minus what Redis's reservations say it should be (now set right). */
  stock: number;
}

/**
 * Compares each open sale's Redis counters with the PostgreSQL truth and repairs what differs: a sale Redis
 * lost is rebuilt; ledger entries missing from Redis (or released or paid there too late) are merged; a stock
 * counter that disagrees with Redis's own reservations is set right. Reports every drift it finds.
 */
export class ReconcileSales {
  constructor(
    private readonly sales: SaleRepository,
    private readonly cache: StockCache,
    private readonly progress: LedgerProgress,
    private readonly logger: Logger,
    private readonly report: (drift: Drift) => void = () => undefined,
  ) {}

  async run(now = new Date()): Promise<Drift[]> {
    const drifts: Drift[] = [];
    for (const promotionId of await this.sales.listOpenSince(new Date(now.getTime() - SALE_RETENTION_MS))) {
      const drift = await this.reconcile(promotionId);
      this.report(drift);
      if (drift.rebuilt || drift.deferred || drift.entries !== 0 || drift.stock !== 0) {
        this.logger.warn({ ...drift }, 'inventory drift found and repaired');
        drifts.push(drift);
      }
    }
    return drifts;
  }

  private async reconcile(promotionId: string): Promise<Drift> {
    const terms = await this.sales.find(promotionId);
    if (terms && !(await this.cache.isOpen(promotionId))) {
      if (!(await this.progress.catchUp(LEDGER_CATCH_UP_MS))) {
        return { promotionId, rebuilt: false, deferred: true, entries: 0, stock: 0 };
      }
      const { merged } = await this.cache.rebuild(terms, await this.sales.ledger(promotionId));
      return { promotionId, rebuilt: true, entries: merged, stock: 0 };
    }
    const merged = await this.cache.merge(promotionId, await this.sales.ledger(promotionId));
    const stock = await this.cache.checkStock(promotionId, true);
    return { promotionId, rebuilt: false, entries: merged, stock };
  }
}
