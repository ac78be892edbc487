import { InMemoryOrderRepository } from '../testing/in-memory-order-repository';
import { ApplyPayment } from './apply-payment';

const request = {
  eventId: '1',
  orderId: '100',
  promotionId: '7',
  userId: 'alice',
  quantity: 1,
  amountCents: 500n,
  reservedAt: new Date('2030-01-01T00:00:00Z'),
  paymentTimeoutSeconds: 60,
};
const payment = { eventId: '2', orderId: '100', paymentId: '900', paidAt: new Date('2030-01-01T00:00:30Z') };

async function setup() {
  const orders = new InMemoryOrderRepository();
  await orders.createRequested([request]);
  return { orders, apply: new ApplyPayment(orders) };
}

describe('ApplyPayment', () => {
  it('when the order awaits payment, then it becomes PAID and OrderPaid is announced', async () => {
    const { orders, apply } = await setup();
    expect(await apply.execute(payment)).toBe('PAID');
    expect(orders.orders.get('100')).toMatchObject({ status: 'PAID', paymentId: '900' });
    expect(orders.outbox.at(-1)).toEqual({ orderId: '100', change: { kind: 'PAID', paymentId: '900' } });
  });

  it('when the same payment event arrives twice, then the second changes nothing', async () => {
    const { orders, apply } = await setup();
    await apply.execute(payment);
    const events = orders.outbox.length;
    expect(await apply.execute(payment)).toBe('ALREADY_APPLIED');
    expect(orders.outbox).toHaveLength(events);
  });

  it('when the order expired first, then the payment is refunded and the order records it', async () => {
    const { orders, apply } = await setup();
    await orders.transition({ orderId: '100', from: ['AWAITING_PAYMENT'], to: 'EXPIRED', change: { kind: 'EXPIRED' } });
    expect(await apply.execute(payment)).toBe('REFUND_REQUESTED');
    expect(orders.orders.get('100')).toMatchObject({ status: 'REFUNDED', paymentId: '900' });
    expect(orders.outbox.at(-1)).toEqual({ orderId: '100', change: { kind: 'REFUNDED', paymentId: '900' } });
  });

  it('when another payment already paid the order, then this one is refunded and the order stays PAID', async () => {
    const { orders, apply } = await setup();
    await apply.execute(payment);
    expect(await apply.execute({ ...payment, eventId: '3', paymentId: '901' })).toBe('REFUND_REQUESTED');
    expect(orders.orders.get('100')).toMatchObject({ status: 'PAID', paymentId: '900' });
  });

  it('when the order is unknown, then nothing happens and the caller hears so', async () => {
    const { apply } = await setup();
    expect(await apply.execute({ ...payment, orderId: '404' })).toBe('UNKNOWN_ORDER');
  });
});
