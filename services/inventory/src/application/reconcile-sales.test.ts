import { createLogger } from '@flash-sale/logging';
import type { LedgerEntry } from '../domain/ledger';
import type { SaleTerms } from '../domain/sale';
import type { HeldRecount, LedgerInput, LedgerProgress, SaleRepository, StockCache } from './ports';
import { planPass, ReconcileSales, REDIS_CLOCK_MARGIN_MS, type Drift, type PassState } from './reconcile-sales';

const options = { fullEveryMs: 600_000, overlapMs: 60_000 };
const T0 = Date.parse('2030-01-01T00:00:00Z');
const logger = createLogger({ service: 'test', level: 'silent' });

describe('planPass', () => {
  const last: PassState = { epoch: 'redis-a', intactSince: T0 - 300_000, passAt: T0, fullAt: T0 - 30_000 };

  it('when there was no pass yet, then the pass is full', () => {
    expect(planPass(undefined, 'redis-a', T0, options)).toEqual({ kind: 'full' });
  });

  it('when Redis is another server than at the last pass, then the pass is full', () => {
    expect(planPass(last, 'redis-b', T0 + 30_000, options)).toEqual({ kind: 'full' });
  });

  it('when the last full pass is fullEveryMs old, then the pass is full', () => {
    expect(planPass(last, 'redis-a', T0 - 30_000 + 600_000, options)).toEqual({ kind: 'full' });
  });

  it('otherwise, then it reads changes from overlapMs before the last pass, but not this Redis’s own reservations', () => {
    expect(planPass(last, 'redis-a', T0 + 30_000, options)).toEqual({
      kind: 'changes',
      since: new Date(T0 - 60_000),
      // Reservations still RESERVED, made from a margin after this Redis was first seen (its clock): it made them.
      reservedBefore: new Date(T0 - 300_000 + REDIS_CLOCK_MARGIN_MS),
    });
  });
});

const entry = (promotionId: string, orderId: string): LedgerEntry => ({
  orderId,
  promotionId,
  userId: `user-${orderId}`,
  quantity: 1,
  amountCents: 100n,
  status: 'RESERVED',
  reservedAtMs: T0,
  idempotencyKey: `k-${orderId}`,
});

/** Two open sales in the ledger; records what the reconciler asked of each side. */
function setup() {
  const ledger = [entry('1', '10'), entry('1', '11'), entry('2', '20')];
  const calls: string[] = [];
  // Redis's clock, which stamps reservations, runs 2 s behind the reconciler's here.
  const redis = { id: 'redis-a', nowMs: T0 - 2_000 };
  const open = new Set(['1', '2']);
  const postgres = { down: false };
  /** What Redis's scripts answer: the stock drift (undefined: held unknown) and the recount. */
  const redisSays = {
    drift: 0 as number | undefined,
    recount: { outcome: 'counted', pages: 1, held: 0, before: 0 } as HeldRecount,
  };
  const sales = {
    listOpenSince: async () => {
      if (postgres.down) throw new Error('PostgreSQL down');
      return ['1', '2'];
    },
    find: async (promotionId: string) => ({ promotionId }) as unknown as SaleTerms & { sold: number },
    async *ledgerPages(promotionId: string) {
      calls.push(`ledger ${promotionId}`);
      yield ledger.filter((e) => e.promotionId === promotionId);
    },
    changedSince: async (since: Date, reservedBefore: Date) => {
      calls.push(`changedSince ${since.getTime() - T0} reservedBefore ${reservedBefore.getTime() - T0}`);
      return [entry('2', '21')];
    },
  } as Partial<SaleRepository> as SaleRepository;
  const cache = {
    epoch: async () => ({ ...redis }),
    isOpen: async (promotionId: string) => open.has(promotionId),
    merge: async (promotionId: string, entries: readonly LedgerEntry[]) => {
      calls.push(`merge ${promotionId} ${entries.map((e) => e.orderId).join(',')}`);
      return 0;
    },
    checkStock: async (promotionId: string) => (calls.push(`checkStock ${promotionId}`), redisSays.drift),
    recountHeld: async (promotionId: string) => {
      calls.push(`recountHeld ${promotionId}`);
      const recount = redisSays.recount;
      // A counted held count is set: from then on the check can tell.
      if (recount.outcome === 'counted') redisSays.drift ??= 0;
      return recount;
    },
    rebuild: async (terms: SaleTerms, ledger: LedgerInput) => {
      let merged = 0;
      const isList = (input: LedgerInput): input is readonly LedgerEntry[] => Array.isArray(input);
      for await (const page of isList(ledger) ? [ledger] : ledger) merged += page.length;
      calls.push(`rebuild ${terms.promotionId} ${merged}`);
      return { available: 0, merged };
    },
  } as Partial<StockCache> as StockCache;
  const progress: LedgerProgress = { catchUp: async () => true };
  const reports: Drift[] = [];
  const reconcile = new ReconcileSales(sales, cache, progress, logger, options, { report: (d) => reports.push(d) });
  return {
    reconcile,
    calls,
    open,
    postgres,
    redisSays,
    reports,
    /** Redis becomes another server, whose clock says `nowMs`. */
    setEpoch: (id: string, nowMs: number) => Object.assign(redis, { id, nowMs }),
    take: () => calls.splice(0),
  };
}

