import { Redis } from 'ioredis';
import { infra, testTopics, waitFor } from '@flash-sale/testing';
import { idOnPartitionOf } from '../../order/test/kafka-support';
import { saleKeys } from '../src/domain/sale-keys';
import { RESERVE } from '../src/infrastructure/redis/scripts';
import { OrderRequestedCollector } from './order-requested-collector';
import { newId, newSale, startInventory, type Harness } from './support';

/** The relays' consumer group on every outbox stream (see OutboxRelay); a relay that dies leaves entries here. */
const GROUP = 'relay';
const kafka = new OrderRequestedCollector();
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(infra.redisUrl);
  await kafka.start();
});

afterAll(async () => {
  await kafka.stop();
  redis?.disconnect();
});

/** Queues the real reserve script for one buyer on `batch`, as the service would run it. */
function queueReserve(batch: ReturnType<Redis['multi']>, promotionId: string, userId: string, orderId = newId()) {
  const k = saleKeys(promotionId);
  const argv = [userId, `key-${userId}`, 1, orderId, newId(), promotionId];
  batch.eval(RESERVE, 8, k.meta, k.stock, k.users, k.idempotency, k.reservations, k.outbox, k.held, k.writes, ...argv);
  return orderId;
}

describe('outbox relay recovery', () => {
  let service: Harness | undefined;

  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });

  it('when a relay read entries and died, and others were written while no relay ran, then a new relay publishes all of them exactly once', async () => {
    const first = await startInventory();
    const promotionId = await newSale(first.client, { stock: 20, perUserLimit: 1 });
    await first.stop();
    const stream = saleKeys(promotionId).outbox;
    await redis.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM').catch((error: unknown) => {
      if (!String(error).includes('BUSYGROUP')) throw error;
    });

    // Reserve and read in one transaction, so no other relay of the shared Redis can read these entries first.
    const readByDeadRelay = redis.multi();
    const claimedIds = ['a', 'b', 'c', 'd', 'e'].map((u) => queueReserve(readByDeadRelay, promotionId, `dead-${u}`));
    readByDeadRelay.xreadgroup('GROUP', GROUP, 'dead-relay', 'COUNT', 100, 'STREAMS', stream, '>');
    const replies = (await readByDeadRelay.exec())!;
    expect(replies.map(([error]) => error)).toEqual(new Array(6).fill(null));
    expect(replies.slice(0, 5).map(([, reply]) => (reply as string[])[0])).toEqual(new Array(5).fill('RESERVED'));
    const unread = redis.multi();
    const unreadIds = ['f', 'g', 'h'].map((u) => queueReserve(unread, promotionId, `late-${u}`));
    await unread.exec();
    expect(await redis.xlen(stream)).toBe(8);
    expect(((await redis.xpending(stream, GROUP)) as [number])[0]).toBe(5);

    service = await startInventory({ RELAY_CLAIM_IDLE_MS: '500' });
    const received = await kafka.waitForCount(promotionId, 8);

    expect(received.map((r) => r.event.orderId).sort()).toEqual([...claimedIds, ...unreadIds].sort());
    for (const { key, event } of received) {
      expect(key).toBe(event.orderId);
      expect(event).toMatchObject({ promotionId, quantity: 1, amountCents: '2500', paymentTimeoutSeconds: 600 });
    }
    await waitFor(async () => (await redis.xlen(stream)) === 0, { what: 'an empty outbox stream' });
    expect(((await redis.xpending(stream, GROUP)) as [number])[0]).toBe(0);
    const consumers = (await redis.xinfo('CONSUMERS', stream, GROUP)) as string[][];
    const dead = consumers.map((c) => Object.fromEntries(toPairs(c))).find((c) => c.name === 'dead-relay');
    expect(dead?.pending).toBe(0);
  });

  it('when a stream has entries a live relay holds, then a relay with the default idle time leaves them alone', async () => {
    const owner = await startInventory();
    const promotionId = await newSale(owner.client, { stock: 5, perUserLimit: 1 });
    await owner.stop();
    const stream = saleKeys(promotionId).outbox;
    await redis.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM').catch(() => undefined);
    const batch = redis.multi();
    const held = queueReserve(batch, promotionId, 'busy-relay-buyer');
    batch.xreadgroup('GROUP', GROUP, 'busy-relay', 'COUNT', 10, 'STREAMS', stream, '>');
    await batch.exec();
    // A marker behind it that nobody read, bound for its partition of order.requested. Only a scan of every stream
    // finds it, and that scan claims stale entries too and sends them first, in the same request.
    const unread = redis.multi();
    const marker = queueReserve(
      unread,
      promotionId,
      'marker-buyer',
      await idOnPartitionOf(testTopics.OrderRequested, held, newId),
    );
    await unread.exec();

    service = await startInventory();
    await waitFor(
      async () =>
        kafka.received(promotionId).some((r) => r.event.orderId === marker) &&
        ((await redis.xpending(stream, GROUP)) as [number])[0] <= 1,
      { what: 'the marker sent and acknowledged', timeoutMs: 30_000 },
    );

    // 30 s must pass before the entry counts as abandoned; until then its owner may still publish it.
    expect(kafka.received(promotionId).filter((r) => r.event.orderId !== marker)).toHaveLength(0);
    expect(((await redis.xpending(stream, GROUP)) as [number])[0]).toBe(1);
    const pending = (await redis.xpending(stream, GROUP, '-', '+', 10)) as [id: string, holder: string][];
    expect(pending.map(([, holder]) => holder)).toEqual(['busy-relay']);
    await redis.del(stream);
  });
});

function toPairs(flat: (string | number)[]): [string, string | number][] {
  const pairs: [string, string | number][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([String(flat[i]), flat[i + 1]!]);
  return pairs;
}
