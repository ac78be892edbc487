/**
 * The deadline alarm: an order with a short payment timeout whose deadline message sits behind a much later one on
 * the same partition of order.deadlines (promotions with different timeouts) still expires on time. The periodic
 * sweep is set to a minute here, so neither it nor the blocked partition can be what expires the order.
 */
import { uniqueSuffix, testTopics } from '@flash-sale/testing';
import { idOnPartitionOf } from './kafka-support';
import {
  announcedKinds,
  newId,
  OrderStatus,
  orderRequested,
  placeOrder,
  sendOrderRequested,
  useOrderStack,
} from './support';

const SWEEP_INTERVAL_MS = 60_000;
const h = useOrderStack({
  ORDER_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
  KAFKA_GROUP_PREFIX: `test-deadline-alarm-${uniqueSuffix()}.`,
});

async function row(orderId: string) {
  const { rows } = await h.db.query<{ status: string; expires_at: Date; updated_at: Date }>(
    'SELECT status, expires_at, updated_at FROM orders.orders WHERE id = $1',
    [orderId],
  );
  return rows[0]!;
}

describe('the deadline alarm', () => {
  it('when a short deadline sits behind a long one on its partition, then its order still expires at its deadline', async () => {
    const long = await placeOrder(h.producer, h.orders, { paymentTimeoutSeconds: 900 });
    const short = orderRequested({
      orderId: await idOnPartitionOf(testTopics.OrderDeadlines, long.orderId, newId),
      reserveTime: new Date(),
      paymentTimeoutSeconds: 2,
    });
    await sendOrderRequested(h.producer, short);

    await h.orders.waitForStatus(short.orderId, short.userId, OrderStatus.ORDER_STATUS_EXPIRED);
    const expired = await row(short.orderId);
    const lateMs = expired.updated_at.getTime() - expired.expires_at.getTime();
    // Not before the deadline, and far sooner than the blocked partition (900 s) or the next sweep (60 s) allow.
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(SWEEP_INTERVAL_MS / 6);
    expect(await announcedKinds(h.db, short.orderId)).toEqual(['deadline', 'orderExpired']);
    expect((await row(long.orderId)).status).toBe('AWAITING_PAYMENT');
  });
});
