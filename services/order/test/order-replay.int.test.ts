/**
 * Replay: the order service's consumer groups are moved back and everything is consumed again. The topics are
 * shared with every earlier test run and benchmark (tens of thousands of reservations no order service of theirs
 * ever consumed), so the groups go back to where this file's own history starts rather than to offset 0; the
 * mechanism is the same (`setOffsets` on a group without members, as `kafka-consumer-groups --reset-offsets`).
 */
import { uniqueSuffix, waitFor, testTopics } from '@flash-sale/testing';
import { committedOffsets, endOffsets, resetGroup, TestProducer, type Offsets } from './kafka-support';
import {
  as,
  database,
  orderApi,
  OrderStatus,
  orderRequested,
  paymentSucceeded,
  placeOrder,
  sendOrderRequested,
  sendPaymentEvent,
  startOrderStack,
  type OrderApi,
  type OrderStack,
} from './support';

const prefix = `test-replay-${uniqueSuffix()}.`;
const env = { KAFKA_GROUP_PREFIX: prefix, ORDER_SWEEP_INTERVAL_MS: '3600000' };
const groups = {
  [`${prefix}order.requests-and-payments`]: [testTopics.OrderRequested, testTopics.PaymentEvents],
  [`${prefix}order.deadlines`]: [testTopics.OrderDeadlines],
};
const db = database('orders');
let producer: TestProducer;
let stack: OrderStack;
let orders: OrderApi;

async function start() {
  stack = await startOrderStack(env);
  orders = orderApi(stack.orderAddress);
}
async function stop() {
  orders.close();
  await stack.stop();
}

beforeAll(async () => {
  producer = await TestProducer.connect();
});

afterAll(async () => {
  await producer.disconnect();
  await db.end();
});

/** Everything the order service wrote about these orders: rows, outbox events and processed event ids. */
async function snapshot(orderIds: string[], eventIds: string[]) {
  const rows = await db.query(
    'SELECT id::text, status, payment_id::text, paid_at, updated_at FROM orders.orders WHERE id = ANY($1::bigint[]) ORDER BY id',
    [orderIds],
  );
  const outbox = await db.query(
    'SELECT id::text, topic, key FROM orders.outbox WHERE key = ANY($1::text[]) ORDER BY id',
    [orderIds],
  );
  const processed = await db.query(
    'SELECT event_id::text FROM orders.processed_events WHERE event_id = ANY($1::bigint[]) ORDER BY event_id',
    [eventIds],
  );
  return { orders: rows.rows, outbox: outbox.rows, processed: processed.rows };
}

const caughtUp = async (groupId: string, topic: string, ends: Offsets) => {
  const committed = await committedOffsets(groupId, topic);
  return [...ends].every(([partition, end]) => BigInt(committed.get(partition) ?? '-1') >= BigInt(end));
};

