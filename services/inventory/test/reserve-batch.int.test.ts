/**
 * ReserveBatch: the gateway's coalesced purchases. Each item is decided on its own, as Reserve would decide it,
 * and the results come back in the order of the items.
 */
import { status } from '@grpc/grpc-js';
import { inventoryV1 } from '@flash-sale/contracts';
import { call, getStock, newSale, reserve, startInventory, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  h = await startInventory();
});

afterAll(async () => {
  await h?.stop();
});

const item = (userId: string, promotionId: string, quantity: number, idempotencyKey: string) =>
  inventoryV1.ReserveBatchItem.fromPartial({ userId, request: { promotionId, quantity, idempotencyKey } });

describe('ReserveBatch', () => {
  it('when one batch mixes buyers, limits, sell-out, bad items and a repeated key, then each item gets what Reserve would answer, in order', async () => {
    const promotionId = await newSale(h.client, { stock: 3, perUserLimit: 1 });
    const earlier = await reserve(h.client, promotionId, 'dora', 1, 'd1');
    if (!earlier.ok) throw new Error('setup');

    const { results } = await call(h.client, h.client.reserveBatch, {
      items: [
        item('ann', promotionId, 1, 'a1'),
        item('ann', promotionId, 1, 'a2'), // over her limit of one
        item('bob', promotionId, 1, 'b1'), // the last unit
        item('cid', promotionId, 1, 'c1'), // sold out by then
        item('dora', promotionId, 1, 'd1'), // the same key again: her earlier order, nothing more
        item('eve', promotionId, 0, 'e1'), // invalid quantity
        inventoryV1.ReserveBatchItem.fromPartial({ request: { promotionId, quantity: 1, idempotencyKey: 'x' } }),
      ],
    });

    const summary = results.map(({ outcome }) =>
      outcome?.$case === 'reserved'
        ? `reserved${outcome.value.replayed ? ' (replayed)' : ''}`
        : `${status[outcome!.value.code]} ${outcome!.value.reason}`,
    );
    // ann's two items race inside one batch: exactly one of them wins, and bob gets the last unit or cid does.
    expect(summary.slice(0, 2).sort()).toEqual(['FAILED_PRECONDITION PURCHASE_LIMIT_REACHED', 'reserved']);
    expect(summary.slice(2, 4).sort()).toEqual(['FAILED_PRECONDITION SOLD_OUT', 'reserved']);
    expect(summary.slice(4)).toEqual([
      'reserved (replayed)',
      'INVALID_ARGUMENT INVALID_QUANTITY',
      'INVALID_ARGUMENT INVALID_ITEM',
    ]);
    const replayed = results[4]!.outcome;
    expect(replayed?.$case === 'reserved' && replayed.value.orderId).toBe(earlier.response.orderId);
    expect((await getStock(h.client, promotionId)).availableStock).toBe(0);
  });

  it('when a batch is larger than 256 items, then it is refused as a whole', async () => {
    const items = Array.from({ length: 257 }, (_, i) => item(`u${i}`, '1', 1, `k${i}`));
    await expect(call(h.client, h.client.reserveBatch, { items })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
  });
});