describe('ReconcileSales', () => {
  it('when it first runs, then it merges every open sale’s whole ledger and checks each counter', async () => {
    const { reconcile, take } = setup();
    await reconcile.run(new Date(T0));
    expect(take()).toEqual([
      'ledger 1',
      'merge 1 10,11',
      'recountHeld 1',
      'checkStock 1',
      'ledger 2',
      'merge 2 20',
      'recountHeld 2',
      'checkStock 2',
    ]);
  });

  it('when it runs again soon, then it merges only the entries changed since shortly before the last pass', async () => {
    const { reconcile, take } = setup();
    await reconcile.run(new Date(T0));
    take();
    await reconcile.run(new Date(T0 + 30_000));
    expect(take()).toEqual(['changedSince -60000 reservedBefore 8000', 'merge 2 21', 'checkStock 2']);
  });

  it('when a full pass comes round on the same Redis, then reservations are still skipped from when it was first seen', async () => {
    const { reconcile, take } = setup();
    await reconcile.run(new Date(T0));
    await reconcile.run(new Date(T0 + options.fullEveryMs)); // full: fullEveryMs since the first
    expect(take()).toContain('ledger 1');
    await reconcile.run(new Date(T0 + options.fullEveryMs + 30_000));
    expect(take()[0]).toBe(`changedSince ${options.fullEveryMs - 60_000} reservedBefore 8000`);
  });

  it('when Redis restarted between passes, then reservations are read back again from when the new one was seen', async () => {
    const { reconcile, take, setEpoch } = setup();
    await reconcile.run(new Date(T0));
    await reconcile.run(new Date(T0 + 30_000));
    setEpoch('redis-b', T0 + 58_000);
    await reconcile.run(new Date(T0 + 60_000)); // full: another server
    take();
    await reconcile.run(new Date(T0 + 90_000));
    // From when the new server was first seen, by its clock, plus REDIS_CLOCK_MARGIN_MS.
    expect(take()[0]).toBe('changedSince 0 reservedBefore 68000');
  });

  it('when a pass rebuilt a sale the same Redis lost, then reservations are read back again from that pass', async () => {
    const { reconcile, take, open, setEpoch } = setup();
    await reconcile.run(new Date(T0));
    open.delete('1'); // a FLUSHALL or an eviction: the same server, run id and all
    setEpoch('redis-a', T0 + 28_000);
    await reconcile.run(new Date(T0 + 30_000));
    open.add('1');
    take();
    await reconcile.run(new Date(T0 + 60_000));
    expect(take()[0]).toBe('changedSince -30000 reservedBefore 38000');
  });

  it('when Redis restarted between passes, then the next pass is full again', async () => {
    const { reconcile, take, setEpoch } = setup();
    await reconcile.run(new Date(T0));
    setEpoch('redis-b', T0 + 28_000);
    take();
    await reconcile.run(new Date(T0 + 30_000));
    expect(take()).toContain('ledger 1');
  });

  it('when Redis lost a sale, then a pass between full ones rebuilds it from its whole ledger', async () => {
    const { reconcile, take, open } = setup();
    await reconcile.run(new Date(T0));
    open.delete('1');
    take();
    const drifts = await reconcile.run(new Date(T0 + 30_000));
    expect(take()).toEqual([
      'changedSince -60000 reservedBefore 8000',
      'ledger 1',
      'rebuild 1 2',
      'merge 2 21',
      'checkStock 2',
    ]);
    expect(drifts).toEqual([{ promotionId: '1', rebuilt: true, entries: 2, stock: 0 }]);
  });

  it('when a pass fails, then the next one reads changes from before the failed one', async () => {
    const { reconcile, take, postgres } = setup();
    await reconcile.run(new Date(T0));
    postgres.down = true;
    await expect(reconcile.run(new Date(T0 + 30_000))).rejects.toThrow('PostgreSQL down');
    postgres.down = false;
    take();
    await reconcile.run(new Date(T0 + 60_000));
    expect(take()[0]).toBe('changedSince -60000 reservedBefore 8000');
  });
});

describe('ReconcileSales and the held count', () => {
  it('when a pass between full ones finds the held count known, then it checks the counter in O(1) and recounts nothing', async () => {
    const { reconcile, take } = setup();
    await reconcile.run(new Date(T0));
    take();
    await reconcile.run(new Date(T0 + 30_000));
    expect(take().filter((c) => c.startsWith('recountHeld'))).toEqual([]);
  });

  it('when the held count is unknown, then a pass between full ones recounts it before it checks again', async () => {
    const { reconcile, take, redisSays } = setup();
    await reconcile.run(new Date(T0));
    take();
    redisSays.drift = undefined;
    redisSays.recount = { outcome: 'counted', pages: 3, held: 1, before: undefined };
    const drifts = await reconcile.run(new Date(T0 + 30_000));
    expect(take()).toEqual([
      'changedSince -60000 reservedBefore 8000',
      'merge 2 21',
      'checkStock 2',
      'recountHeld 2',
      'checkStock 2',
    ]);
    // A count restored where there was none is no drift.
    expect(drifts).toEqual([]);
  });

  it('when the recount is inconclusive and the held count unknown, then the counter is left unchecked and unrepaired', async () => {
    const { reconcile, take, redisSays, reports } = setup();
    redisSays.drift = undefined;
    redisSays.recount = { outcome: 'inconclusive', pages: 2 };
    const drifts = await reconcile.run(new Date(T0));
    expect(take().slice(0, 4)).toEqual(['ledger 1', 'merge 1 10,11', 'recountHeld 1', 'checkStock 1']);
    expect(drifts).toEqual([]);
    expect(reports[0]).toEqual({ promotionId: '1', rebuilt: false, entries: 0, stock: 0, unchecked: true });
  });

  it('when a full pass’s recount finds the held count wrong, then it reports by how much', async () => {
    const { reconcile, redisSays } = setup();
    redisSays.recount = { outcome: 'counted', pages: 1, held: 5, before: 7 };
    const drifts = await reconcile.run(new Date(T0));
    expect(drifts).toContainEqual({ promotionId: '1', rebuilt: false, entries: 0, stock: 0, held: 2 });
  });
});
