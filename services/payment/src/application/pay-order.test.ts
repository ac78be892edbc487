import { DomainError } from '@flash-sale/errors';
import type { PayableOrder } from '../domain/payment';
import { InMemoryPayments } from '../testing/in-memory-payments';
import { SimulatedProvider } from '../infrastructure/simulated-provider';
import { PayOrder } from './pay-order';

function setup(order: Partial<PayableOrder> = {}, failureRate = 0) {
  const payments = new InMemoryPayments();
  const provider = new SimulatedProvider({ latencyMs: 1, failureRate, random: () => 0.5 });
  const charge = jest.spyOn(provider, 'charge');
  let next = 1000;
  const current: PayableOrder = { id: '5', userId: 'alice', status: 'AWAITING_PAYMENT', amountCents: 1_234n, ...order };
  const orders = { find: async (id: string) => (id === current.id ? current : undefined) };
  const pay = new PayOrder(payments, orders, provider, { next: () => String(next++) });
  return { payments, pay, charge, current };
}

const command = { orderId: '5', userId: 'alice', idempotencyKey: 'k1' };

describe('PayOrder', () => {
  it('when the buyer pays an order awaiting payment, then it is charged the order amount once', async () => {
    const { pay, payments, charge } = setup();
    const payment = await pay.execute(command);
    expect(payment).toMatchObject({ status: 'SUCCEEDED', amountCents: 1_234n, orderId: '5' });
    expect(charge).toHaveBeenCalledTimes(1);
    expect(payments.events).toEqual([{ paymentId: payment.id, kind: 'SUCCEEDED' }]);
  });

  it('when the same key is sent again, then the same payment comes back and nothing is charged again', async () => {
    const { pay, charge } = setup();
    const first = await pay.execute(command);
    const again = await pay.execute(command);
    expect(again.id).toBe(first.id);
    expect(charge).toHaveBeenCalledTimes(1);
  });

  it('when two attempts with different keys race, then one payment exists and the other is refused', async () => {
    const { pay, payments } = setup();
    const results = await Promise.allSettled([pay.execute(command), pay.execute({ ...command, idempotencyKey: 'k2' })]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect((rejected.reason as DomainError).code).toBe('ORDER_NOT_PAYABLE');
    expect(payments.rows.size).toBe(1);
  });

  it('when a payment crashed after its PENDING row, then a retry with its key completes the same payment', async () => {
    const { pay, payments, charge } = setup();
    await payments.start({
      id: '77',
      orderId: '5',
      userId: 'alice',
      amountCents: 1_234n,
      status: 'PENDING',
      idempotencyKey: 'k1',
      createdAt: new Date(),
      attemptedAt: new Date(),
    });
    const payment = await pay.execute(command);
    expect(payment).toMatchObject({ id: '77', status: 'SUCCEEDED' });
    expect(charge).toHaveBeenCalledTimes(1);
  });

  it('when the provider does not answer in time, then PAYMENT_PROVIDER_TIMEOUT, the payment stays PENDING, and the same key completes it once', async () => {
    const payments = new InMemoryPayments();
    const provider = new SimulatedProvider({ latencyMs: 80, failureRate: 0 });
    const charge = jest.spyOn(provider, 'charge');
    const order: PayableOrder = { id: '5', userId: 'alice', status: 'AWAITING_PAYMENT', amountCents: 1_234n };
    const pay = new PayOrder(payments, { find: async () => order }, provider, { next: () => '900' }, undefined, 10);

    await expect(pay.execute(command)).rejects.toMatchObject({ kind: 'unavailable', code: 'PAYMENT_PROVIDER_TIMEOUT' });
    expect(payments.rows.get('900')?.status).toBe('PENDING');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await pay.execute(command)).toMatchObject({ id: '900', status: 'SUCCEEDED' });
    expect(new Set(charge.mock.calls.map(([request]) => request.paymentId))).toEqual(new Set(['900']));
    expect(payments.events).toEqual([{ paymentId: '900', kind: 'SUCCEEDED' }]);
  });

  it('when the order is not awaiting payment, then ORDER_NOT_PAYABLE and nothing is stored', async () => {
    const { pay, payments } = setup({ status: 'EXPIRED' });
    await expect(pay.execute(command)).rejects.toMatchObject({ code: 'ORDER_NOT_PAYABLE' });
    expect(payments.rows.size).toBe(0);
  });

  it('when the payment deadline has passed but the order is not expired yet, then ORDER_NOT_PAYABLE and no charge', async () => {
    const { pay, payments, charge } = setup({ expiresAt: new Date(Date.now() - 1) });
    await expect(pay.execute(command)).rejects.toMatchObject({ code: 'ORDER_NOT_PAYABLE' });
    expect(charge).not.toHaveBeenCalled();
    expect(payments.rows.size).toBe(0);
  });

  it('when somebody else pays my order, then it does not exist for them', async () => {
    const { pay } = setup();
    await expect(pay.execute({ ...command, userId: 'mallory' })).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
  });

  it('when the card is declined, then PAYMENT_DECLINED, and a new key may try again', async () => {
    const { pay, payments } = setup({}, 1);
    await expect(pay.execute(command)).rejects.toMatchObject({ code: 'PAYMENT_DECLINED' });
    expect([...payments.rows.values()][0]?.status).toBe('FAILED');
    await expect(pay.execute({ ...command, idempotencyKey: 'k2' })).rejects.toMatchObject({ code: 'PAYMENT_DECLINED' });
    expect(payments.rows.size).toBe(1);
  });

  it('when the key is malformed, then INVALID_IDEMPOTENCY_KEY', async () => {
    const { pay } = setup();
    await expect(pay.execute({ ...command, idempotencyKey: 'has space' })).rejects.toMatchObject({
      code: 'INVALID_IDEMPOTENCY_KEY',
    });
  });
});
