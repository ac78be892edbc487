/**
 * Payments left PENDING (the provider answered too late, or the process died before asking it) are settled from
 * the provider's records by the recovery loop: money the provider took is never lost, and nobody is charged
 * without a buyer asking.
 */
import { status } from '@grpc/grpc-js';
import { paymentV1 } from '@flash-sale/contracts';
import { callUnary, createClient } from '@flash-sale/grpc-kit';
import type { RunningService } from '@flash-sale/service-kit';
import { serviceEnv, waitFor } from '@flash-sale/testing';
import {
  address,
  as,
  database,
  failureOf,
  newId,
  OrderStatus,
  placeOrder,
  useOrderStack,
} from '../../order/test/support';
import { loadPaymentConfig } from '../src/config';
import { startPaymentService } from '../src/service';

const h = useOrderStack();
const paymentDb = database('payment');
let payment: RunningService;
let client: paymentV1.PaymentServiceClient;

beforeAll(async () => {
  payment = await startPaymentService(
    loadPaymentConfig(
      serviceEnv('payment', {
        ORDER_ADDR: h.stack.orderAddress,
        // The provider answers after 1.5 s, the service waits 0.3 s: every payment here times out first.
        PROVIDER_LATENCY_MS: '1500',
        PROVIDER_TIMEOUT_MS: '300',
        // Recovery waits 6 s: well after the 2 s deadline of the expiry case, which the order service's deadline
        // alarm keeps to within milliseconds, so there the order has expired before the charge is recovered.
        PAYMENT_RECOVERY_AFTER_MS: '6000',
        PAYMENT_RECOVERY_INTERVAL_MS: '200',
      }),
    ),
  );
  client = createClient(paymentV1.PaymentServiceClient, address(payment.port));
});

afterAll(async () => {
  client?.close();
  await payment?.stop();
  await paymentDb.end();
});

const pay = (orderId: string, userId: string, idempotencyKey = `key-${newId()}`) =>
  callUnary(client.pay, client, { orderId, idempotencyKey }, { timeoutMs: 5_000, metadata: as(userId) });

async function paymentRow(orderId: string) {
  const { rows } = await paymentDb.query<{ id: string; status: string; failure_reason: string | null }>(
    'SELECT id::text, status, failure_reason FROM payment.payments WHERE order_id = $1',
    [orderId],
  );
  return rows[0];
}

async function announced(paymentId: string) {
  const { rows } = await paymentDb.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM payment.outbox WHERE key = (SELECT order_id::text FROM payment.payments WHERE id = $1)`,
    [paymentId],
  );
  return rows[0]!.n;
}

const settled = (orderId: string, wanted: string) =>
  waitFor(
    async () => {
      const row = await paymentRow(orderId);
      return row?.status === wanted && row;
    },
    { what: `payment of order ${orderId} ${wanted}`, timeoutMs: 20_000 },
  );

describe('pending payment recovery', () => {
  it('when the provider answers after the buyer heard a timeout, then the charge is recorded and the order is PAID', async () => {
    const order = await placeOrder(h.producer, h.orders);

    const failure = await failureOf(pay(order.orderId, order.userId));
    expect(failure).toMatchObject({ code: status.UNAVAILABLE, info: { reason: 'PAYMENT_PROVIDER_TIMEOUT' } });
    expect((await paymentRow(order.orderId))?.status).toBe('PENDING');

    // The buyer never comes back; recovery finds the charge at the provider.
    const row = await settled(order.orderId, 'SUCCEEDED');
    await h.orders.waitForStatus(order.orderId, order.userId, OrderStatus.ORDER_STATUS_PAID);
    expect(await announced(row.id)).toBe(1);
  });

  it('when the order expired while the charge was unanswered, then the recovered charge is refunded', async () => {
    const order = await placeOrder(h.producer, h.orders, { paymentTimeoutSeconds: 2 });

    expect((await failureOf(pay(order.orderId, order.userId))).info?.reason).toBe('PAYMENT_PROVIDER_TIMEOUT');

    // The deadline comes first (PAID here would mean the recovered charge reached the order before its expiry).
    const settledOrder = await waitFor(
      async () => {
        const current = await h.orders.get(order.orderId, as(order.userId));
        return current.status !== OrderStatus.ORDER_STATUS_AWAITING_PAYMENT && current;
      },
      { what: 'the order to expire', timeoutMs: 20_000 },
    );
    expect([OrderStatus.ORDER_STATUS_EXPIRED, OrderStatus.ORDER_STATUS_REFUNDED]).toContain(settledOrder.status);
    await h.orders.waitForStatus(order.orderId, order.userId, OrderStatus.ORDER_STATUS_REFUNDED);
    const row = await settled(order.orderId, 'REFUNDED');
    // PaymentSucceeded, then PaymentRefunded: captured once, given back once.
    await waitFor(async () => (await announced(row.id)) === 2, { what: 'both payment events' });
  });

  it('when the process died before the provider was asked, then the payment fails without a charge and the buyer can pay again', async () => {
    const order = await placeOrder(h.producer, h.orders);
    const stranded = newId();
    await paymentDb.query(
      `INSERT INTO payment.payments (id, order_id, user_id, amount_cents, status, idempotency_key, created_at, attempted_at)
       VALUES ($1, $2, $3, $4, 'PENDING', 'lost-key', now() - interval '1 minute', now() - interval '1 minute')`,
      [stranded, order.orderId, order.userId, order.amountCents],
    );

    const row = await settled(order.orderId, 'FAILED');
    expect(row).toMatchObject({ id: stranded, failure_reason: expect.stringMatching(/never reached/) });
    expect(await h.orders.get(order.orderId, as(order.userId))).toMatchObject({
      status: OrderStatus.ORDER_STATUS_AWAITING_PAYMENT,
    });

    // A new attempt continues the same payment row; this time the buyer waits long enough (recovery settles it).
    expect((await failureOf(pay(order.orderId, order.userId))).info?.reason).toBe('PAYMENT_PROVIDER_TIMEOUT');
    await settled(order.orderId, 'SUCCEEDED');
    await h.orders.waitForStatus(order.orderId, order.userId, OrderStatus.ORDER_STATUS_PAID);
  });
});
