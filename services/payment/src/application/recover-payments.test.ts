import type { Payment } from '../domain/payment';
import { SimulatedProvider } from '../infrastructure/simulated-provider';
import { createLogger } from '@flash-sale/logging';
import { FakeOrders } from '../testing/fake-orders';
import { InMemoryPayments } from '../testing/in-memory-payments';
import { RecoverPendingPayments } from './recover-payments';
import { SettleAttempt } from './settle-attempt';

const now = new Date('2026-11-30T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000);

function pending(id: string, attemptedAt: Date): Payment {
  return {
    id,
    orderId: id === '1' || id === '2' ? '5' : `9${id}`,
    userId: 'alice',
    amountCents: 500n,
    status: 'PENDING',
    idempotencyKey: `k${id}`,
    createdAt: attemptedAt,
    attemptedAt,
  };
}

async function setup(...rows: Payment[]) {
  const payments = new InMemoryPayments();
  for (const row of rows) await payments.start(row);
  const provider = new SimulatedProvider({ latencyMs: 1, failureRate: 0 });
  const charge = jest.spyOn(provider, 'charge');
  const logger = createLogger({ service: 'payment', level: 'silent' });
  // Order 5 was claimed by payment 1 or 2 (whichever the test strands), and waits for its outcome.
  const orders = new FakeOrders({ status: 'PAYING', paymentId: rows[0]?.id });
  const settle = new SettleAttempt(payments, orders, logger, () => now);
  const recover = new RecoverPendingPayments(payments, provider, settle, logger, 60_000, () => now);
  return { payments, provider, charge, recover, orders };
}

describe('RecoverPendingPayments', () => {
  it('when the provider charged a payment its process never recorded, then it becomes SUCCEEDED and is announced', async () => {
    const { payments, provider, charge, recover, orders } = await setup(pending('1', minutesAgo(5)));
    await provider.charge({ paymentId: '1' });

    expect(await recover.run(10)).toBe(1);
    expect(payments.rows.get('1')).toMatchObject({ status: 'SUCCEEDED', providerReference: expect.any(String) });
    expect(payments.events).toEqual([{ paymentId: '1', kind: 'SUCCEEDED' }]);
    expect(charge).toHaveBeenCalledTimes(1);
    expect(orders.order.status).toBe('PAID');
  });

  it('when the charge never reached the provider, then it becomes FAILED and nobody is charged anew', async () => {
    const { payments, charge, recover, orders } = await setup(pending('2', minutesAgo(5)));

    expect(await recover.run(10)).toBe(1);
    expect(payments.rows.get('2')).toMatchObject({
      status: 'FAILED',
      failureCode: 'PAYMENT_ABANDONED',
      failureReason: expect.stringMatching(/never/),
    });
    expect(charge).not.toHaveBeenCalled();
    // The order it claimed is released: the buyer may pay again.
    expect(orders.order.status).toBe('AWAITING_PAYMENT');
  });

  it('when the provider is still working on the charge, then the payment stays PENDING and its order PAYING', async () => {
    const { payments, provider, recover, orders } = await setup(pending('1', minutesAgo(5)));
    provider.configure({ latencyMs: 300 });
    void provider.charge({ paymentId: '1' });

    expect(await recover.run(10)).toBe(0);
    expect(payments.rows.get('1')?.status).toBe('PENDING');
    expect(orders.order.status).toBe('PAYING');
  });

  it('when an attempt is recent, then it is still in flight and left alone', async () => {
    const { payments, recover } = await setup(pending('3', minutesAgo(0.5)));

    expect(await recover.run(10)).toBe(0);
    expect(payments.rows.get('3')?.status).toBe('PENDING');
  });

  it('when there are more stale payments than the batch, then the oldest go first and a second pass takes the rest', async () => {
    const { payments, recover } = await setup(pending('4', minutesAgo(3)), pending('5', minutesAgo(9)));

    expect(await recover.run(1)).toBe(1);
    expect(payments.rows.get('5')?.status).toBe('FAILED');
    expect(payments.rows.get('4')?.status).toBe('PENDING');
    expect(await recover.run(1)).toBe(1);
    expect(payments.rows.get('4')?.status).toBe('FAILED');
  });
});
