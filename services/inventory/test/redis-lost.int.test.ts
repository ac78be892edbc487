/**
 * Redis restarted empty in the middle of a sale. The test flushes the whole local Redis (FLUSHALL): that is what
 * a restart without persistence leaves behind, worker leases and script cache included.
 */
import { Client as PgClient } from 'pg';
import { inventoryV1 } from '@flash-sale/contracts';
import { infra, waitFor } from '@flash-sale/testing';
import { saleKeys } from '../src/domain/sale-keys';
import { call, newSale, reserve, runPool, startInventory, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  // A full pass every second: a drift Redis alone made (below) is the full passes' to find.
  // Release is driven by order events, and the allow-list lets no workload call it over gRPC: without mTLS here.
  h = await startInventory({ RECONCILE_INTERVAL_MS: '200', RECONCILE_FULL_INTERVAL_MS: '1000', MTLS_MODE: 'off' });
});

afterAll(async () => {
  await h?.stop();
});

const EXPIRED = inventoryV1.ReleaseReason.RELEASE_REASON_EXPIRED;

/** The ledger's view of a promotion: units held (reserved or paid) and entries by status. */
async function ledger(promotionId: string) {
  const pg = new PgClient({ connectionString: infra.databaseUrl('inventory') });
  await pg.connect();
  try {
    const { rows } = await pg.query<{ status: string; entries: number; units: number }>(
      `SELECT status, count(*)::int AS entries, sum(quantity)::int AS units
         FROM inventory.reservations WHERE promotion_id = $1 GROUP BY status`,
      [promotionId],
    );
    const by = Object.fromEntries(rows.map((r) => [r.status, r]));
    return {
      held: (by.RESERVED?.units ?? 0) + (by.CONFIRMED?.units ?? 0),
      entries: rows.reduce((sum, r) => sum + r.entries, 0),
    };
  } finally {
    await pg.end();
  }
}

async function buy(promotionId: string, users: string[], key: string) {
  return runPool(
    users.map((userId) => async () => ({ userId, result: await reserve(h.client, promotionId, userId, 1, key) })),
    50,
  );
}

describe('Redis restarted empty mid-sale', () => {
  it('when Redis loses everything, then the sale is rebuilt from PostgreSQL and sells exactly the rest, no more', async () => {
    const stock = 60;
    const promotionId = await newSale(h.client, { stock, perUserLimit: 1 });
    const keys = saleKeys(promotionId);
    const early = Array.from({ length: 40 }, (_, i) => `early-${i}`);
    const first = await buy(promotionId, early, 'first');
    const orders = first.map(({ userId, result }) => {
      if (!result.ok) throw new Error(`${userId}: ${JSON.stringify(result.failure)}`);
      return { userId, orderId: result.response.orderId };
    });
    // Five orders expire before the crash: their units and quotas must come back after it too.
    for (const { orderId } of orders.slice(0, 5)) await call(h.client, h.client.release, { orderId, reason: EXPIRED });
    // No waiting for the relay: a purchase is answered only once Kafka has its reservation, so Redis may lose
    // everything the moment the last answer arrived.
    await h.redis.flushall();

    // The sale stays closed until the ledger has recorded everything already in Kafka, which takes a while when
    // the machine is busy.
    await waitFor(async () => (await h.redis.get(keys.stock)) === String(stock - 35), {
      what: 'the sale to be rebuilt with 25 units',
      timeoutMs: 60_000,
    });
    expect(await ledger(promotionId)).toEqual({ held: 35, entries: 40 });
    const quotas = await h.redis.hgetall(keys.users);
    expect(Object.keys(quotas).sort()).toEqual(
      orders
        .slice(5)
        .map((o) => o.userId)
        .sort(),
    );
    // Idempotency survives: a retried request of a live order gets its order id back, and reserves nothing.
    const retry = await reserve(h.client, promotionId, orders[10]!.userId, 1, 'first');
    expect(retry.ok && retry.response.orderId).toBe(orders[10]!.orderId);

    // Selling resumes: everyone tries again; exactly the 25 units left are sold, to buyers under their limit.
    const late = Array.from({ length: 60 }, (_, i) => `late-${i}`);
    const second = await buy(promotionId, [...early, ...late], 'second');

    const winners = second.filter((r) => r.result.ok).map((r) => r.userId);
    expect(winners).toHaveLength(25);
    expect(winners.every((u) => u.startsWith('late-') || orders.slice(0, 5).some((o) => o.userId === u))).toBe(true);
    expect(await h.redis.get(keys.stock)).toBe('0');
    await waitFor(async () => (await ledger(promotionId)).entries === 65, { what: 'the ledger to record the sale' });
    expect((await ledger(promotionId)).held).toBe(stock);
  });

  it('when Redis drifts from the ledger (a wrong counter, a lost reservation), then a full pass repairs both', async () => {
    const promotionId = await newSale(h.client, { stock: 10, perUserLimit: 2 });
    const keys = saleKeys(promotionId);
    const bought = await buy(promotionId, ['drift-a', 'drift-b', 'drift-c'], 'k');
    const lost = bought[0]!.result;
    if (!lost.ok) throw new Error('reserve failed');
    await waitFor(async () => (await ledger(promotionId)).entries === 3, { what: 'the ledger to record 3 entries' });

    // A reservation Redis forgot (its units and quota with it), and a counter off by 5.
    await h.redis.hdel(keys.reservations, lost.response.orderId);
    await h.redis.hdel(keys.users, 'drift-a');
    await h.redis.incrby(keys.stock, 6);

    await waitFor(async () => (await h.redis.get(keys.stock)) === '7', { what: 'the counter to be repaired to 7' });
    expect(await h.redis.hexists(keys.reservations, lost.response.orderId)).toBe(1);
    expect(await h.redis.hget(keys.users, 'drift-a')).toBe('1');
  });
});
