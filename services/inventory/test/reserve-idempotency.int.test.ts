import { saleKeys } from '../src/domain/sale-keys';
import { call, getStock, newSale, reserve, startInventory, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  h = await startInventory();
});

afterAll(async () => {
  await h?.stop();
});

describe('reserve idempotency', () => {
  it('when one user sends the same key 50 times at once, then there is one order, stock drops once and 49 calls are replays', async () => {
    const promotionId = await newSale(h.client, { stock: 10, perUserLimit: 5, priceCents: 1_234 });

    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () => reserve(h.client, promotionId, 'alice', 2, 'same-key')),
    );

    const responses = outcomes.map((o) => {
      if (!o.ok) throw new Error(`reserve failed: ${JSON.stringify(o.failure)}`);
      return o.response;
    });
    expect(new Set(responses.map((r) => r.orderId)).size).toBe(1);
    expect(responses.filter((r) => !r.replayed)).toHaveLength(1);
    expect(responses.filter((r) => r.replayed)).toHaveLength(49);
    // A replay answers exactly what the first call answered.
    const first = responses.find((r) => !r.replayed)!;
    for (const r of responses) {
      expect(r).toMatchObject({ orderId: first.orderId, amountCents: '2468', reserveTime: first.reserveTime });
    }
    const keys = saleKeys(promotionId);
    expect(await h.redis.get(keys.stock)).toBe('8');
    expect(await h.redis.hget(keys.users, 'alice')).toBe('2');
    expect(await h.redis.hlen(keys.reservations)).toBe(1);
    expect(await getStock(h.client, promotionId)).toMatchObject({ availableStock: 8, reserved: 2 });
  });

  it('when a different user sends the same key, then it is a separate reservation', async () => {
    const promotionId = await newSale(h.client, { stock: 10, perUserLimit: 1 });

    const alice = await reserve(h.client, promotionId, 'alice', 1, 'shared-key');
    const bob = await reserve(h.client, promotionId, 'bob', 1, 'shared-key');

    if (!alice.ok || !bob.ok) throw new Error('both reserves should succeed');
    expect(bob.response.orderId).not.toBe(alice.response.orderId);
    expect([alice.response.replayed, bob.response.replayed]).toEqual([false, false]);
    expect(await h.redis.get(saleKeys(promotionId).stock)).toBe('8');
    const bobsOrder = await call(h.client, h.client.getReservation, { orderId: bob.response.orderId });
    expect(bobsOrder.reservation).toMatchObject({ userId: 'bob', promotionId, quantity: 1 });
  });

  it('when a key is replayed after the sale sold out, then the original order comes back instead of SOLD_OUT', async () => {
    const promotionId = await newSale(h.client, { stock: 1, perUserLimit: 1 });
    const first = await reserve(h.client, promotionId, 'carol', 1, 'retry-me');
    const soldOut = await reserve(h.client, promotionId, 'dave', 1, 'other');

    const retry = await reserve(h.client, promotionId, 'carol', 1, 'retry-me');

    expect(soldOut.ok ? 'ok' : soldOut.failure.info?.reason).toBe('SOLD_OUT');
    if (!first.ok || !retry.ok) throw new Error('the first reserve and its replay should succeed');
    expect(retry.response).toMatchObject({ orderId: first.response.orderId, replayed: true });
    expect(await h.redis.get(saleKeys(promotionId).stock)).toBe('0');
  });
});
