import { InMemoryOrderRepository } from '../testing/in-memory-order-repository';
import { CancelOrder } from './cancel-order';
import { ClaimPayment } from './claim-payment';
import { ExpireOrders } from './expire-orders';
import { SettlePayment } from './settle-payment';

const reservedAt = new Date('2030-01-01T00:00:00Z');
const deadline = new Date('2030-01-01T00:01:00Z');
const request = {
  eventId: '1',
  orderId: '100',
  promotionId: '7',
  userId: 'alice',
  quantity: 1,
  amountCents: 500n,
  reservedAt,
  paymentTimeoutSeconds: 60,
};
const alice = { userId: 'alice', isAdmin: false };

async function setup(seconds = 30) {
  const orders = new InMemoryOrderRepository();
  await orders.createRequested([request]);
  let now = new Date(reservedAt.getTime() + seconds * 1000);
  const clock = () => now;
  const expected: Date[] = [];
  const refunds: string[] = [];
  return {
    orders,
    setTime: (at: Date) => (now = at),
    claim: new ClaimPayment(orders, clock),
    settle: new SettlePayment(orders, clock, { expect: (at) => expected.push(at) }, (_o, _p, reason) =>
      refunds.push(reason),
    ),
    expire: new ExpireOrders(orders, clock),
    cancel: new CancelOrder(orders),
    expected,
    refunds,
  };
}

const succeeded = (paidAt: Date) => ({ succeeded: true as const, paidAt });

describe('payment claims', () => {
  it('when a payment claims an order in time, then it is PAYING with that payment and nothing is announced', async () => {
    const { orders, claim } = await setup();
    expect(await claim.execute('100', '900', 'alice')).toMatchObject({ status: 'PAYING', paymentId: '900' });
    expect(orders.outbox).toEqual([]);
    expect(await claim.execute('100', '900', 'alice')).toMatchObject({ status: 'PAYING', paymentId: '900' });
  });

  it('when the order is PAYING, then expiry, the sweep and cancel leave it alone, and another payment is refused', async () => {
    const { orders, claim, expire, cancel, setTime } = await setup();
    await claim.execute('100', '900', 'alice');
    setTime(new Date(deadline.getTime() + 60_000));

    expect(await expire.expire('100')).toBe('SETTLED');
    expect(await expire.sweep(10)).toBe(0);
    await expect(cancel.execute('100', alice)).rejects.toMatchObject({ code: 'ORDER_BEING_PAID' });
    await expect(claim.execute('100', '901', 'alice')).rejects.toMatchObject({ code: 'ORDER_BEING_PAID' });
    expect(orders.orders.get('100')).toMatchObject({ status: 'PAYING', paymentId: '900' });
  });

  it('when the charge of a payment claimed in time succeeds after the deadline, then the order is PAID', async () => {
    const { orders, claim, settle, setTime } = await setup(59);
    await claim.execute('100', '900', 'alice');
    setTime(new Date(deadline.getTime() + 30_000));

    const paidAt = new Date(deadline.getTime() + 29_000);
    expect(await settle.execute({ orderId: '100', paymentId: '900', result: succeeded(paidAt) })).toMatchObject({
      settlement: 'PAY',
      order: { status: 'PAID', paymentId: '900', paidAt },
    });
    expect(orders.outbox).toEqual([{ orderId: '100', change: { kind: 'PAID', paymentId: '900' } }]);
    // The same outcome again (the event after the direct call) changes nothing.
    expect(
      await settle.execute({ orderId: '100', paymentId: '900', result: succeeded(paidAt), eventId: '5' }),
    ).toMatchObject({
      settlement: 'NONE',
    });
    expect(orders.outbox).toHaveLength(1);
  });

  it('when the charge fails with time left, then the order awaits payment again and the deadline alarm is set', async () => {
    const { orders, claim, settle, expected } = await setup();
    await claim.execute('100', '900', 'alice');
    expect(await settle.execute({ orderId: '100', paymentId: '900', result: { succeeded: false } })).toMatchObject({
      settlement: 'RELEASE',
    });
    const released = orders.orders.get('100')!;
    expect(released.status).toBe('AWAITING_PAYMENT');
    expect(released.paymentId).toBeUndefined();
    expect(released.paymentClaimedAt).toBeUndefined();
    expect(expected).toEqual([deadline]);
    expect(orders.outbox).toEqual([]);
    // A new attempt may claim it.
    expect(await claim.execute('100', '901', 'alice')).toMatchObject({ status: 'PAYING', paymentId: '901' });
  });

  it('when the charge fails after the deadline, then the order expires once and its stock is released', async () => {
    const { orders, claim, settle, setTime } = await setup();
    await claim.execute('100', '900', 'alice');
    setTime(deadline);
    await settle.execute({ orderId: '100', paymentId: '900', result: { succeeded: false } });
    await settle.execute({ orderId: '100', paymentId: '900', result: { succeeded: false }, eventId: '6' });
    expect(orders.orders.get('100')?.status).toBe('EXPIRED');
    expect(orders.outbox).toEqual([{ orderId: '100', change: { kind: 'EXPIRED' } }]);
  });

  it('when an old failed payment arrives after a new payment claimed the order, then the new claim holds', async () => {
    const { orders, claim, settle } = await setup();
    await claim.execute('100', '900', 'alice');
    await settle.execute({ orderId: '100', paymentId: '900', result: { succeeded: false } });
    await claim.execute('100', '901', 'alice');
    await settle.execute({ orderId: '100', paymentId: '900', result: { succeeded: false }, eventId: '7' });
    expect(orders.orders.get('100')).toMatchObject({ status: 'PAYING', paymentId: '901' });
  });

  it('when expiry commits between the claim read and its update, then the claim is refused', async () => {
    const { orders, claim } = await setup();
    orders.beforeTransition = (transition) => {
      if (transition.to !== 'PAYING') return;
      orders.orders.set('100', { ...orders.orders.get('100')!, status: 'EXPIRED' });
    };
    await expect(claim.execute('100', '900', 'alice')).rejects.toMatchObject({ code: 'ORDER_NOT_PAYABLE' });
  });

  it('when a claim commits between cancel read and its update, then cancel says the order is being paid', async () => {
    const { orders, cancel } = await setup();
    orders.beforeTransition = (transition) => {
      if (transition.to !== 'CANCELLED') return;
      orders.orders.set('100', { ...orders.orders.get('100')!, status: 'PAYING', paymentId: '900' });
    };
    await expect(cancel.execute('100', alice)).rejects.toMatchObject({ code: 'ORDER_BEING_PAID' });
  });

  it('when a captured payment meets a cancelled order, then the order is REFUNDED and the refund has its reason', async () => {
    const { orders, cancel, settle, refunds } = await setup();
    await cancel.execute('100', alice);
    expect(
      await settle.execute({ orderId: '100', paymentId: '900', result: succeeded(reservedAt), eventId: '8' }),
    ).toMatchObject({ settlement: 'REFUND', order: { status: 'REFUNDED', paymentId: '900' } });
    expect(orders.outbox.at(-1)).toEqual({
      orderId: '100',
      change: { kind: 'REFUNDED', paymentId: '900', reason: 'order CANCELLED before the payment was applied' },
    });
    expect(refunds).toEqual(['order CANCELLED before the payment was applied']);
  });

  it('when somebody else settles my order directly, then it does not exist for them', async () => {
    const { claim, settle } = await setup();
    await claim.execute('100', '900', 'alice');
    await expect(
      settle.execute({ orderId: '100', paymentId: '900', userId: 'mallory', result: succeeded(reservedAt) }),
    ).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
  });
});
