import { status } from '@grpc/grpc-js';
import { saleKeys } from '../src/domain/sale-keys';
import { getStock, newSale, reserve, runPool, startInventory, tally, type Harness } from './support';

const USERS = 1_000;
const ATTEMPTS_PER_USER = 5;
/** Calls in flight at once: a crowd large enough to contend, small enough for a 2-core machine. */
const IN_FLIGHT = 200;

let h: Harness;

beforeAll(async () => {
  h = await startInventory();
});

afterAll(async () => {
  await h?.stop();
});

/** Every user's attempts, each with its own idempotency key, shuffled so users interleave. */
function crowd(promotionId: string, quantity: number) {
  const attempts: { userId: string; key: string }[] = [];
  for (let u = 0; u < USERS; u += 1) {
    for (let a = 0; a < ATTEMPTS_PER_USER; a += 1) attempts.push({ userId: `buyer-${u}`, key: `k-${u}-${a}` });
  }
  for (let i = attempts.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [attempts[i], attempts[j]] = [attempts[j]!, attempts[i]!];
  }
  return attempts.map(({ userId, key }) => async () => ({
    userId,
    result: await reserve(h.client, promotionId, userId, quantity, key),
  }));
}

/** Runs the crowd while sampling the Redis stock counter, so a transiently negative value would be seen. */
async function storm(promotionId: string, quantity: number) {
  const stockKey = saleKeys(promotionId).stock;
  const samples: number[] = [];
  let running = true;
  const sampler = (async () => {
    while (running) {
      samples.push(Number(await h.redis.get(stockKey)));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  const started = Date.now();
  const results = await runPool(crowd(promotionId, quantity), IN_FLIGHT);
  const elapsedMs = Date.now() - started;
  running = false;
  await sampler;
  const winsByUser = new Map<string, number>();
  for (const { userId, result } of results) {
    if (result.ok) winsByUser.set(userId, (winsByUser.get(userId) ?? 0) + 1);
  }
  const outcomes = results.map((r) => r.result);
  return { outcomes, winsByUser, minSampled: Math.min(...samples), samples: samples.length, elapsedMs };
}

function expectOnlyDomainRejections(outcomes: Awaited<ReturnType<typeof storm>>['outcomes'], allowed: string[]) {
  for (const o of outcomes) {
    if (o.ok) continue;
    expect(o.failure.code).toBe(status.FAILED_PRECONDITION);
    expect(allowed).toContain(o.failure.info?.reason);
  }
}

describe('reserve under contention', () => {
  it('when 1,000 users send 5,000 reserves for 100 units with a limit of 1, then exactly 100 succeed, one per user, and stock ends at 0', async () => {
    const promotionId = await newSale(h.client, { stock: 100, perUserLimit: 1 });

    const { outcomes, winsByUser, minSampled, samples, elapsedMs } = await storm(promotionId, 1);

    const wins = outcomes.filter((o) => o.ok);
    expect(wins).toHaveLength(100);
    expect(new Set(wins.map((o) => o.response.orderId)).size).toBe(100);
    expect(Math.max(...winsByUser.values())).toBe(1);
    expect(winsByUser.size).toBe(100);
    expectOnlyDomainRejections(outcomes, ['SOLD_OUT', 'PURCHASE_LIMIT_REACHED']);

    const keys = saleKeys(promotionId);
    expect(await h.redis.get(keys.stock)).toBe('0');
    expect(minSampled).toBeGreaterThanOrEqual(0);
    const held = await h.redis.hgetall(keys.users);
    expect(Object.keys(held).sort()).toEqual([...winsByUser.keys()].sort());
    expect(Object.values(held).every((units) => units === '1')).toBe(true);
    expect(await h.redis.hlen(keys.reservations)).toBe(100);
    expect(await getStock(h.client, promotionId)).toMatchObject({ totalStock: 100, availableStock: 0, sold: 0 });
    // Visible in the jest output, for the timing report.
    console.info(`limit 1: ${elapsedMs} ms, ${JSON.stringify(tally(outcomes))}, ${samples} stock samples`);
  });

  it('when the crowd buys 3 units at a time with a limit of 6, then units reserved never exceed 100 and equal 100 minus what is left', async () => {
    const promotionId = await newSale(h.client, { stock: 100, perUserLimit: 6 });

    const { outcomes, winsByUser, minSampled, elapsedMs } = await storm(promotionId, 3);

    const wins = outcomes.filter((o) => o.ok).length;
    const left = Number(await h.redis.get(saleKeys(promotionId).stock));
    expect(3 * wins).toBeLessThanOrEqual(100);
    expect(3 * wins).toBe(100 - left);
    // Nothing sellable is left behind: what remains is less than one purchase.
    expect(left).toBeLessThan(3);
    expect(minSampled).toBeGreaterThanOrEqual(0);
    expect(Math.max(...winsByUser.values())).toBeLessThanOrEqual(2);
    const held = Object.values(await h.redis.hgetall(saleKeys(promotionId).users)).map(Number);
    expect(held.reduce((sum, units) => sum + units, 0)).toBe(3 * wins);
    expect(Math.max(...held)).toBeLessThanOrEqual(6);
    expectOnlyDomainRejections(outcomes, ['SOLD_OUT', 'PURCHASE_LIMIT_REACHED', 'INSUFFICIENT_STOCK']);
    expect(await getStock(h.client, promotionId)).toMatchObject({ availableStock: left, reserved: 100 - left });
    console.info(`quantity 3: ${elapsedMs} ms, ${JSON.stringify(tally(outcomes))}`);
  });
});
