/**
 * The reconciler between its full passes: it reads only the ledger entries changed since its previous pass, so a
 * ledger change reaches Redis within a pass while unchanged sales cost nothing; of those, it skips reservations
 * this Redis made itself (still RESERVED, made after the reconciler first saw it or last rebuilt a sale it had lost,
 * plus a margin for clocks).
 * Overlap 0 here, so only the entries' own change times bring them into a pass.
 */
import { createServer } from 'node:net';
import { createDatabase } from '@flash-sale/db';
import { infra, waitFor } from '@flash-sale/testing';
import { REDIS_CLOCK_MARGIN_MS } from '../src/application/reconcile-sales';
import { saleKeys } from '../src/domain/sale-keys';
import { PrismaClient } from '../src/generated/prisma/client';
import { PrismaSaleRepository } from '../src/infrastructure/prisma/prisma-sale-repository';
import { newId, newSale, reserve, startInventory, type Harness } from './support';

let h: Harness;
let metricsPort: number;
/** When the reconciler first saw this Redis server, at the latest. */
let firstSeenAt: number;
let prisma: PrismaClient;
let ledger: PrismaSaleRepository;

/** A port free right now, for the service's metrics server. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Passes of a kind the service completed, from its Prometheus counter. */
async function passes(metricsPort: number, kind: 'full' | 'changes'): Promise<number> {
  const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const line = body
    .split('\n')
    .find((l) => l.startsWith('inventory_reconcile_passes_total') && l.includes(`"${kind}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** Returns once a pass between full ones that began after this call has completed (not just the one under way). */
async function aPassSinceNow() {
  const completed = await passes(metricsPort, 'changes');
  await waitFor(async () => (await passes(metricsPort, 'changes')) >= completed + 2, {
    what: 'a reconciliation pass begun since',
  });
}

beforeAll(async () => {
  metricsPort = await freePort();
  h = await startInventory({
    RECONCILE_INTERVAL_MS: '200',
    RECONCILE_OVERLAP_MS: '0',
    METRICS_PORT: String(metricsPort),
  });
  const { adapter, sql } = createDatabase(infra.databaseUrl('inventory'));
  prisma = new PrismaClient({ adapter });
  ledger = new PrismaSaleRepository(prisma, sql);
  // The first pass after start is full: on a database with the history of many runs it takes a while.
  await waitFor(async () => (await passes(metricsPort, 'changes')) > 0, {
    what: 'the first full reconciliation pass and one after it',
    timeoutMs: 120_000,
  });
  expect(await passes(metricsPort, 'full')).toBe(1);
  // The first pass, which saw the server first, started before this.
  firstSeenAt = Date.now();
}, 150_000);

afterAll(async () => {
  await prisma?.$disconnect();
  await h?.stop();
});

/** A sale of 10 with two reservations, recorded in the ledger, then left alone until a pass that began after. */
async function settledSale() {
  const promotionId = await newSale(h.client, { stock: 10, perUserLimit: 1 });
  const orderIds: string[] = [];
  for (const userId of ['quiet-a', 'quiet-b']) {
    const result = await reserve(h.client, promotionId, userId, 1, 'k');
    if (!result.ok) throw new Error(`reserve failed: ${JSON.stringify(result.failure)}`);
    orderIds.push(result.response.orderId);
  }
  await waitFor(async () => (await ledger.ledger(promotionId)).length === 2, { what: 'the ledger to record both' });
  // Every pass from then on reads changes since that pass began, after the entries were written.
  await aPassSinceNow();
  return { promotionId, keys: saleKeys(promotionId), orderIds };
}

const lateEntry = (promotionId: string, orderId: string, reservedAtMs: number) => ({
  orderId,
  promotionId,
  userId: `late-${orderId}`,
  quantity: 1,
  amountCents: 2_500n,
  status: 'RESERVED' as const,
  reservedAtMs,
  idempotencyKey: `late-${orderId}`,
});

describe('reconciler passes between full ones', () => {
  it('when a ledger entry changes but Redis missed it, then the next pass applies it', async () => {
    const { keys, orderIds } = await settledSale();
    expect(await h.redis.get(keys.stock)).toBe('8');
    const entry = await ledger.findEntry(orderIds[0]!);
    // Released in the truth only (as if Redis's release had been lost): settle moves it with updateMany.
    expect(await ledger.settle(entry!, 'RELEASED')).toBe(true);

    await waitFor(async () => (await h.redis.get(keys.stock)) === '9', { what: 'the release to reach Redis' });
    expect(JSON.parse((await h.redis.hget(keys.reservations, orderIds[0]!))!).s).toBe('X');
    expect(await h.redis.hget(keys.users, 'quiet-a')).toBe('0');
  });

  it('when a reservation from before this Redis was first seen reaches the ledger late, then the next pass merges it', async () => {
    const { promotionId, keys } = await settledSale();
    // As when a relay sends a reservation that a Redis since lost, after the pass that saw the new server.
    const late = newId();
    await ledger.recordReserved([lateEntry(promotionId, late, Date.now() - 3_600_000)]);

    await waitFor(async () => (await h.redis.get(keys.stock)) === '7', { what: 'the late reservation to reach Redis' });
    expect(JSON.parse((await h.redis.hget(keys.reservations, late))!).s).toBe('R');
  });

  it('when a reservation made since this Redis was first seen is recorded, then passes do not read it back', async () => {
    const { promotionId, keys } = await settledSale();
    // Redis lacks it here only because it was written to the ledger by hand: every real one came from Redis. Made
    // a minute from now, as every reservation of a sale is once the server has been seen for longer than the margin.
    const recent = newId();
    await ledger.recordReserved([lateEntry(promotionId, recent, Date.now() + 60_000)]);
    await aPassSinceNow();
    expect(await h.redis.get(keys.stock)).toBe('8');
    expect(await h.redis.hexists(keys.reservations, recent)).toBe(0);
  });

  it('when Redis lost a sale and a reservation it forgot reaches the ledger after the rebuild, then the next pass merges it', async () => {
    const { promotionId, keys } = await settledSale();
    // The reservation is made (and forgotten) after the server was first seen plus the margin, so only the rebuild,
    // which moves the cut-off, makes passes read it.
    const marginPassed = firstSeenAt + REDIS_CLOCK_MARGIN_MS + 1_000;
    await waitFor(async () => Date.now() > marginPassed, {
      what: 'the clock margin to pass',
      timeoutMs: REDIS_CLOCK_MARGIN_MS + 5_000,
    });
    const forgotten = newId();
    const reservedAtMs = Date.now();
    // Lost the way a FLUSHALL or an eviction loses it: the same server, so no new epoch.
    await h.redis.del(...Object.values(keys));
    await waitFor(async () => (await h.redis.get(keys.stock)) === '8', { what: 'the sale to be rebuilt' });

    // Its relay was still sending it: the ledger learns it only now.
    await ledger.recordReserved([lateEntry(promotionId, forgotten, reservedAtMs)]);
    await waitFor(async () => (await h.redis.get(keys.stock)) === '7', { what: 'the forgotten one to reach Redis' });
    expect(JSON.parse((await h.redis.hget(keys.reservations, forgotten))!).s).toBe('R');
  });

  it('when nothing of a sale changed, then its whole ledger is not read again until a full pass', async () => {
    const { keys, orderIds } = await settledSale();
    // A drift in Redis alone, in a sale whose ledger did not change: passes between full ones do not look.
    await h.redis.hdel(keys.reservations, orderIds[1]!);
    await aPassSinceNow();
    expect(await h.redis.hexists(keys.reservations, orderIds[1]!)).toBe(0);
  });
});
