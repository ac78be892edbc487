/**
 * The held count the stock scripts keep beside the stock counter, and its recount a page at a time, against the
 * real scripts in the local Redis: the count follows every script that moves units, the O(1) check repairs from it
 * only when it is known, and a recount is exact or inconclusive, never wrong.
 */
import { Redis } from 'ioredis';
import { infra } from '@flash-sale/testing';
import type { LedgerEntry } from '../src/domain/ledger';
import { saleKeys } from '../src/domain/sale-keys';
import { RedisStockCache } from '../src/infrastructure/redis/redis-stock-cache';
import { newId } from './support';

const redis = new Redis(infra.redisUrl);
const cache = new RedisStockCache(redis);
afterAll(() => redis.disconnect());

const PRICE = 500n;

const termsOf = (promotionId: string, totalStock: number) => {
  const now = Date.now();
  return {
    promotionId,
    priceCents: PRICE,
    totalStock,
    perUserLimit: 1_000,
    startsAt: new Date(now - 60_000),
    endsAt: new Date(now + 3_600_000),
    paymentTimeoutSeconds: 60,
  };
};

async function newSale(totalStock: number) {
  const promotionId = newId();
  await cache.rebuild(termsOf(promotionId, totalStock), []);
  return { promotionId, keys: saleKeys(promotionId) };
}

async function buy(promotionId: string, userId: string, quantity: number) {
  const orderId = newId();
  const result = await cache.reserve({
    promotionId,
    userId,
    quantity,
    idempotencyKey: orderId,
    orderId,
    eventId: newId(),
  });
  if (result.outcome !== 'RESERVED') throw new Error(`reserve: ${JSON.stringify(result)}`);
  return orderId;
}

/** Units held by reservations not released, read from the whole hash (fine at a test's size). */
async function heldInReservations(promotionId: string) {
  const records = await redis.hvals(saleKeys(promotionId).reservations);
  return records
    .map((raw) => JSON.parse(raw) as { q: number; s: string })
    .reduce((n, r) => n + (r.s === 'X' ? 0 : r.q), 0);
}

async function counters(promotionId: string) {
  const k = saleKeys(promotionId);
  const held = await redis.hget(k.held, 'units');
  return { stock: Number(await redis.get(k.stock)), held: held === null ? null : Number(held) };
}

/** Adds `count` one-unit reservations in state R by hand, as many pages' worth; stock and held follow. */
async function fill(promotionId: string, count: number) {
  const k = saleKeys(promotionId);
  const fields: string[] = [];
  for (let i = 0; i < count; i++) {
    fields.push(`f${i}`, JSON.stringify({ u: `f${i}`, q: 1, a: 500, t: Date.now(), s: 'R', k: `fk${i}` }));
  }
  await redis.hset(k.reservations, ...fields);
  await redis.decrby(k.stock, count);
  await redis.hincrby(k.held, 'units', count);
  await redis.hincrby(k.held, 'records', count);
}

/** Runs `between` once, after the recount's `afterPage`-th page; a cache on its own connection, so others are untouched. */
function recountWith(afterPage: number, between: () => Promise<unknown>) {
  const own = new Redis(infra.redisUrl);
  const paged = new RedisStockCache(own);
  const scripted = own as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const page = scripted.flashRecountHeld!.bind(own);
  let pages = 0;
  scripted.flashRecountHeld = async (...args: unknown[]) => {
    const reply = await page(...args);
    if (++pages === afterPage) await between();
    return reply;
  };
  return {
    recount: (promotionId: string) => paged.recountHeld(promotionId, 50).finally(() => own.disconnect()),
  };
}

const entry = (promotionId: string, status: LedgerEntry['status'], quantity = 1): LedgerEntry => {
  const orderId = newId();
  return {
    orderId,
    promotionId,
    userId: `ledger-${orderId}`,
    quantity,
    amountCents: PRICE * BigInt(quantity),
    status,
    reservedAtMs: Date.now(),
    idempotencyKey: `k-${orderId}`,
  };
};