describe('replaying the order service input', () => {
  it('when the groups are reset to the start of the history and consume it all again, then no row is added and no state changes', async () => {
    const marks = new Map<string, Offsets>();
    for (const topic of Object.values(groups).flat()) marks.set(topic, await endOffsets(topic));
    await start();

    // Every kind of history: awaiting payment, paid, cancelled, expired, refunded, and a duplicated event. All
    // but one have deadlines that pass during the test, so their deadline messages are consumed (and replayed).
    const soon = { paymentTimeoutSeconds: 4 };
    const paid = await placeOrder(producer, orders, soon);
    const payment = paymentSucceeded(paid);
    await sendPaymentEvent(producer, payment);
    const cancelled = await placeOrder(producer, orders, soon);
    await orders.cancel(cancelled.orderId, as(cancelled.userId));
    const expired = await placeOrder(producer, orders, { paymentTimeoutSeconds: 1 });
    const refunded = await placeOrder(producer, orders, soon);
    await orders.cancel(refunded.orderId, as(refunded.userId));
    const late = paymentSucceeded(refunded);
    await sendPaymentEvent(producer, late);
    const duplicated = orderRequested(soon);
    for (let i = 0; i < 3; i += 1) await sendOrderRequested(producer, duplicated);
    await orders.waitForStatus(paid.orderId, paid.userId, OrderStatus.ORDER_STATUS_PAID);
    await orders.waitForStatus(expired.orderId, expired.userId, OrderStatus.ORDER_STATUS_EXPIRED);
    await orders.waitForStatus(refunded.orderId, refunded.userId, OrderStatus.ORDER_STATUS_REFUNDED);
    await orders.waitForStatus(duplicated.orderId, duplicated.userId, OrderStatus.ORDER_STATUS_EXPIRED);
    // Last: its deadline (10 minutes away) would hold back any deadline behind it in its partition, and the sweep
    // that bounds such waits is off here.
    const awaiting = await placeOrder(producer, orders);

    const requests = [awaiting, paid, cancelled, expired, refunded, duplicated];
    const orderIds = requests.map((r) => r.orderId);
    // Payment events are recorded as processed; a request's record is its order row.
    const eventIds = [payment.eventId, late.eventId];
    // Once the consumers committed everything sent so far and the relay published what they wrote, take the picture.
    const requestsGroup = `${prefix}order.requests-and-payments`;
    const sentSoFar = new Map<string, Offsets>();
    for (const topic of groups[requestsGroup]!) sentSoFar.set(topic, await endOffsets(topic));
    await waitFor(
      async () => {
        for (const [topic, end] of sentSoFar) if (!(await caughtUp(requestsGroup, topic, end))) return false;
        const unpublished = await db.query(
          'SELECT count(*)::int AS n FROM orders.outbox WHERE key = ANY($1::text[]) AND published_at IS NULL',
          [orderIds],
        );
        return unpublished.rows[0].n === 0;
      },
      { what: 'the consumers and the relay to settle', timeoutMs: 30_000, intervalMs: 200 },
    );
    const before = await snapshot(orderIds, eventIds);
    expect(before.orders).toHaveLength(6);
    expect(before.processed).toHaveLength(2);
    await stop();

    for (const [groupId, topics] of Object.entries(groups)) {
      for (const topic of topics) await resetGroup(groupId, topic, marks.get(topic)!);
    }
    const ends = new Map<string, Offsets>();
    for (const topic of Object.values(groups).flat()) ends.set(topic, await endOffsets(topic));
    // The reset took: the groups are behind again, with everything this test produced still to consume.
    for (const [groupId, topics] of Object.entries(groups)) {
      for (const topic of topics) expect(await committedOffsets(groupId, topic)).toEqual(marks.get(topic));
    }
    expect(
      await caughtUp(
        `${prefix}order.requests-and-payments`,
        testTopics.OrderRequested,
        ends.get(testTopics.OrderRequested)!,
      ),
    ).toBe(false);
    await start();
    try {
      for (const topic of groups[`${prefix}order.requests-and-payments`]!) {
        await waitFor(() => caughtUp(`${prefix}order.requests-and-payments`, topic, ends.get(topic)!), {
          what: `replay of ${topic}`,
          timeoutMs: 60_000,
          intervalMs: 200,
        });
      }
      // Deadlines are re-consumed too, except on the partition of the order that still awaits payment (its
      // deadline is 10 min away and holds that partition).
      const deadlineEnds = ends.get(testTopics.OrderDeadlines)!;
      const replayedDeadlines = await waitFor(
        async () => {
          const committed = await committedOffsets(`${prefix}order.deadlines`, testTopics.OrderDeadlines);
          const moved = [...deadlineEnds].filter(
            ([partition, end]) => BigInt(committed.get(partition) ?? '-1') >= BigInt(end),
          );
          return moved.length >= deadlineEnds.size - 1 && moved;
        },
        { what: 'replay of order.deadlines', timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(replayedDeadlines.length).toBeGreaterThanOrEqual(deadlineEnds.size - 1);
      // A group commits an offset only once its handler's transaction did: what the replay changed is written now.
      expect(await snapshot(orderIds, eventIds)).toEqual(before);
    } finally {
      await stop();
    }
  });
});
