import type { orderEventsV1 } from '@flash-sale/contracts';
import { Topics } from '@flash-sale/kafka-kit';
import { announcedKinds, as, OrderStatus, orderRequested, sendOrderRequested, useOrderStack } from './support';

const h = useOrderStack();

const createdFor = (orderId: string) => (event: orderEventsV1.OrderEvent) =>
  event.orderId === orderId && event.kind?.$case === 'orderCreated';

describe('order service: reservations become orders', () => {
  it('when OrderRequested arrives, then the order awaits payment until reserve time plus the timeout and OrderCreated is announced', async () => {
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

    const created = await h.orderEvents.next(createdFor(event.orderId), 'OrderCreated');
    expect(created).toMatchObject({ userId: event.userId, quantity: 2, amountCents: '5000' });
    expect(created.kind).toEqual({ $case: 'orderCreated', value: { expireTime: expiresAt } });
  });

  it('when 50 copies of one OrderRequested arrive at once, then there is exactly one order and one OrderCreated', async () => {
    const event = orderRequested();
    const sent = await Promise.all(Array.from({ length: 50 }, () => sendOrderRequested(h.producer, event)));
    const partition = sent[0]!.partition;
    expect(sent.every((copy) => copy.partition === partition)).toBe(true);
    // A later order on the same partition: once it exists, every copy before it has been consumed.
    const after = orderRequested();
    await sendOrderRequested(h.producer, after, partition);
    await h.orders.waitForStatus(after.orderId, after.userId, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT);

    const { rows } = await h.db.query('SELECT count(*)::int AS n FROM orders.orders WHERE id = $1', [event.orderId]);
    expect(rows[0].n).toBe(1);
    expect(await announcedKinds(h.db, event.orderId)).toEqual(['orderCreated']);
    await h.orderEvents.next(createdFor(after.orderId), 'OrderCreated of the later order');
    await h.orderEvents.next(createdFor(event.orderId), 'OrderCreated');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(h.orderEvents.where(createdFor(event.orderId))).toHaveLength(1);
  });

  it('when a message on order.requested cannot be decoded, then it is skipped and the next one is processed', async () => {
    const event = orderRequested();
    // The same key puts both on one partition, the garbage first.
    await h.producer.send(Topics.OrderRequested, event.orderId, Buffer.from([0x0f, 0xff, 0x00]));
    await sendOrderRequested(h.producer, event);

    const order = await h.orders.waitForStatus(event.orderId, event.userId, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT);
    expect(order.orderId).toBe(event.orderId);
  });

  it('when nobody knows an order id, then GetOrder answers NOT_FOUND', async () => {
    const event = orderRequested();
    await expect(h.orders.get(event.orderId, as(event.userId))).rejects.toMatchObject({ code: 5 });
  });
});