describe('the held count', () => {
  it('when units are reserved, paid, released, merged and the sale rebuilt, then it always equals the units the reservations hold', async () => {
    const { promotionId, keys } = await newSale(20);
    expect(await counters(promotionId)).toEqual({ stock: 20, held: 0 });
    const expectConsistent = async (held: number) => {
      expect(await counters(promotionId)).toEqual({ stock: 20 - held, held });
      expect(await heldInReservations(promotionId)).toBe(held);
    };

    const a = await buy(promotionId, 'ann', 2);
    const b = await buy(promotionId, 'bob', 3);
    await expectConsistent(5);
    expect(await cache.confirm(promotionId, a)).toBe('CONFIRMED');
    await expectConsistent(5);
    expect((await cache.release(promotionId, b)).outcome).toBe('RELEASED');
    await expectConsistent(2);
    expect((await cache.release(promotionId, b)).outcome).toBe('ALREADY_SETTLED');
    await expectConsistent(2);

    // The ledger knows a reservation Redis lacks, one released that Redis lacks, and ann's as confirmed.
    const missed = entry(promotionId, 'RESERVED', 4);
    const ledger: LedgerEntry[] = [missed, entry(promotionId, 'RELEASED', 6)];
    expect(await cache.merge(promotionId, ledger)).toBe(2);
    await expectConsistent(6);
    expect(await cache.merge(promotionId, [{ ...missed, status: 'RELEASED' }])).toBe(1);
    await expectConsistent(2);
    expect(await cache.merge(promotionId, [{ ...missed, status: 'RELEASED' }])).toBe(0);
    await expectConsistent(2);

    // Lost whole and rebuilt from the ledger: the count starts at 0 and the merge brings it back.
    const truth = [
      { ...entry(promotionId, 'CONFIRMED', 2), orderId: a },
      { ...missed, status: 'RELEASED' as const },
      entry(promotionId, 'RESERVED', 3),
    ];
    await redis.del(...Object.values(keys));
    await cache.rebuild(termsOf(promotionId, 20), truth);
    await expectConsistent(5);
    expect(await redis.pttl(keys.held)).toBeGreaterThan(0);
    expect(await redis.pttl(keys.writes)).toBeGreaterThan(0);
  });

  it('when the stock counter is wrong, then the O(1) check finds by how much and repairs it, keeping its expiry', async () => {
    const { promotionId, keys } = await newSale(10);
    await buy(promotionId, 'cyd', 3);
    await redis.incrby(keys.stock, 4);

    expect(await cache.checkStock(promotionId, false)).toBe(4);
    expect((await counters(promotionId)).stock).toBe(11);
    expect(await cache.checkStock(promotionId, true)).toBe(4);
    expect(await counters(promotionId)).toEqual({ stock: 7, held: 3 });
    expect(await redis.pttl(keys.stock)).toBeGreaterThan(0);
    expect(await cache.checkStock(promotionId, true)).toBe(0);
  });

  it('when the held count is missing, then the check repairs nothing, the scripts do not start one, and a recount restores it', async () => {
    const { promotionId, keys } = await newSale(10);
    await buy(promotionId, 'dee', 2);
    // A sale opened before the count was kept, or whose key was lost; and a counter too low.
    await redis.del(keys.held);
    await redis.decrby(keys.stock, 3);
    const order = await buy(promotionId, 'eve', 1);
    await cache.release(promotionId, order);
    await cache.merge(promotionId, [entry(promotionId, 'RESERVED', 2)]);
    expect(await redis.exists(keys.held)).toBe(0);

    // Counting from nothing would have said 2 held units where there are 4: stock would have been raised.
    expect(await cache.checkStock(promotionId, true)).toBeUndefined();
    expect(await counters(promotionId)).toEqual({ stock: 3, held: null });

    expect(await cache.recountHeld(promotionId)).toEqual({ outcome: 'counted', pages: 1, held: 4, before: undefined });
    expect(await redis.pttl(keys.held)).toBeGreaterThan(0);
    expect(await cache.checkStock(promotionId, true)).toBe(-3);
    expect(await counters(promotionId)).toEqual({ stock: 6, held: 4 });
  });

  it('when a reservation is written without the held count (an older version’s reserve script), then the check trusts it no more', async () => {
    const { promotionId, keys } = await newSale(10);
    await buy(promotionId, 'hal', 2);
    // What the reserve script did before the held count was kept: the record and the stock, nothing else.
    const record = { u: 'ivy', q: 3, a: 1_500, t: Date.now(), s: 'R', k: 'old' };
    await redis.hset(keys.reservations, 'old-version', JSON.stringify(record));
    await redis.decrby(keys.stock, 3);

    // Trusted, held (2) would have raised the counter by 3: three units sold twice.
    expect(await cache.checkStock(promotionId, true)).toBeUndefined();
    expect(await counters(promotionId)).toEqual({ stock: 5, held: 2 });
    expect(await cache.recountHeld(promotionId)).toMatchObject({ outcome: 'counted', held: 5, before: 2 });
    expect(await cache.checkStock(promotionId, true)).toBe(0);
  });

  it('when a recount of a quiet sale finds the held count wrong, then it sets it right', async () => {
    const { promotionId, keys } = await newSale(5_000);
    await fill(promotionId, 1_200);
    await buy(promotionId, 'fay', 2);
    await redis.hincrby(keys.held, 'units', 7);

    const recount = await new RedisStockCache(redis).recountHeld(promotionId, 50);
    expect(recount).toMatchObject({ outcome: 'counted', held: 1_202, before: 1_209 });
    expect(recount.pages).toBeGreaterThan(10);
    expect(await counters(promotionId)).toEqual({ stock: 5_000 - 1_202, held: 1_202 });
  });

  it.each([
    ['a reservation is made', (promotionId: string) => buy(promotionId, 'gus', 1)],
    ['a reservation is released', (promotionId: string) => cache.release(promotionId, 'f7')],
    ['a ledger entry is merged', (promotionId: string) => cache.merge(promotionId, [entry(promotionId, 'RESERVED')])],
  ])('when %s between its pages, then the recount is inconclusive and changes nothing', async (_, between) => {
    const { promotionId, keys } = await newSale(5_000);
    await fill(promotionId, 1_200);
    await redis.hincrby(keys.held, 'units', 7); // wrong, so a wrong "repair" would show
    const { recount } = recountWith(3, () => between(promotionId));

    expect(await recount(promotionId)).toEqual({ outcome: 'inconclusive', pages: 4 });
    const { held } = await counters(promotionId);
    expect(held! - (await heldInReservations(promotionId))).toBe(7);
  });

  it('when a reservation is paid between its pages, then the recount still counts (paid units stay held)', async () => {
    const { promotionId } = await newSale(5_000);
    await fill(promotionId, 1_200);
    const { recount } = recountWith(3, () => cache.confirm(promotionId, 'f9'));
    expect(await recount(promotionId)).toMatchObject({ outcome: 'counted', held: 1_200, before: 1_200 });
  });

  it('when Redis loses the sale between its pages, then the recount stops and makes no held count', async () => {
    const { promotionId, keys } = await newSale(5_000);
    await fill(promotionId, 1_200);
    const { recount } = recountWith(3, () => redis.del(...Object.values(keys)));
    expect(await recount(promotionId)).toEqual({ outcome: 'closed', pages: 4 });
    expect(await redis.exists(keys.held, keys.writes)).toBe(0);
  });

  it('when the sale is lost and rebuilt between its pages, then the recount is inconclusive and the rebuilt count stands', async () => {
    const { promotionId, keys } = await newSale(5_000);
    await fill(promotionId, 1_200);
    const rebuilt = [entry(promotionId, 'RESERVED', 3)];
    const { recount } = recountWith(3, async () => {
      await redis.del(...Object.values(keys));
      await cache.rebuild(termsOf(promotionId, 5_000), rebuilt);
    });
    expect(await recount(promotionId)).toEqual({ outcome: 'inconclusive', pages: 4 });
    expect(await counters(promotionId)).toEqual({ stock: 4_997, held: 3 });
  });
});
