import type { KafkaMessage } from 'kafkajs';
import { Pool } from 'pg';
import { orderEventsV1 } from '@flash-sale/contracts';
import { DeadLetterHeaders } from '@flash-sale/kafka-kit';
import { infra, testGroupPrefix, testTopics, waitFor } from '@flash-sale/testing';
import { idOnPartitionOf, TopicRecorder } from './kafka-support';
import { announcedKinds, as, newId, OrderStatus, orderRequested, sendOrderRequested, useOrderStack } from './support';

const h = useOrderStack();

/** Everything on `order.deadlines` since this file started: each new order's one announcement. */
let deadlines: TopicRecorder<orderEventsV1.OrderDeadline>;
beforeAll(async () => {
  deadlines = await TopicRecorder.start(testTopics.OrderDeadlines, orderEventsV1.OrderDeadline.decode);
});
afterAll(() => deadlines?.stop());

const deadlineOf = (orderId: string) => (deadline: orderEventsV1.OrderDeadline) => deadline.orderId === orderId;

describe('order service: reservations become orders', () => {
  it('when OrderRequested arrives, then the order awaits payment until reserve time plus the timeout and its deadline is published', async () => {
    const reserveTime = new Date(Date.now() - 5_000);
    const event = orderRequested({ reserveTime, paymentTimeoutSeconds: 300, quantity: 2, amountCents: '5000' });
    await sendOrderRequested(h.producer, event);

    const order = await h.orders.waitForStatus(event.orderId, event.userId, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT);
    const expiresAt = new Date(reserveTime.getTime() + 300_000);
    expect(order).toMatchObject({
      orderId: event.orderId,
      promotionId: event.promotionId,
      userId: event.userId,
      quantity: 2,
      amountCents: '5000',
      createTime: reserveTime,
      expireTime: expiresAt,
    });
    expect(order.paymentId).toBeUndefined();

    const { rows } = await h.db.query('SELECT status, amount_cents, expires_at FROM orders.orders WHERE id = $1', [
      event.orderId,
    ]);
    expect(rows).toEqual([{ status: 'AWAITING_PAYMENT', amount_cents: '5000', expires_at: expiresAt }]);

    const deadline = await deadlines.next(deadlineOf(event.orderId), 'OrderDeadline');
    expect(deadline).toEqual({ orderId: event.orderId, expireTime: expiresAt });
    // Consumers of order.events hear of an order only when it changes again.
    expect(await announcedKinds(h.db, event.orderId)).toEqual(['deadline']);
  });

  it('when 50 copies of one OrderRequested arrive at once, then there is exactly one order and one deadline', async () => {
    const event = orderRequested();
    const sent = await Promise.all(Array.from({ length: 50 }, () => sendOrderRequested(h.producer, event)));
    const partition = sent[0]!.partition;
    expect(sent.every((copy) => copy.partition === partition)).toBe(true);
    // A later order on the same partition: once it exists, every copy before it has been consumed. Its deadline
    // shares the event's partition of order.deadlines too: once it is heard, any second deadline would have been.
    const after = orderRequested({ orderId: await idOnPartitionOf(testTopics.OrderDeadlines, event.orderId, newId) });
    await sendOrderRequested(h.producer, after, partition);
    await h.orders.waitForStatus(after.orderId, after.userId, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT);

    const { rows } = await h.db.query('SELECT count(*)::int AS n FROM orders.orders WHERE id = $1', [event.orderId]);
    expect(rows[0].n).toBe(1);
    expect(await announcedKinds(h.db, event.orderId)).toEqual(['deadline']);
    await deadlines.next(deadlineOf(event.orderId), 'OrderDeadline');
    await deadlines.next(deadlineOf(after.orderId), 'the deadline of the later order');
    expect(deadlines.where(deadlineOf(event.orderId))).toHaveLength(1);
  });

  it('when messages on order.requested are undecodable or invalid, then they go to order.requested.dlq with the reason, and the next one is processed', async () => {
    const dlq = await TopicRecorder.messages(testTopics.OrderRequestedDlq);
    try {
      const event = orderRequested();
      const invalid = orderRequested({ orderId: event.orderId, quantity: 0 });
      // The same key puts all three on one partition, the poison first.
      const garbage = await h.producer.send(testTopics.OrderRequested, event.orderId, Buffer.from([0x0f, 0xff, 0x00]));
      await sendOrderRequested(h.producer, invalid);
      await sendOrderRequested(h.producer, event);

      const order = await h.orders.waitForStatus(
        event.orderId,
        event.userId,
        OrderStatus.ORDER_STATUS_AWAITING_PAYMENT,
      );
      expect(order.quantity).toBe(1);
      // Inventory's ledger reads order.requested too and sets the garbage aside under its own group: not ours here.
      const ours = (m: KafkaMessage) =>
        m.key?.toString() === event.orderId &&
        /order\.requests-and-payments$/.test(m.headers?.[DeadLetterHeaders.consumerGroup]?.toString() ?? '');
      const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
      // Dead-lettering is at least once (a batch retried after a rebalance sets its poison aside again): one letter
      // per source message counts, identified by the source partition and offset headers.
      const bySource = (messages: KafkaMessage[]) => [
        ...new Map(
          messages.map((m) => [
            `${header(m, DeadLetterHeaders.sourcePartition)}:${header(m, DeadLetterHeaders.sourceOffset)}`,
            m,
          ]),
        ).values(),
      ];
      const letters = await waitFor(
        async () => {
          const mine = bySource(dlq.where(ours));
          return mine.length >= 2 && mine;
        },
        { what: 'two dead letters', timeoutMs: 30_000 },
      );
      expect(letters.map((m) => header(m, DeadLetterHeaders.reason)).sort()).toEqual(['INVALID', 'UNDECODABLE']);
      const bad = letters.find((m) => header(m, DeadLetterHeaders.reason) === 'INVALID')!;
      expect(header(bad, DeadLetterHeaders.error)).toContain('quantity 0');
      expect(header(bad, DeadLetterHeaders.sourceTopic)).toBe(testTopics.OrderRequested);
      const undecodable = letters.find((m) => header(m, DeadLetterHeaders.reason) === 'UNDECODABLE')!;
      expect(header(undecodable, DeadLetterHeaders.sourceOffset)).toBe(garbage.offset);
      expect(undecodable.value).toEqual(Buffer.from([0x0f, 0xff, 0x00]));
      // Nothing else of ours was set aside afterwards: a poison marker behind the three, on their partition, whose
      // dead letter shares theirs, is set aside by this file's consumer after anything of ours would have been.
      const marker = await idOnPartitionOf(testTopics.OrderRequestedDlq, event.orderId, newId);
      await h.producer.send(testTopics.OrderRequested, marker, Buffer.from([0x0f, 0xff, 0x00]), garbage.partition);
      const group = `${testGroupPrefix}order.requests-and-payments`;
      await waitFor(
        async () =>
          dlq.events.some((m) => m.key?.toString() === marker && header(m, DeadLetterHeaders.consumerGroup) === group),
        { what: 'the dead letter of the marker', timeoutMs: 30_000 },
      );
      expect(bySource(dlq.where(ours))).toHaveLength(2);
    } finally {
      await dlq.stop();
    }
  });

  it('when the database refuses writes for a while, then the batch is retried with backoff and lands once, nothing skipped', async () => {
    const admin = new Pool({ connectionString: infra.adminDatabaseUrl, max: 1 });
    const events = Array.from({ length: 20 }, () => orderRequested());
    // Every new order row now fails: the consumer's statement rolls back (a real PostgreSQL error). The check draws
    // from a sequence first, which no rollback undoes: it counts the refused attempts.
    await admin.query('CREATE SEQUENCE IF NOT EXISTS orders.test_refused_writes');
    await admin.query(
      `CREATE OR REPLACE FUNCTION orders.test_refuse_write() RETURNS boolean LANGUAGE sql SECURITY DEFINER
         AS $$ SELECT nextval('orders.test_refused_writes') < 0 $$`,
    );
    const refused = async () =>
      Number(
        (
          await admin.query(
            'SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM orders.test_refused_writes',
          )
        ).rows[0].n,
      );
    const refusedBefore = await refused();
    await admin.query(
      'ALTER TABLE orders.orders ADD CONSTRAINT test_refuse_writes CHECK (orders.test_refuse_write()) NOT VALID',
    );
    try {
      const sent = await Promise.all(events.map((event) => sendOrderRequested(h.producer, event)));
      // A batch is refused once per attempt, and a partition's next attempt is a retry of its refused batch: more
      // than twice as many refusals as partitions means some batch was refused and tried again twice.
      const partitions = new Set(sent.map(({ partition }) => partition)).size;
      await waitFor(async () => (await refused()) - refusedBefore > 2 * partitions, {
        what: 'a refused batch to be tried again twice',
      });
      const ids = events.map((event) => event.orderId);
      const during = await h.db.query('SELECT count(*)::int AS n FROM orders.orders WHERE id = ANY($1::bigint[])', [
        ids,
      ]);
      expect(during.rows[0].n).toBe(0);
    } finally {
      await admin.query('ALTER TABLE orders.orders DROP CONSTRAINT test_refuse_writes');
      await admin.query('DROP FUNCTION orders.test_refuse_write()');
      await admin.query('DROP SEQUENCE orders.test_refused_writes');
      await admin.end();
    }
    for (const event of events) {
      await h.orders.waitForStatus(event.orderId, event.userId, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT);
    }
    for (const event of events) expect(await announcedKinds(h.db, event.orderId)).toEqual(['deadline']);
  });

  it('when nobody knows an order id, then GetOrder answers NOT_FOUND', async () => {
    const event = orderRequested();
    await expect(h.orders.get(event.orderId, as(event.userId))).rejects.toMatchObject({ code: 5 });
  });
});
