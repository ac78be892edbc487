import { InMemoryOrderRepository } from '../testing/in-memory-order-repository';
import { ExpireOrders } from './expire-orders';
import { RecordOrderRequests } from './record-order-requests';

const reservedAt = new Date('2030-01-01T00:00:00Z');
const request = (orderId: string, paymentTimeoutSeconds: number) => ({
  eventId: `1${orderId}`,
  orderId,
  promotionId: '7',
  userId: 'alice',
  quantity: 1,
  amountCents: 500n,
  reservedAt,
  paymentTimeoutSeconds,
});
const at = (seconds: number) => () => new Date(reservedAt.getTime() + seconds * 1000);

async function setup(now: number) {
  const orders = new InMemoryOrderRepository();
  await orders.createRequested([request('100', 60), request('101', 30), request('102', 120)]);
  return { orders, expire: new ExpireOrders(orders, at(now)) };
}

describe('ExpireOrders', () => {
  it('when the deadline has passed, then the order expires once and OrderExpired is announced once', async () => {
    const { orders, expire } = await setup(60);
    expect(await expire.expire('100')).toBe('EXPIRED');
    expect(await expire.expire('100')).toBe('SETTLED');
    expect(orders.orders.get('100')?.status).toBe('EXPIRED');
    expect(orders.outbox.filter((e) => e.orderId === '100' && e.change.kind === 'EXPIRED')).toHaveLength(1);
  });

  it('when the deadline is still ahead, then nothing changes', async () => {
    const { orders, expire } = await setup(59);
    expect(await expire.expire('100')).toBe('NOT_DUE');
    expect(orders.orders.get('100')?.status).toBe('AWAITING_PAYMENT');
  });

  it('when the order was paid first, then expiry leaves it PAID', async () => {
    const { orders, expire } = await setup(600);
    await orders.transition({
      orderId: '100',
      from: ['AWAITING_PAYMENT'],
      to: 'PAID',
      change: { kind: 'PAID', paymentId: '9' },
    });
    expect(await expire.expire('100')).toBe('SETTLED');
    expect(orders.orders.get('100')?.status).toBe('PAID');
  });

  it('when the order is unknown, then the caller hears so', async () => {
    const { expire } = await setup(600);
    expect(await expire.expire('404')).toBe('UNKNOWN_ORDER');
  });

  it('when the sweep runs, then exactly the overdue orders expire, oldest deadline first, in batches', async () => {
    const { orders, expire } = await setup(90);
    expect(await expire.sweep(1)).toBe(1);
    expect(orders.orders.get('101')?.status).toBe('EXPIRED');
    expect(await expire.sweep(10)).toBe(1);
    expect(await expire.sweep(10)).toBe(0);
    expect(orders.orders.get('100')?.status).toBe('EXPIRED');
    expect(orders.orders.get('102')?.status).toBe('AWAITING_PAYMENT');
  });

  it('when the sweep has caught up, then the alarm is set for the next deadline still ahead, not for a batch left over', async () => {
    const { orders } = await setup(90);
    const alarmed: Date[] = [];
    const expire = new ExpireOrders(orders, at(90), { expect: (time) => alarmed.push(time) });
    expect(await expire.sweep(1)).toBe(1);
    expect(alarmed).toEqual([]);
    expect(await expire.sweep(10)).toBe(1);
    expect(alarmed).toEqual([at(120)()]);
    await expire.sweep(10);
    expect(alarmed).toEqual([at(120)(), at(120)()]);
  });

  it('when orders are recorded, then the alarm hears each new deadline, and a replay tells it nothing', async () => {
    const orders = new InMemoryOrderRepository();
    const alarmed: Date[] = [];
    const record = new RecordOrderRequests(orders, { expect: (time) => alarmed.push(time) });
    await record.execute([request('200', 900), request('201', 2)]);
    expect(alarmed.sort((a, b) => a.getTime() - b.getTime())).toEqual([at(2)(), at(900)()]);
    await record.execute([request('201', 2)]);
    expect(alarmed).toHaveLength(2);
  });
});
