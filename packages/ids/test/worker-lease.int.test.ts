import { Redis } from 'ioredis';
import { infra, uniqueSuffix, waitFor } from '@flash-sale/testing';
import { WorkerLease } from '../src/worker-lease';

const redis = new Redis(infra.redisUrl);
afterAll(() => redis.disconnect());

describe('WorkerLease', () => {
  it('when Redis loses the lease (a flush, a restart without data), then ids fail until a free id is leased again', async () => {
    const keyPrefix = `test:worker:${uniqueSuffix()}:`;
    const lost: number[] = [];
    const lease = await WorkerLease.acquire(redis, {
      holder: 'test',
      ttlMs: 300,
      keyPrefix,
      onLost: (id) => lost.push(id),
    });
    const first = lease.workerId();
    expect(await redis.get(`${keyPrefix}${first}`)).toMatch(/^test:/);
    // Another process takes the id the moment Redis forgot it: it must not be issued twice.
    await redis.set(`${keyPrefix}${first}`, 'someone-else', 'PX', 60_000);

    await waitFor(async () => lost.length === 1, { what: 'the lease to be noticed lost' });
    await waitFor(
      async () => {
        try {
          return lease.workerId() !== first;
        } catch {
          return false;
        }
      },
      { what: 'a new lease' },
    );

    expect(lost).toEqual([first]);
    expect(await redis.get(`${keyPrefix}${lease.currentId}`)).toMatch(/^test:/);
    await lease.release();
    expect(await redis.exists(`${keyPrefix}${lease.currentId}`)).toBe(0);
    expect(await redis.get(`${keyPrefix}${first}`)).toBe('someone-else');
  });

  it('when the holder is alive, then renewals keep the same id past many TTLs', async () => {
    const keyPrefix = `test:worker:${uniqueSuffix()}:`;
    // A TTL a busy test machine cannot stall past (a 150 ms one was lost to a pause of the event loop), four times.
    const lease = await WorkerLease.acquire(redis, { holder: 'test', ttlMs: 600, keyPrefix });
    const id = lease.workerId();
    // The id is read all along, not only at the end, until the clock is past four TTLs.
    const pastFourTtls = Date.now() + 2_400;
    const seen = new Set<number | string>();
    await waitFor(
      async () => {
        try {
          seen.add(lease.workerId());
        } catch (error) {
          seen.add(String(error));
        }
        return Date.now() > pastFourTtls;
      },
      { what: 'four TTLs to pass' },
    );
    expect([...seen]).toEqual([id]);
    expect(lease.workerId()).toBe(id);
    await lease.release();
  });
});
