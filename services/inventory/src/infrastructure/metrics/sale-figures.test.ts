import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createLogger } from '@flash-sale/logging';
import { OpenSales } from '../../application/open-sales';
import type { ReservationOutcome } from '../../domain/reservation';
import { saleKeys } from '../../domain/sale-keys';
import { SaleFigures, tally, type ReservationTally } from './sale-figures';

const logger = createLogger({ service: 'sale-figures-test', level: 'silent' });
const HOUR = 3_600_000;

/** Redis holding `values` (key -> value, `key#field` for a hash field), answering the pipelined reads. */
function fakeRedis(values: Record<string, string>): Redis {
  return {
    pipeline() {
      const reads: string[] = [];
      const pipeline = {
        get: (key: string) => (reads.push(key), pipeline),
        hget: (key: string, field: string) => (reads.push(`${key}#${field}`), pipeline),
        exec: async () => reads.map((key) => [null, values[key] ?? null]),
      };
      return pipeline;
    },
  } as unknown as Redis;
}

function setUp(listed: { promotionId: string; endsAt: Date }[] = []) {
  const registry = new Registry();
  // As PostgreSQL lists them: the sales whose window ends after now.
  const open = new OpenSales({ listOpen: async (now) => listed.filter((sale) => sale.endsAt > now) });
  const keys = saleKeys('1');
  const figures = new SaleFigures(
    registry,
    open,
    fakeRedis({ [keys.stock]: '3', [`${keys.meta}#total`]: '10' }),
    logger,
  );
  const samples = async (promotion: string) =>
    (await registry.metrics()).split('\n').filter((line) => line.includes(`promotion="${promotion}"`));
  return { registry, open, figures, samples };
}

const batch = (...items: [string, ReservationOutcome][]) => {
  const outcomes: ReservationTally = new Map();
  for (const [promotion, outcome] of items) tally(outcomes, promotion, outcome);
  return outcomes;
};

describe("inventory's sale figures", () => {
  it('when an open sale is scraped, then its stock comes from Redis and its purchases are counted per batch', async () => {
    const sale = { promotionId: '1', endsAt: new Date(Date.now() + HOUR) };
    const { open, figures, samples } = setUp([sale]);
    open.note(sale.promotionId, sale.endsAt);
    figures.count(batch(['1', 'accepted'], ['1', 'accepted'], ['1', 'sold_out']));
    expect(await samples('1')).toEqual(
      expect.arrayContaining([
        'flashsale_stock_available{promotion="1"} 3',
        'flashsale_stock_total{promotion="1"} 10',
        'flashsale_reservations_total{promotion="1",outcome="accepted"} 2',
        'flashsale_reservations_total{promotion="1",outcome="sold_out"} 1',
      ]),
    );
  });

  it('when a promotion is not known as open, then only what proves the sale exists is counted, until a refresh says', async () => {
    const { figures, samples } = setUp();
    figures.count(batch(['7', 'not_preheated'], ['8', 'not_preheated'], ['8', 'sold_out']));
    expect(await samples('7')).toEqual([]);
    // Sale 8 exists (the script found it sold out) but is not listed as open: the refresh of the scrape drops it.
    expect(await samples('8')).toEqual([]);
    figures.count(batch(['8', 'sold_out']));
    expect(await samples('8')).toEqual([]);
  });

  it("when a sale's window ends, then its stock, purchases and drift series go", async () => {
    const sale = { promotionId: '1', endsAt: new Date(Date.now() + 200) };
    const { open, figures, samples } = setUp([sale]);
    open.note(sale.promotionId, sale.endsAt);
    figures.count(batch(['1', 'accepted']));
    figures.drift({ promotionId: '1', rebuilt: true, entries: 2, stock: 0 });
    const before = await samples('1');
    expect(before).toContain('inventory_reconcile_drift{promotion="1",kind="rebuilt"} 1');
    expect(before).toContain('flashsale_reservations_total{promotion="1",outcome="accepted"} 1');
    await new Promise((resolve) => setTimeout(resolve, 250));
    await open.refresh();
    expect(await samples('1')).toEqual([]);
  });

  it('when the reconciler reports a sale this process has not seen open yet, then it is looked up before it is kept', async () => {
    const { figures, samples } = setUp([{ promotionId: '1', endsAt: new Date(Date.now() + HOUR) }]);
    figures.drift({ promotionId: '1', rebuilt: true, entries: 0, stock: 0 });
    figures.drift({ promotionId: '9', rebuilt: true, entries: 0, stock: 0 }); // ended: not listed
    await new Promise((resolve) => setImmediate(resolve));
    expect(await samples('1')).toContain('inventory_reconcile_drift{promotion="1",kind="rebuilt"} 1');
    expect(await samples('9')).toEqual([]);
  });
});
