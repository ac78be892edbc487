import { status } from '@grpc/grpc-js';
import { saleKeys } from '../src/domain/sale-keys';
import { newSale, reserve, runPool, startInventory, tally, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  h = await startInventory();
});

afterAll(async () => {
  await h?.stop();
});

/** How many NOSCRIPT errors Redis has answered so far (all clients). */
async function noscriptErrors(): Promise<number> {
  const info = await h.redis.info('errorstats');
  return Number(/errorstat_NOSCRIPT:count=(\d+)/.exec(info)?.[1] ?? 0);
}

describe('script cache flushed under load', () => {
  it('when SCRIPT FLUSH runs in the middle of concurrent reserves, then no call fails for it and nothing is oversold', async () => {
    const stock = 300;
    const promotionId = await newSale(h.client, { stock, perUserLimit: 2 });
    const noscriptBefore = await noscriptErrors();
    const total = 800;
    let done = 0;
    const tasks = Array.from({ length: total }, (_, i) => async () => {
      const userId = `flush-buyer-${i % 400}`;
      const result = await reserve(h.client, promotionId, userId, 1, `k-${i}`);
      done += 1;
      return { userId, result };
    });
    // Flush a few times while calls are in flight, each time once another slice of them has completed.
    const flushedAt: number[] = [];
    const flusher = (async () => {
      for (const threshold of [100, 250, 400]) {
        while (done < threshold) await new Promise((resolve) => setTimeout(resolve, 1));
        await h.redis.script('FLUSH');
        flushedAt.push(done);
      }
    })();

    const results = await runPool(tasks, 100);
    await flusher;

    expect(flushedAt.every((n) => n > 0 && n < total)).toBe(true);
    expect(await noscriptErrors()).toBeGreaterThan(noscriptBefore);
    const outcomes = results.map((r) => r.result);
    for (const o of outcomes) {
      if (o.ok) continue;
      expect(o.failure.code).toBe(status.FAILED_PRECONDITION);
      expect(['SOLD_OUT', 'PURCHASE_LIMIT_REACHED']).toContain(o.failure.info?.reason);
    }
    const wins = outcomes.filter((o) => o.ok).length;
    const keys = saleKeys(promotionId);
    const left = Number(await h.redis.get(keys.stock));
    expect(wins).toBe(stock - left);
    expect(left).toBe(0);
    expect(await h.redis.hlen(keys.reservations)).toBe(wins);
    const held = Object.values(await h.redis.hgetall(keys.users)).map(Number);
    expect(Math.max(...held)).toBeLessThanOrEqual(2);
    console.info(`flushed after ${flushedAt.join(', ')} calls; ${JSON.stringify(tally(outcomes))}`);
  });
});
