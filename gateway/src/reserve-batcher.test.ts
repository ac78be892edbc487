import { status } from '@grpc/grpc-js';
import type { inventoryV1 } from '@flash-sale/contracts';
import { HttpProblem } from './http/problem';
import { ReserveBatcher } from './reserve-batcher';
import type { CallScope, Upstreams } from './upstreams';

/** Upstreams whose ReserveBatch answers each item through `decide`, recording every call. */
function upstreams(decide: (item: inventoryV1.ReserveBatchItem) => inventoryV1.ReserveBatchResult) {
  const calls: inventoryV1.ReserveBatchRequest[] = [];
  const fake = {
    clients: { inventory: { reserveBatch: () => undefined } },
    call: async (_name: string, _method: unknown, request: inventoryV1.ReserveBatchRequest) => {
      calls.push(request);
      return { results: request.items.map(decide) };
    },
  };
  return { upstreams: fake as unknown as Upstreams, calls };
}

const scope = (userId: string): CallScope => ({
  requestId: `r-${userId}`,
  timeoutMs: 1_000,
  principal: { userId, roles: [], isAdmin: false },
});
const request = (key: string) => ({ promotionId: '7', quantity: 1, idempotencyKey: key });
const reserved = (orderId: string): inventoryV1.ReserveBatchResult => ({
  outcome: {
    $case: 'reserved',
    value: { orderId, status: 1, amountCents: '100', reserveTime: undefined, replayed: false },
  },
});

describe('ReserveBatcher', () => {
  it('when purchases arrive in the same turn, then they travel in one call and each gets its own answer', async () => {
    const { upstreams: fake, calls } = upstreams((item) => reserved(`order-${item.userId}`));
    const batcher = new ReserveBatcher(fake, 64);

    const answers = await Promise.all(['ann', 'bob', 'cid'].map((u) => batcher.reserve(request(u), scope(u))));

    expect(calls).toHaveLength(1);
    expect(calls[0]!.items.map((item) => item.userId)).toEqual(['ann', 'bob', 'cid']);
    expect(answers.map((a) => a.orderId)).toEqual(['order-ann', 'order-bob', 'order-cid']);
  });

  it('when more purchases arrive than a batch holds, then they are split into calls of at most that many', async () => {
    const { upstreams: fake, calls } = upstreams((item) => reserved(item.userId));
    const batcher = new ReserveBatcher(fake, 2);

    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((u) => batcher.reserve(request(u), scope(u))));

    expect(calls.map((call) => call.items.length)).toEqual([2, 2, 1]);
  });

  it('when inventory refuses one item, then only that purchase fails, with the problem Reserve would have caused', async () => {
    const { upstreams: fake } = upstreams((item) =>
      item.userId === 'bob'
        ? {
            outcome: {
              $case: 'failure',
              value: { code: status.FAILED_PRECONDITION, reason: 'SOLD_OUT', message: 'sold out', metadata: {} },
            },
          }
        : reserved(item.userId),
    );
    const batcher = new ReserveBatcher(fake, 64);

    const [ann, bob] = await Promise.allSettled(['ann', 'bob'].map((u) => batcher.reserve(request(u), scope(u))));

    expect(ann).toMatchObject({ status: 'fulfilled', value: { orderId: 'ann' } });
    expect(bob?.status).toBe('rejected');
    const problem = (bob as PromiseRejectedResult).reason as HttpProblem;
    expect(problem).toBeInstanceOf(HttpProblem);
    expect(problem.problem).toMatchObject({ status: 409, code: 'SOLD_OUT' });
  });
});
