import { waitFor } from '@flash-sale/testing';
import { saleKeys } from '../src/domain/sale-keys';
import { OrderRequestedCollector } from './order-requested-collector';
import { newSale, reserve, startInventory, type Harness } from './support';

let h: Harness;
const kafka = new OrderRequestedCollector();

beforeAll(async () => {
  h = await startInventory();
  await kafka.start();
});

afterAll(async () => {
  await kafka.stop();
  await h?.stop();
});

/** The relay acknowledges and deletes what Kafka accepted: nothing stays in the stream or pending. */
async function expectStreamDrained(promotionId: string) {
  const stream = saleKeys(promotionId).outbox;
  await waitFor(async () => (await h.redis.xlen(stream)) === 0, { what: 'an empty outbox stream' });
  const [pending] = (await h.redis.xpending(stream, 'relay')) as [number, ...unknown[]];
  expect(pending).toBe(0);
}

describe('outbox relay to Kafka', () => {
  it('when reservations are accepted, then each arrives on order.requested exactly once, keyed by order id, with its terms', async () => {
    const promotionId = await newSale(h.client, {
      stock: 100,
      perUserLimit: 3,
      priceCents: 1_999,
      paymentTimeoutSeconds: 300,
    });
    const reserved = new Map<string, { userId: string; quantity: number; reserveTime: Date | undefined }>();
    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const userId = `relay-buyer-${i}`;
        const quantity = (i % 3) + 1;
        const o = await reserve(h.client, promotionId, userId, quantity, `key-${i}`);
        if (!o.ok) throw new Error(`reserve failed: ${JSON.stringify(o.failure)}`);
        reserved.set(o.response.orderId, { userId, quantity, reserveTime: o.response.reserveTime });
      }),
    );
    // A replay and a rejection write nothing to the outbox.
    expect((await reserve(h.client, promotionId, 'relay-buyer-0', 1, 'key-0')).ok).toBe(true);
    expect((await reserve(h.client, promotionId, 'relay-buyer-2', 1, 'one-too-many')).ok).toBe(false);

    const received = await kafka.waitForCount(promotionId, 20);

    expect(received).toHaveLength(20);
    expect(new Set(received.map((r) => r.event.orderId))).toEqual(new Set(reserved.keys()));
    expect(new Set(received.map((r) => r.event.eventId)).size).toBe(20);
    for (const { key, event } of received) {
      const expected = reserved.get(event.orderId)!;
      expect(key).toBe(event.orderId);
      expect(event).toMatchObject({
        promotionId,
        userId: expected.userId,
        quantity: expected.quantity,
        amountCents: String(1_999 * expected.quantity),
        paymentTimeoutSeconds: 300,
        reserveTime: expected.reserveTime,
        idempotencyKey: expect.stringMatching(/^key-\d+$/),
      });
      expect(event.eventId).not.toBe(event.orderId);
    }
    await expectStreamDrained(promotionId);
  });

  it('when the price and quantity are at their maximum, then the amount is exact in the response and the event', async () => {
    const price = 10_000_000_000;
    const promotionId = await newSale(h.client, { stock: 100, perUserLimit: 100, priceCents: price });

    const o = await reserve(h.client, promotionId, 'big-spender', 100, 'all-of-it');

    if (!o.ok) throw new Error(`reserve failed: ${JSON.stringify(o.failure)}`);
    expect(o.response.amountCents).toBe('1000000000000');
    const [only] = await kafka.waitForCount(promotionId, 1);
    expect(only?.event).toMatchObject({ orderId: o.response.orderId, amountCents: '1000000000000', quantity: 100 });
    expect(kafka.received(promotionId)).toHaveLength(1);
    await expectStreamDrained(promotionId);
  });

  it('when the outbox holds an entry that cannot be encoded, then it is dropped and the entries around it still arrive', async () => {
    const promotionId = await newSale(h.client, { stock: 10, perUserLimit: 1 });
    const before = await reserve(h.client, promotionId, 'before-poison', 1, 'k');
    await h.redis.xadd(
      saleKeys(promotionId).outbox,
      '*',
      'event',
      'not-a-number',
      'order',
      'x',
      'promotion',
      promotionId,
    );
    const after = await reserve(h.client, promotionId, 'after-poison', 1, 'k');
    if (!before.ok || !after.ok) throw new Error('reserve failed');

    const received = await kafka.waitForCount(promotionId, 2);

    expect(received.map((r) => r.event.orderId).sort()).toEqual(
      [before.response.orderId, after.response.orderId].sort(),
    );
    await expectStreamDrained(promotionId);
  });
});
