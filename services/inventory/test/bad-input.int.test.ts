import { status } from '@grpc/grpc-js';
import { waitFor } from '@flash-sale/testing';
import { saleKeys } from '../src/domain/sale-keys';
import {
  call,
  getStock,
  newId,
  newSale,
  outcome,
  redisSnapshot,
  reserve,
  saleRequest,
  saleRow,
  startInventory,
  type Harness,
  type Outcome,
} from './support';

let h: Harness;

beforeAll(async () => {
  h = await startInventory();
});

afterAll(async () => {
  await h?.stop();
});

function expectFailure(result: Outcome<unknown>, code: status, reason?: string) {
  if (result.ok) throw new Error(`expected ${status[code]} ${reason ?? ''}, got success`);
  expect(result.failure.code).toBe(code);
  if (reason) expect(result.failure.info).toMatchObject({ reason, domain: 'flashsale' });
  expect(result.failure.message).not.toBe('');
}

/** Runs `attempt`, asserting it changed nothing the promotion owns in Redis and nothing the stock view shows. */
async function expectNoChange(promotionId: string, attempt: () => Promise<void>) {
  // The relay creates the (empty) outbox stream and its group soon after PrepareSale; that is not our change.
  await waitFor(async () => (await h.redis.exists(saleKeys(promotionId).outbox)) === 1, { what: 'the outbox' });
  const before = await redisSnapshot(h.redis, promotionId);
  const stockBefore = await outcome(getStock(h.client, promotionId));
  await attempt();
  expect(await redisSnapshot(h.redis, promotionId)).toEqual(before);
  expect(await outcome(getStock(h.client, promotionId))).toEqual(stockBefore);
}

describe('bad input changes nothing and gets a clear error', () => {
  it.each([0, -1, 101, 1e9, 2 ** 31 - 1])(
    'when the quantity is %p, then INVALID_ARGUMENT INVALID_QUANTITY',
    async (quantity) => {
      const promotionId = await newSale(h.client, { stock: 1_000, perUserLimit: 1_000 });
      await expectNoChange(promotionId, async () => {
        const result = await reserve(h.client, promotionId, 'mallory', quantity, `q-${quantity}`);
        expectFailure(result, status.INVALID_ARGUMENT, 'INVALID_QUANTITY');
      });
    },
  );

  it.each([
    ['empty', ''],
    ['with a space', 'has space'],
    ['non-ASCII', 'ключ'],
    ['129 characters', 'k'.repeat(129)],
  ])('when the idempotency key is %s, then INVALID_ARGUMENT INVALID_IDEMPOTENCY_KEY', async (_, key) => {
    const promotionId = await newSale(h.client);
    await expectNoChange(promotionId, async () => {
      expectFailure(
        await reserve(h.client, promotionId, 'mallory', 1, key),
        status.INVALID_ARGUMENT,
        'INVALID_IDEMPOTENCY_KEY',
      );
    });
  });

  it('when the promotion was never prepared, then NOT_FOUND PROMOTION_NOT_FOUND and no key is created', async () => {
    const promotionId = newId();
    expectFailure(await reserve(h.client, promotionId, 'mallory', 1, 'k1'), status.NOT_FOUND, 'PROMOTION_NOT_FOUND');
    expectFailure(await outcome(getStock(h.client, promotionId)), status.NOT_FOUND, 'PROMOTION_NOT_FOUND');
    expect(await h.redis.exists(...Object.values(saleKeys(promotionId)))).toBe(0);
  });

  it('when the promotion id is not a positive id, then INVALID_ARGUMENT INVALID_ID', async () => {
    expectFailure(await reserve(h.client, '0', 'mallory', 1, 'k1'), status.INVALID_ARGUMENT, 'INVALID_ID');
  });

  it.each([
    ['has ended', { startsInMs: -7_200_000, lengthMs: 3_600_000 }],
    ['has not started', { startsInMs: 3_600_000 }],
  ])('when the sale %s, then FAILED_PRECONDITION SALE_NOT_ACTIVE', async (_, window) => {
    const promotionId = await newSale(h.client, { stock: 10, ...window });
    await expectNoChange(promotionId, async () => {
      expectFailure(
        await reserve(h.client, promotionId, 'early-bird', 1, 'k1'),
        status.FAILED_PRECONDITION,
        'SALE_NOT_ACTIVE',
      );
    });
  });

  it('when the call carries no user identity, then UNAUTHENTICATED', async () => {
    const promotionId = await newSale(h.client);
    await expectNoChange(promotionId, async () => {
      const request = { promotionId, quantity: 1, idempotencyKey: 'anonymous' };
      expectFailure(await outcome(call(h.client, h.client.reserve, request)), status.UNAUTHENTICATED);
    });
  });

  it('when a sale would end before it starts, then PrepareSale says INVALID_ARGUMENT and stores nothing', async () => {
    const promotionId = newId();
    const request = saleRequest(promotionId);
    [request.startsAt, request.endsAt] = [request.endsAt, request.startsAt];

    const result = await outcome(call(h.client, h.client.prepareSale, request));

    expectFailure(result, status.INVALID_ARGUMENT, 'INVALID_SALE_TERMS');
    if (!result.ok) expect(result.failure.info?.metadata).toEqual({ field: 'ends_at' });
    expect(await saleRow(promotionId)).toBeUndefined();
    expect(await h.redis.exists(...Object.values(saleKeys(promotionId)))).toBe(0);
  });

  it.each([
    ['a zero payment timeout', { paymentTimeoutSeconds: 0 }, 'payment_timeout_seconds'],
    ['a zero per-user limit', { perUserLimit: 0 }, 'per_user_limit'],
    ['a negative stock', { stock: -1 }, 'stock'],
  ])('when PrepareSale has %s, then INVALID_ARGUMENT names the field', async (_, options, field) => {
    const promotionId = newId();
    const result = await outcome(call(h.client, h.client.prepareSale, saleRequest(promotionId, options)));
    expectFailure(result, status.INVALID_ARGUMENT, 'INVALID_SALE_TERMS');
    if (!result.ok) expect(result.failure.info?.metadata).toEqual({ field });
    expect(await saleRow(promotionId)).toBeUndefined();
  });
});
