import { status } from '@grpc/grpc-js';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
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
    const batcher = new ReserveBatcher(fake, { maxBatch: 64 });

    const answers = await Promise.all(['ann', 'bob', 'cid'].map((u) => batcher.reserve(request(u), scope(u))));

    expect(calls).toHaveLength(1);
    expect(calls[0]!.items.map((item) => item.userId)).toEqual(['ann', 'bob', 'cid']);
    expect(answers.map((a) => a.orderId)).toEqual(['order-ann', 'order-bob', 'order-cid']);
  });

  it('when purchases of different traces share a call, then each item carries its own trace and the call runs in the first one', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      const traced = (traceId: string, flags: number) =>
        trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: 'b7ad6b7169203331', traceFlags: flags });
      const callTraces: (string | undefined)[] = [];
      const { upstreams: fake, calls } = upstreams((item) => reserved(item.userId));
      const call = fake.call.bind(fake);
      fake.call = ((...args: Parameters<typeof call>) => {
        callTraces.push(trace.getSpanContext(context.active())?.traceId);
        return call(...args);
      }) as typeof fake.call;
      const batcher = new ReserveBatcher(fake, { maxBatch: 64 });

      await Promise.all([
        context.with(traced('a'.repeat(32), 0), () => batcher.reserve(request('ann'), scope('ann'))),
        context.with(traced('b'.repeat(32), 1), () => batcher.reserve(request('bob'), scope('bob'))),
        batcher.reserve(request('cid'), scope('cid')),
      ]);

      expect(calls[0]!.items.map(({ traceparent, tracestate }) => [traceparent, tracestate])).toEqual([
        [`00-${'a'.repeat(32)}-b7ad6b7169203331-00`, undefined],
        [`00-${'b'.repeat(32)}-b7ad6b7169203331-01`, undefined],
        [undefined, undefined],
      ]);
      expect(callTraces).toEqual(['a'.repeat(32)]);
    } finally {
      context.disable();
    }
  });

  it('when more purchases arrive than a batch holds, then they are split into calls of at most that many', async () => {
    const { upstreams: fake, calls } = upstreams((item) => reserved(item.userId));
    const batcher = new ReserveBatcher(fake, { maxBatch: 2 });

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
    const batcher = new ReserveBatcher(fake, { maxBatch: 64 });

    const [ann, bob] = await Promise.allSettled(['ann', 'bob'].map((u) => batcher.reserve(request(u), scope(u))));

    expect(ann).toMatchObject({ status: 'fulfilled', value: { orderId: 'ann' } });
    expect(bob?.status).toBe('rejected');
    const problem = (bob as PromiseRejectedResult).reason as HttpProblem;
    expect(problem).toBeInstanceOf(HttpProblem);
    expect(problem.problem).toMatchObject({ status: 409, code: 'SOLD_OUT' });
  });

  describe('with one partial batch in flight', () => {
    /** Upstreams whose calls stay out until the test answers them (each item reserved) or fails them. */
    function heldUpstreams() {
      const calls: { items: string[]; timeoutMs: number; answer: () => void; fail: () => void }[] = [];
      const fake = {
        clients: { inventory: { reserveBatch: () => undefined } },
        call: (_name: string, _method: unknown, request: inventoryV1.ReserveBatchRequest, callScope: CallScope) =>
          new Promise((resolve, reject) =>
            calls.push({
              items: request.items.map((item) => item.userId),
              timeoutMs: callScope.timeoutMs,
              answer: () => resolve({ results: request.items.map((item) => reserved(item.userId)) }),
              fail: () => reject(new Error('unavailable')),
            }),
          ),
      };
      return { upstreams: fake as unknown as Upstreams, calls };
    }
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    // Tests that let time pass use fake timers (turns stay real): the clock moves exactly as far as they say.
    afterEach(() => jest.useRealTimers());

    it('when purchases arrive while a call is out, then they wait for it and leave together', async () => {
      const { upstreams: fake, calls } = heldUpstreams();
      const batcher = new ReserveBatcher(fake, { maxBatch: 64, maxPartialInFlight: 1, maxWaitMs: 1_000 });

      const first = batcher.reserve(request('a'), scope('a'));
      await turn();
      const later = ['b', 'c'].map((u) => batcher.reserve(request(u), scope(u)));
      await turn();
      const laterStill = batcher.reserve(request('d'), scope('d'));
      await turn();

      expect(calls.map((call) => call.items)).toEqual([['a']]);
      calls[0]!.answer();
      await expect(first).resolves.toMatchObject({ orderId: 'a' });
      await turn();
      expect(calls.map((call) => call.items)).toEqual([['a'], ['b', 'c', 'd']]);
      calls[1]!.answer();
      await expect(Promise.all([...later, laterStill])).resolves.toHaveLength(3);
    });

    it('when a batch fills while a call is out, then it leaves at once', async () => {
      const { upstreams: fake, calls } = heldUpstreams();
      const batcher = new ReserveBatcher(fake, { maxBatch: 2, maxPartialInFlight: 1, maxWaitMs: 1_000 });

      void batcher.reserve(request('a'), scope('a'));
      await turn();
      void batcher.reserve(request('b'), scope('b'));
      void batcher.reserve(request('c'), scope('c'));
      void batcher.reserve(request('d'), scope('d'));
      await turn();

      expect(calls.map((call) => call.items)).toEqual([['a'], ['b', 'c']]);
    });

    it('when the call out fails, then its purchases fail and the waiting ones leave, with the deadline they have left', async () => {
      const { upstreams: fake, calls } = heldUpstreams();
      const batcher = new ReserveBatcher(fake, { maxBatch: 64, maxPartialInFlight: 1, maxWaitMs: 1_000 });

      jest.useFakeTimers({ doNotFake: ['setImmediate'] });
      const first = batcher.reserve(request('a'), scope('a'));
      await turn();
      const waiting = batcher.reserve(request('b'), scope('b'));
      jest.advanceTimersByTime(50);
      calls[0]!.fail();
      await expect(first).rejects.toThrow('unavailable');
      await turn();

      expect(calls.map((call) => call.items)).toEqual([['a'], ['b']]);
      // The first left at once (a clock tick may pass between queueing and sending); the second waited 50 ms.
      expect(calls[0]!.timeoutMs).toBeGreaterThanOrEqual(990);
      expect(calls[0]!.timeoutMs).toBeLessThanOrEqual(1_000);
      expect(calls[1]!.timeoutMs).toBeLessThanOrEqual(955);
      calls[1]!.answer();
      await expect(waiting).resolves.toMatchObject({ orderId: 'b' });
    });

    it('when the call out takes longer than the longest wait, then the waiting purchases leave without it', async () => {
      const { upstreams: fake, calls } = heldUpstreams();
      const batcher = new ReserveBatcher(fake, { maxBatch: 64, maxPartialInFlight: 1, maxWaitMs: 30 });

      void batcher.reserve(request('a'), scope('a'));
      await turn();
      jest.useFakeTimers({ doNotFake: ['setImmediate'] });
      const waiting = batcher.reserve(request('b'), scope('b'));
      await turn();
      expect(calls).toHaveLength(1);
      jest.advanceTimersByTime(29);
      expect(calls).toHaveLength(1);
      jest.advanceTimersByTime(1);

      expect(calls.map((call) => call.items)).toEqual([['a'], ['b']]);
      calls[1]!.answer();
      await expect(waiting).resolves.toMatchObject({ orderId: 'b' });
    });
  });
});
