/**
 * Payment deadlines through the deadline topic alone: the safety-net sweep is set to run only at start-up and the
 * deadline alarm is off, so every expiry here comes from `order.deadlines` being consumed when due.
 */
import type { KafkaMessage } from 'kafkajs';
import { DeadLetterHeaders } from '@flash-sale/kafka-kit';
import { uniqueSuffix, waitFor, testTopics } from '@flash-sale/testing';
import { idOnPartitionOf, TopicRecorder } from './kafka-support';
import {
  announcedKinds,
  as,
  newId,
  OrderStatus,
  orderRequested,
  paymentSucceeded,
  placeOrder,
  sendOrderRequested,
  sendPaymentEvent,
  useOrderStack,
} from './support';

const h = useOrderStack({
  ORDER_SWEEP_INTERVAL_MS: '3600000',
  ORDER_DEADLINE_ALARM: 'off',
  KAFKA_GROUP_PREFIX: `test-deadlines-${uniqueSuffix()}.`,
});

async function expiredAt(orderId: string): Promise<Date> {
  const { rows } = await h.db.query<{ updated_at: Date }>('SELECT updated_at FROM orders.orders WHERE id = $1', [
    orderId,
  ]);
  return rows[0]!.updated_at;
}

describe('payment deadlines on order.deadlines', () => {
  it('when an order is not paid in time, then it expires at its deadline, not before, and OrderExpired is announced once', async () => {
    const reserveTime = new Date();
    const event = await placeOrder(h.producer, h.orders, { reserveTime, paymentTimeoutSeconds: 3 });
    // Read all along until the clock is 2 s past the reservation: it awaits payment every time.
    const early = reserveTime.getTime() + 2_000;
    const seen = new Set<number>();
    await waitFor(
      async () => {
        seen.add((await h.orders.get(event.orderId, as(event.userId))).status);
        return Date.now() > early;
      },
      { what: 'the clock to pass 2 s after the reservation' },
    );
    expect([...seen]).toEqual([OrderStatus.ORDER_STATUS_AWAITING_PAYMENT]);
    expect((await h.orders.get(event.orderId, as(event.userId))).status).toBe(
      OrderStatus.ORDER_STATUS_AWAITING_PAYMENT,
    );

    await h.orders.waitForStatus(event.orderId, event.userId, OrderStatus.ORDER_STATUS_EXPIRED);
    const deadline = reserveTime.getTime() + 3_000;
    expect((await expiredAt(event.orderId)).getTime()).toBeGreaterThanOrEqual(deadline);
    expect(await announcedKinds(h.db, event.orderId)).toEqual(['deadline', 'orderExpired']);
  });

  it('when the order is paid before its deadline, then the due deadline changes nothing', async () => {
    const event = orderRequested({ reserveTime: new Date(), paymentTimeoutSeconds: 2 });
    await sendOrderRequested(h.producer, event);
    await h.orders.waitForStatus(event.orderId, event.userId, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT);
    await sendPaymentEvent(h.producer, paymentSucceeded(event));
    await h.orders.waitForStatus(event.orderId, event.userId, OrderStatus.ORDER_STATUS_PAID);
    // An order behind it on the same partition expiring proves the paid order's deadline was consumed first.
    const behind = orderRequested({
      orderId: await idOnPartitionOf(testTopics.OrderDeadlines, event.orderId, newId),
      reserveTime: new Date(),
      paymentTimeoutSeconds: 1,
    });
    await sendOrderRequested(h.producer, behind);
    const started = Date.now();
    await h.orders.waitForStatus(behind.orderId, behind.userId, OrderStatus.ORDER_STATUS_EXPIRED);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect((await h.orders.get(event.orderId, as(event.userId))).status).toBe(OrderStatus.ORDER_STATUS_PAID);
    expect(await announcedKinds(h.db, event.orderId)).toEqual(['deadline', 'orderPaid']);
  });

  it('when a later deadline sits before an earlier one in a partition, then both orders expire, each once', async () => {
    const now = new Date();
    const first = orderRequested({ reserveTime: now, paymentTimeoutSeconds: 4 });
    await sendOrderRequested(h.producer, first);
    await h.orders.waitForStatus(first.orderId, first.userId, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT);
    const second = orderRequested({
      orderId: await idOnPartitionOf(testTopics.OrderDeadlines, first.orderId, newId),
      reserveTime: now,
      paymentTimeoutSeconds: 1,
    });
    await sendOrderRequested(h.producer, second);
    for (const event of [first, second]) {
      await h.orders.waitForStatus(event.orderId, event.userId, OrderStatus.ORDER_STATUS_EXPIRED);
      expect(await announcedKinds(h.db, event.orderId)).toEqual(['deadline', 'orderExpired']);
    }
  });

  it('when a deadline message is poison, then it is dead-lettered and the deadlines behind it still expire', async () => {
    const dlq = await TopicRecorder.messages(testTopics.OrderDeadlinesDlq);
    try {
      const event = orderRequested({ reserveTime: new Date(), paymentTimeoutSeconds: 1 });
      const key = event.orderId;
      await h.producer.send(testTopics.OrderDeadlines, key, Buffer.from([0xff, 0xff, 0xff]));
      await sendOrderRequested(h.producer, event);
      await h.orders.waitForStatus(event.orderId, event.userId, OrderStatus.ORDER_STATUS_EXPIRED);
      const letter = await waitFor(async () => dlq.events.find((m: KafkaMessage) => m.key?.toString() === key), {
        what: 'the dead letter',
        timeoutMs: 30_000,
      });
      expect(letter.headers?.[DeadLetterHeaders.reason]?.toString()).toBe('UNDECODABLE');
      expect(letter.headers?.[DeadLetterHeaders.sourceTopic]?.toString()).toBe(testTopics.OrderDeadlines);
    } finally {
      await dlq.stop();
    }
  });
});
