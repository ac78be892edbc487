import { Script } from 'node:vm';
import { httpProblem } from '../http/problem';
import { ConsoleFeed, type ConsoleSources, type OrderSummaryJson, type PromotionJson } from './console-feed';
import { CONSOLE_PAGE, CONSOLE_SCRIPT } from './page';
import { ACCEPTED, SaleWindows } from './sale-windows';
import { SoldOutTimes } from './sold-out-times';

const NOW = Date.UTC(2030, 0, 1, 12);
const scope = { requestId: 'r', timeoutMs: 1_000 };

const promotion = (id: string, over: Partial<PromotionJson> = {}): PromotionJson => ({
  id,
  itemId: `sku-${id}`,
  title: `Sale ${id}`,
  priceCents: 100,
  stock: 10,
  perUserLimit: 1,
  startsAt: new Date(NOW - 3_600_000).toISOString(),
  endsAt: new Date(NOW + 3_600_000).toISOString(),
  paymentTimeoutSeconds: 60,
  status: 'ACTIVE',
  availableStock: 4,
  createdAt: undefined,
  ...over,
});

const summary = (promotionId: string, paid: number, awaiting: number, lastOrderAt?: string): OrderSummaryJson => {
  const zero = { orders: 0, units: 0 };
  return {
    promotionId,
    orders: paid + awaiting,
    units: paid + awaiting,
    byStatus: {
      AWAITING_PAYMENT: { orders: awaiting, units: awaiting },
      PAYING: zero,
      PAID: { orders: paid, units: paid },
      EXPIRED: zero,
      CANCELLED: zero,
      REFUNDED: zero,
    },
    ...(lastOrderAt ? { lastOrderAt } : {}),
  };
};

function setup(lists: Record<string, PromotionJson[]>, extra: Record<string, PromotionJson> = {}) {
  const calls: string[] = [];
  let now = NOW;
  const sources: ConsoleSources = {
    list: async (which) => (calls.push(`list ${which}`), lists[which] ?? []),
    get: async (id) => (calls.push(`get ${id}`), extra[id]),
    summary: async (id) => {
      calls.push(`summary ${id}`);
      if (id === '666') throw httpProblem(503, 'UPSTREAM_UNAVAILABLE', 'the order service is unavailable');
      return summary(id, 3, 2, new Date(NOW - 60_000).toISOString());
    },
  };
  const windows = new SaleWindows(undefined, () => now);
  const soldOut = new SoldOutTimes();
  const feed = new ConsoleFeed(
    sources,
    windows,
    soldOut,
    { keepEndedMs: 300_000, maxSales: 3, maxAgeMs: 400 },
    () => now,
    'gw-1',
  );
  return { feed, calls, windows, soldOut, advance: (ms: number) => (now += ms) };
}

describe('the console feed', () => {
  it("when sales are open or just ended, then each shows the mesh's stock, orders and payments beside this replica's rates", async () => {
    const { feed, windows, soldOut } = setup({
      ACTIVE: [promotion('30')],
      SOLD_OUT: [promotion('20', { status: 'SOLD_OUT', availableStock: 0 })],
      ENDED: [
        promotion('10', { status: 'ENDED', endsAt: new Date(NOW - 60_000).toISOString() }),
        promotion('5', { status: 'ENDED', endsAt: new Date(NOW - 3_600_000).toISOString() }),
      ],
    });
    windows.record('30', ACCEPTED, 2, true);
    soldOut.apply({
      eventId: '1',
      occurTime: new Date(NOW - 5_000),
      kind: { $case: 'soldOut', value: { promotionId: '20' } },
    });

    const snapshot = await feed.snapshot(scope);

    expect(snapshot).toMatchObject({ replica: 'gw-1', windows: { rateSeconds: 5, keepEndedSeconds: 300 } });
    expect(snapshot.sales.map((sale) => [sale.promotionId, sale.status])).toEqual([
      ['30', 'ACTIVE'],
      ['20', 'SOLD_OUT'],
      ['10', 'ENDED'],
    ]);
    const [open, soldOutSale] = snapshot.sales;
    expect(open).toMatchObject({
      availableStock: 4,
      stock: 10,
      soldOut: null,
      orders: { rows: 5, units: 5, paid: 3, paidUnits: 3 },
      gateway: { totals: { ACCEPTED: 1 } },
    });
    expect(soldOutSale!.soldOut).toEqual({ at: new Date(NOW - 5_000).toISOString(), source: 'signal' });
    expect(soldOutSale!.gateway).toBeNull();
  });

  it('when no signal was heard, then a sale without stock shows its last order as its sold-out time', async () => {
    const { feed } = setup({ SOLD_OUT: [promotion('20', { status: 'SOLD_OUT', availableStock: 0 })] });
    const [sale] = (await feed.snapshot(scope)).sales;
    expect(sale!.soldOut).toEqual({ at: new Date(NOW - 60_000).toISOString(), source: 'last-order' });
  });

  it('when consoles poll often, then the mesh is read once per interval for all of them', async () => {
    const { feed, calls, advance } = setup({ ACTIVE: [promotion('30')] });
    await Promise.all([feed.snapshot(scope), feed.snapshot(scope), feed.snapshot(scope)]);
    advance(399);
    await feed.snapshot(scope);
    expect(calls.filter((call) => call === 'summary 30')).toHaveLength(1);
    advance(1);
    await feed.snapshot(scope);
    expect(calls.filter((call) => call === 'summary 30')).toHaveLength(2);
  });

  it('when this replica sold for a sale the lists miss, then it is looked up; one that ended long ago is not asked again', async () => {
    const { feed, calls, windows } = setup(
      {},
      {
        '8': promotion('8', { status: 'ENDED', endsAt: new Date(NOW - 10_000).toISOString() }),
        '9': promotion('9', { status: 'ENDED', endsAt: new Date(NOW - 3_600_000).toISOString() }),
      },
    );
    for (const id of ['8', '9', '404']) windows.record(id, ACCEPTED, 1, true);
    expect((await feed.snapshot(scope)).sales.map((sale) => sale.promotionId)).toEqual(['8']);
    expect(calls.filter((call) => call.startsWith('get')).sort()).toEqual(['get 404', 'get 8', 'get 9']);
  });

  it('when the order service does not answer for a sale, then that sale says so and the others still show', async () => {
    const { feed } = setup({ ACTIVE: [promotion('666'), promotion('30')] });
    const sales = (await feed.snapshot(scope)).sales;
    expect(sales.find((sale) => sale.promotionId === '666')).toMatchObject({
      orders: null,
      ordersError: 'UPSTREAM_UNAVAILABLE',
    });
    expect(sales.find((sale) => sale.promotionId === '30')!.orders).not.toBeNull();
  });

  it('when there are more sales than shown, then the open ones come first, newest first', async () => {
    const { feed } = setup({
      ACTIVE: ['1', '2', '3'].map((id) => promotion(id)),
      ENDED: [promotion('99', { status: 'ENDED', endsAt: new Date(NOW - 1_000).toISOString() })],
    });
    expect((await feed.snapshot(scope)).sales.map((sale) => sale.promotionId)).toEqual(['3', '2', '1']);
  });
});

describe('the console page', () => {
  it('when served, then its script is a file of its own that parses, and the page has no inline script', () => {
    expect(() => new Script(CONSOLE_SCRIPT)).not.toThrow();
    expect([...CONSOLE_PAGE.matchAll(/<script([^>]*)>/g)].map((match) => match[1])).toEqual([
      ' src="/console/console.js"',
    ]);
    expect(CONSOLE_PAGE).not.toMatch(/\son[a-z]+=/);
  });
});
