/**
 * A payment claims its order before it charges, so a slow or lost charge never costs the buyer the item: the order
 * waits, PAYING, for the outcome. Charges the buyer stopped waiting for finish in the background; attempts left
 * PENDING (the process died, the provider did not answer) are settled from the provider's records by recovery:
 * charged means PAID, never charged means the order is released.
 */
import { status } from '@grpc/grpc-js';
import { orderV1, paymentV1 } from '@flash-sale/contracts';
import { callUnary } from '@flash-sale/grpc-kit';
import type { RunningService } from '@flash-sale/service-kit';
import { meshClient, serviceEnv, waitFor } from '@flash-sale/testing';
import {
  address,
  announcedKinds,
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
import { startProviderSimulator, type ProviderSimulator } from '../src/simulator/provider-simulator';

const h = useOrderStack();
const paymentDb = database('payment');
let simulator: ProviderSimulator;
let payment: RunningService;
let client: paymentV1.PaymentServiceClient;
let orderClient: orderV1.OrderServiceClient;

beforeAll(async () => {
  // The provider lives outside the payment service, as a real one does: it keeps what it charged.
  simulator = await startProviderSimulator({ port: 0, latencyMs: 1_500, failureRate: 0 });
  payment = await startPaymentService(
    loadPaymentConfig(
      serviceEnv('payment', {
        ORDER_ADDR: h.stack.orderAddress,
        PAYMENT_PROVIDER_URL: simulator.url,
        // The provider answers after 1.5 s, Pay waits 0.3 s: every buyer here hears PAYING first.
        PROVIDER_TIMEOUT_MS: '300',
        PAYMENT_RECOVERY_AFTER_MS: '6000',
        PAYMENT_RECOVERY_INTERVAL_MS: '200',
      }),
    ),
  );
  client = meshClient(paymentV1.PaymentServiceClient, address(payment.port));
  orderClient = meshClient(orderV1.OrderServiceClient, h.stack.orderAddress);
});

afterAll(async () => {
  client?.close();
  orderClient?.close();
  await payment?.stop();
  await simulator?.stop();
  await paymentDb.end();
});

beforeEach(() => simulator.provider.configure({ latencyMs: 1_500, failureRate: 0 }));

const pay = (orderId: string, userId: string, idempotencyKey = `key-${newId()}`) =>
  callUnary(client.pay, client, { orderId, idempotencyKey }, { timeoutMs: 5_000, metadata: as(userId) });

async function paymentRows(orderId: string) {
  const { rows } = await paymentDb.query<{ id: string; status: string; failure_code: string | null }>(
    'SELECT id::text, status, failure_code FROM payment.payments WHERE order_id = $1 ORDER BY id',
    [orderId],
  );
  return rows;
}

const settled = (orderId: string, wanted: string) =>
  waitFor(
    async () => {
      const row = (await paymentRows(orderId)).at(-1);
      return row?.status === wanted && row;
    },
    { what: `payment of order ${orderId} ${wanted}`, timeoutMs: 20_000 },
  );

/**
 * What a payment process killed after its claim leaves behind: a PENDING attempt that holds the order. It is written
 * fresh (recovery leaves it alone for PAYMENT_RECOVERY_AFTER_MS) and aged only once the order is claimed, so recovery
 * never races the claim or the assertions made while the attempt still holds the order.
 */
async function strandedAttempt(order: { orderId: string; userId: string; amountCents: string }) {
  const id = newId();
  await paymentDb.query(
    `INSERT INTO payment.payments (id, order_id, user_id, amount_cents, status, idempotency_key, created_at, attempted_at)
     VALUES ($1, $2, $3, $4, 'PENDING', $5, now(), now())`,
    [id, order.orderId, order.userId, order.amountCents, `lost-${id}`],
  );
  const { order: claimed } = await callUnary(
    orderClient.claimPayment,
    orderClient,
    { orderId: order.orderId, paymentId: id, userId: order.userId },
    { timeoutMs: 5_000 },
  );
  expect(claimed).toMatchObject({ status: OrderStatus.ORDER_STATUS_PAYING, paymentId: id });
  return id;
}

/** Makes a stranded attempt old enough for recovery's next pass. */
async function abandon(paymentId: string) {
  await paymentDb.query(`UPDATE payment.payments SET attempted_at = now() - interval '1 minute' WHERE id = $1`, [
    paymentId,
  ]);
}

describe('payments that outlast their request', () => {
  it('when the charge outlasts the wait, then the buyer hears PAYING and the order becomes PAID when the provider answers', async () => {
    const order = await placeOrder(h.producer, h.orders);

    const reply = await pay(order.orderId, order.userId);
    expect(reply).toMatchObject({
      orderStatus: orderV1.OrderStatus.ORDER_STATUS_PAYING,
      payment: { status: paymentV1.PaymentStatus.PAYMENT_STATUS_PENDING },
    });
    expect((await h.orders.get(order.orderId, as(order.userId))).status).toBe(OrderStatus.ORDER_STATUS_PAYING);

    // No recovery needed: the charge finishes in the background (well before the 6 s recovery age).
    await h.orders.waitForStatus(order.orderId, order.userId, OrderStatus.ORDER_STATUS_PAID);
    expect(await paymentRows(order.orderId)).toMatchObject([{ id: reply.payment!.paymentId, status: 'SUCCEEDED' }]);
  });

  it("when the deadline passes while the charge runs, then the order stays the buyer's and ends PAID, with no refund", async () => {
    const order = await placeOrder(h.producer, h.orders, { paymentTimeoutSeconds: 1 });
    simulator.provider.configure({ latencyMs: 2_500 });

    expect((await pay(order.orderId, order.userId)).orderStatus).toBe(orderV1.OrderStatus.ORDER_STATUS_PAYING);
    // The deadline (1 s) passes, and the sweep and the deadline alarm run, while the order is PAYING.
    const current = await h.orders.get(order.orderId, as(order.userId));
    await waitFor(async () => Date.now() > current.expireTime!.getTime() + 500, { what: 'the deadline to pass' });
    expect((await h.orders.get(order.orderId, as(order.userId))).status).toBe(OrderStatus.ORDER_STATUS_PAYING);

    await h.orders.waitForStatus(order.orderId, order.userId, OrderStatus.ORDER_STATUS_PAID);
    expect(await announcedKinds(h.db, order.orderId)).toEqual(['deadline', 'orderPaid']);
  });

  it('when a payment process died mid-charge and the provider took the money, then recovery makes the order PAID', async () => {
    const order = await placeOrder(h.producer, h.orders);
    const id = await strandedAttempt(order);
    simulator.provider.configure({ latencyMs: 0 });
    await simulator.provider.charge({ paymentId: id });
    await abandon(id);

    await settled(order.orderId, 'SUCCEEDED');
    await h.orders.waitForStatus(order.orderId, order.userId, OrderStatus.ORDER_STATUS_PAID);
    expect(await announcedKinds(h.db, order.orderId)).toEqual(['deadline', 'orderPaid']);
  });

  it('when a payment process died before the provider was asked, then recovery fails it uncharged, the order is released, and a new key pays', async () => {
    const order = await placeOrder(h.producer, h.orders);
    const stranded = await strandedAttempt(order);
    // While it holds the order, another key is told the order is being paid, and the buyer cannot cancel.
    expect((await failureOf(pay(order.orderId, order.userId))).info?.reason).toBe('ORDER_BEING_PAID');
    expect((await failureOf(h.orders.cancel(order.orderId, as(order.userId)))).info?.reason).toBe('ORDER_BEING_PAID');

    await abandon(stranded);
    const row = await settled(order.orderId, 'FAILED');
    expect(row).toMatchObject({ id: stranded, failure_code: 'PAYMENT_ABANDONED' });
    expect(await simulator.provider.lookup(stranded)).toBeUndefined();
    await h.orders.waitForStatus(order.orderId, order.userId, OrderStatus.ORDER_STATUS_AWAITING_PAYMENT);

    simulator.provider.configure({ latencyMs: 0 });
    const again = await pay(order.orderId, order.userId);
    expect(again.orderStatus).toBe(orderV1.OrderStatus.ORDER_STATUS_PAID);
    expect(await paymentRows(order.orderId)).toMatchObject([
      { id: stranded, status: 'FAILED' },
      { id: again.payment!.paymentId, status: 'SUCCEEDED' },
    ]);
  });

  it('when the stranded attempt is recovered after the deadline, then the order expires once and its stock is released', async () => {
    const order = await placeOrder(h.producer, h.orders, { paymentTimeoutSeconds: 2 });
    const stranded = await strandedAttempt(order);
    const { expireTime } = await h.orders.get(order.orderId, as(order.userId));
    await waitFor(async () => Date.now() > expireTime!.getTime(), { what: 'the deadline to pass' });
    expect((await h.orders.get(order.orderId, as(order.userId))).status).toBe(OrderStatus.ORDER_STATUS_PAYING);
    await abandon(stranded);

    await settled(order.orderId, 'FAILED');
    await h.orders.waitForStatus(order.orderId, order.userId, OrderStatus.ORDER_STATUS_EXPIRED);
    expect(await announcedKinds(h.db, order.orderId)).toEqual(['deadline', 'orderExpired']);
  });

  it('when the order refuses the claim, then nothing is charged and the same key hears the same refusal', async () => {
    const order = await placeOrder(h.producer, h.orders);
    await h.orders.cancel(order.orderId, as(order.userId));
    const key = `key-${newId()}`;

    const refusal = await failureOf(pay(order.orderId, order.userId, key));
    expect(refusal).toMatchObject({ code: status.FAILED_PRECONDITION, info: { reason: 'ORDER_NOT_PAYABLE' } });
    expect((await failureOf(pay(order.orderId, order.userId, key))).info?.reason).toBe('ORDER_NOT_PAYABLE');
    expect(await paymentRows(order.orderId)).toEqual([]);
  });
});
