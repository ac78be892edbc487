import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import { scrapeCache } from '@flash-sale/kafka-kit';
import type { Logger } from '@flash-sale/logging';
import type { OpenSales } from '../../application/open-sales';
import type { Drift } from '../../application/reconcile-sales';
import type { ReservationOutcome } from '../../domain/reservation';
import { saleKeys } from '../../domain/sale-keys';

const OUTCOMES: readonly ReservationOutcome[] = [
  'accepted',
  'duplicate',
  'not_preheated',
  'sale_not_started',
  'sale_ended',
  'purchase_limit_reached',
  'sold_out',
  'insufficient_stock',
];
const DRIFT_KINDS = ['entries', 'stock', 'rebuilt'] as const;

/** One batch's purchases, counted by promotion and outcome before they are added to the counter. */
export type ReservationTally = Map<string, Map<ReservationOutcome, number>>;

export function tally(into: ReservationTally, promotionId: string, outcome: ReservationOutcome): void {
  const outcomes = into.get(promotionId) ?? new Map<ReservationOutcome, number>();
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  into.set(promotionId, outcomes);
}

/**
 * The sale's figures in inventory, each labelled with its promotion only while the sale is open (see OpenSales):
 * stock available and total, read from Redis when scraped (one pipelined read for every open sale), purchases by
 * outcome, and the reconciler's drift. When a sale closes its series go.
 */
export class SaleFigures {
  private readonly reservations: Counter<'promotion' | 'outcome'>;
  private readonly drifts: Gauge<'promotion' | 'kind'>;
  /** The open sales read again from PostgreSQL, at most every 5 s whoever asks (scrapes, the reconciler). */
  private readonly refreshed: () => Promise<void>;

  constructor(
    registry: Registry,
    private readonly open: OpenSales,
    private readonly redis: Redis,
    logger: Logger,
  ) {
    const refresh = scrapeCache(() => open.refresh(), { maxAgeMs: 5_000, timeoutMs: 2_000 });
    const refreshed = () => refresh().catch((error: unknown) => logger.debug({ err: error }, 'open sales not listed'));
    this.refreshed = refreshed;
    const stock = scrapeCache(async () => (await refreshed(), this.readStock()), { maxAgeMs: 500, timeoutMs: 2_000 });
    const stockGauge = (name: string, help: string, pick: (sale: { available: number; total: number }) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['promotion'] as const,
        registers: [registry],
        async collect() {
          this.reset();
          try {
            for (const sale of await stock()) {
              // The read may be a moment older than a sale's closing.
              if (open.state(sale.promotionId) === 'open') this.set({ promotion: sale.promotionId }, pick(sale));
            }
          } catch (error) {
            logger.debug({ err: error }, 'stock not read');
          }
        },
      });
    stockGauge(
      'flashsale_stock_available',
      'Units an open sale can still sell (its Redis counter)',
      (s) => s.available,
    );
    stockGauge('flashsale_stock_total', 'Units an open sale was given', (s) => s.total);
    this.reservations = new Counter({
      name: 'flashsale_reservations_total',
      help: 'Purchases that reached the reserve script, by open sale and outcome (accepted, duplicate or the refusal)',
      labelNames: ['promotion', 'outcome'] as const,
      registers: [registry],
      // So a sale that closed since the last scrape is gone from this one too.
      collect: refreshed,
    });
    this.drifts = new Gauge({
      name: 'inventory_reconcile_drift',
      help: 'Differences the last reconciliation found between Redis and the PostgreSQL truth, by open sale and kind',
      labelNames: ['promotion', 'kind'] as const,
      registers: [registry],
      collect: refreshed,
    });
    open.onClose((promotion) => {
      for (const outcome of OUTCOMES) this.reservations.remove({ promotion, outcome });
      for (const kind of DRIFT_KINDS) this.drifts.remove({ promotion, kind });
    });
  }

  /**
   * Adds one batch's outcomes. A sale not known yet is counted when the script found it (every outcome but
   * not_preheated says it exists), and the next refresh of open sales keeps or drops it; a closed one is not.
   */
  count(outcomes: ReservationTally): void {
    for (const [promotion, counts] of outcomes) {
      const state = this.open.state(promotion);
      if (state === 'closed') continue;
      for (const [outcome, n] of counts) {
        if (state === 'unknown' && outcome === 'not_preheated') continue;
        this.open.saw(promotion);
        this.reservations.inc({ promotion, outcome }, n);
      }
    }
  }

  /**
   * The reconciler's findings for one sale, kept while it is open. A sale not known here yet (prepared by another
   * replica, or before a restart) is looked up first, so a rebuild right after start is not lost.
   */
  drift(found: Drift): void {
    const state = this.open.state(found.promotionId);
    if (state === 'unknown') void this.refreshed().then(() => this.setDrift(found));
    else this.setDrift(found);
  }

  private setDrift(found: Drift): void {
    if (this.open.state(found.promotionId) !== 'open') return;
    const promotion = found.promotionId;
    this.drifts.set({ promotion, kind: 'entries' }, found.entries);
    this.drifts.set({ promotion, kind: 'stock' }, found.stock);
    this.drifts.set({ promotion, kind: 'rebuilt' }, found.rebuilt ? 1 : 0);
  }

  private async readStock(): Promise<{ promotionId: string; available: number; total: number }[]> {
    const ids = this.open.ids();
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const promotionId of ids) {
      const keys = saleKeys(promotionId);
      pipeline.get(keys.stock).hget(keys.meta, 'total');
    }
    const replies = (await pipeline.exec()) ?? [];
    const sales = [];
    for (const [i, promotionId] of ids.entries()) {
      const [[stockError, available], [metaError, total]] = [
        replies[2 * i] ?? [null, null],
        replies[2 * i + 1] ?? [null, null],
      ];
      if (stockError || metaError) throw stockError ?? metaError;
      // A sale Redis lost (until the reconciler rebuilds it) has no figures to show.
      if (available === null || total === null) continue;
      sales.push({ promotionId, available: Number(available), total: Number(total) });
    }
    return sales;
  }
}
