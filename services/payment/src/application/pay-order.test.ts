import { createLogger } from '@flash-sale/logging';
import type { PayableOrder } from '../domain/payment';
import { SimulatedProvider } from '../infrastructure/simulated-provider';
import { FakeOrders } from '../testing/fake-orders';
import { InMemoryPayments } from '../testing/in-memory-payments';
import { PayOrder } from './pay-order';
import { SettleAttempt } from './settle-attempt';

function setup(order: Partial<PayableOrder> = {}, provider = { latencyMs: 1, failureRate: 0 }, waitMs = 1_000) {
  const payments = new InMemoryPayments();
  const simulated = new SimulatedProvider({ ...provider, random: () => 0.5 });
  const charge = jest.spyOn(simulated, 'charge');
  const orders = new FakeOrders({ expiresAt: new Date(Date.now() + 60_000), ...order });
  const logger = createLogger({ service: 'payment', level: 'silent' });
  let next = 1000;
  const ids = { next: () => String(next++) };
  const settle = new SettleAttempt(payments, orders, logger);
  const pay = new PayOrder(payments, orders, simulated, settle, ids, logger, undefined, waitMs);
  return { payments, pay, charge, orders, provider: simulated };
}

const command = { orderId: '5', userId: 'alice', idempotencyKey: 'k1' };

describe('PayOrder', () => {
  it('when the buyer pays in time, then the order is claimed, charged once and PAID before the answer', async () => {
    const { pay, payments, charge, orders } = setup();
    const { payment, orderStatus } = await pay.execute(command);
    expect(orderStatus).toBe('PAID');
    expect(payment).toMatchObject({ status: 'SUCCEEDED', amountCents: 1_234n, orderId: '5' });
    expect(orders.calls).toEqual([`claim ${payment.id}`, `settle ${payment.id} succeeded`]);
    expect(charge).toHaveBeenCalledTimes(1);
    expect(payments.events).toEqual([{ paymentId: payment.id, kind: 'SUCCEEDED' }]);
  });

  it('when the same key is sent again, then the same payment comes back and nothing is charged again', async () => {
    const { pay, charge } = setup();
    const first = await pay.execute(command);
    const again = await pay.execute(command);
    expect(again).toEqual({ payment: first.payment, orderStatus: 'PAID' });
    expect(charge).toHaveBeenCalledTimes(1);
  });

  it('when two attempts with different keys race, then one is charged and the other is told the order is being paid', async () => {
    const { pay, payments, charge } = setup();
    const results = await Promise.allSettled([pay.execute(command), pay.execute({ ...command, idempotencyKey: 'k2' })]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'ORDER_BEING_PAID' });
    expect(payments.rows.size).toBe(1);
    expect(charge).toHaveBeenCalledTimes(1);
    await expect(pay.execute({ ...command, idempotencyKey: 'k3' })).rejects.toMatchObject({
      code: 'ORDER_NOT_PAYABLE',
    });
  });

  it('when the charge outlasts the wait, then the buyer hears PAYING, and the order becomes PAID when the provider answers', async () => {
    const { pay, payments, orders } = setup({}, { latencyMs: 80, failureRate: 0 }, 10);
    const first = await pay.execute(command);
    expect(first.orderStatus).toBe('PAYING');
    expect(first.payment.status).toBe('PENDING');
    expect(orders.order.status).toBe('PAYING');

    await pay.drain(1_000);
    expect(orders.order.status).toBe('PAID');
    expect(payments.rows.get(first.payment.id)?.status).toBe('SUCCEEDED');
    expect(await pay.execute(command)).toMatchObject({ orderStatus: 'PAID', payment: { id: first.payment.id } });
  });

  it('when the order service cannot be told after the charge, then the answer is PAYING, not PAID', async () => {
    const { pay, orders } = setup();
    orders.failNext = 'settle';
    expect(await pay.execute(command)).toMatchObject({ orderStatus: 'PAYING', payment: { status: 'SUCCEEDED' } });
    expect(orders.order.status).toBe('PAYING');
  });

  it('when the card is declined, then PAYMENT_DECLINED, the order is released, and a new key is a new attempt', async () => {
    const { pay, payments, orders, charge } = setup({}, { latencyMs: 1, failureRate: 1 });
    await expect(pay.execute(command)).rejects.toMatchObject({ code: 'PAYMENT_DECLINED' });
    expect(orders.order.status).toBe('AWAITING_PAYMENT');
    await expect(pay.execute(command)).rejects.toMatchObject({ code: 'PAYMENT_DECLINED' });
    await expect(pay.execute({ ...command, idempotencyKey: 'k2' })).rejects.toMatchObject({ code: 'PAYMENT_DECLINED' });
    expect(new Set(charge.mock.calls.map(([request]) => request.paymentId)).size).toBe(2);
    expect(payments.rows.size).toBe(2);
  });

  it('when the claim is refused, then nothing is charged, and the same key hears the same refusal', async () => {
    const { pay, payments, orders, charge } = setup();
    orders.order = { ...orders.order, status: 'PAYING', paymentId: 'someone-else' };
    orders.find = async () => ({ ...orders.order, status: 'AWAITING_PAYMENT' });
    await expect(pay.execute(command)).rejects.toMatchObject({ code: 'ORDER_BEING_PAID' });
    await expect(pay.execute(command)).rejects.toMatchObject({ code: 'ORDER_BEING_PAID' });
    expect(charge).not.toHaveBeenCalled();
    expect([...payments.rows.values()]).toMatchObject([{ status: 'FAILED', failureCode: 'ORDER_BEING_PAID' }]);
  });

  it('when the order service does not answer the claim, then the attempt stays PENDING, uncharged, and the same key continues it', async () => {
    const { pay, payments, orders, charge } = setup();
    orders.failNext = 'claim';
    await expect(pay.execute(command)).rejects.toThrow(/UNAVAILABLE/);
    expect([...payments.rows.values()]).toMatchObject([{ status: 'PENDING' }]);
    expect(charge).not.toHaveBeenCalled();
    expect(await pay.execute(command)).toMatchObject({ orderStatus: 'PAID' });
    expect(payments.rows.size).toBe(1);
  });

  it('when the payment deadline has passed, then ORDER_NOT_PAYABLE and nothing is written or charged', async () => {
    const { pay, payments, charge } = setup({ expiresAt: new Date(Date.now() - 1) });
    await expect(pay.execute(command)).rejects.toMatchObject({ code: 'ORDER_NOT_PAYABLE' });
    expect(charge).not.toHaveBeenCalled();
    expect(payments.rows.size).toBe(0);
  });

  it('when somebody else pays my order, or reuses my key, then it does not exist for them', async () => {
    const { pay } = setup();
    await expect(pay.execute({ ...command, userId: 'mallory' })).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
    await pay.execute(command);
    await expect(pay.execute({ ...command, userId: 'mallory' })).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
  });

  it('when the key is malformed, then INVALID_IDEMPOTENCY_KEY', async () => {
    const { pay } = setup();
    await expect(pay.execute({ ...command, idempotencyKey: 'has space' })).rejects.toMatchObject({
      code: 'INVALID_IDEMPOTENCY_KEY',
    });
  });
});
