/**
 * The payment race, over HTTP through the gateway. Buyers pay at set offsets around their order's deadline, and race
 * pay against cancel against a second pay, with the provider fast, slow (its answer near the time Pay waits) and
 * declining every card; and a payment process is killed mid-charge. The provider is the provider simulator, a process
 * of its own as a real provider is, so a charge outlives the payment process that asked for it.
 *
 * After each round, once everything has settled:
 *   - every buyer told PAID (200), or PAYING (202) for a charge that went through, has a PAID order, with that payment;
 *   - a buyer who paid in time (sent well before the deadline) was never refused, and one who paid late was refused
 *     before any charge;
 *   - no order was charged by two payments, and no payment was refunded (nothing here explains a refund);
 *   - each order is in exactly one final state, and its ledger entry agrees;
 *   - the sale's sold units are the PAID orders, and available = total - paid.
 */
import { Pool } from 'pg';
import { infra, serviceEnv, startServiceProcess, waitFor, type ServiceProcess } from '@flash-sale/testing';
import { loadGatewayConfig } from '../gateway/src/config';
import { startGateway } from '../gateway/src/main';
import { startProviderSimulator, type ProviderSimulator } from '../services/payment/src/simulator/provider-simulator';
import { client, newKey, openSale, tokenFor, type Reply } from './http';
import { gatewayEnv, startMesh, type Mesh } from './mesh';

type Json = Record<string, unknown>;
type Buyer = ReturnType<typeof client>;
interface Order {
  buyer: Buyer;
  token: string;
  id: string;
  expiresAt: number;
}
interface Answer {
  reply: Reply<Json>;
  sentAt: number;
}

/** How long a pay request may take to reach its claim on a busy machine: sent earlier than this, it is in time. */
const IN_TIME_MS = 400;
const PAYMENT_TIMEOUT_SECONDS = 4;
const MODES = {
  fast: { latencyMs: 5, failureRate: 0 },
  // Pay waits 2.5 s for the charge, the gateway 3 s for Pay: buyers hear PAYING, and the order is PAID after.
  slow: { latencyMs: 2_700, failureRate: 0 },
  declining: { latencyMs: 5, failureRate: 1 },
} as const;
type Mode = keyof typeof MODES;

let simulator: ProviderSimulator;
let mesh: Mesh;
let admin: Buyer;
const db = new Pool({ connectionString: infra.adminDatabaseUrl, max: 4 });
const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
const paymentEnv = () => ({
  PAYMENT_PROVIDER_URL: simulator.url,
  // Recovery settles attempts stranded by a killed process after 6 s (the least the config allows, plus a second).
  PAYMENT_RECOVERY_AFTER_MS: '6000',
  PAYMENT_RECOVERY_INTERVAL_MS: '250',
});

beforeAll(async () => {
  simulator = await startProviderSimulator({ port: 0, ...MODES.fast });
  mesh = await startMesh({ order: { ORDER_SWEEP_INTERVAL_MS: '1000' }, payment: paymentEnv() });
  admin = client(mesh.url, await tokenFor('admin-payment-race', true));
});

afterAll(async () => {
  await mesh?.stop();
  await simulator?.stop();
  await db.end();
});

/** A sale of `count` units, each bought by its own buyer, every order written and awaiting payment. */
async function ordersAwaitingPayment(count: number, tag: string) {
  const sale = await admin.post<{ id: string }>(
    '/v1/promotions',
    openSale({ itemId: `sku-race-${tag}`, stock: count, paymentTimeoutSeconds: PAYMENT_TIMEOUT_SECONDS }),
  );
  expect(sale.status).toBe(201);
  const orders = await Promise.all(
    Array.from({ length: count }, async (_, i): Promise<Order> => {
      const token = await tokenFor(`${tag}-${i}-${newKey()}`);
      const buyer = client(mesh.url, token);
      const bought = await buyer.post<Json>(`/v1/promotions/${sale.body.id}/purchase`, { quantity: 1 }, key());
      expect(bought.status).toBe(202);
      const id = bought.body.orderId as string;
      const order = await waitFor(
        async () => {
          const reply = await buyer.get<Json>(`/v1/orders/${id}`);
          return reply.body.status === 'AWAITING_PAYMENT' && reply.body;
        },
        { what: `order ${id} written` },
      );
      return { buyer, token, id, expiresAt: Date.parse(order.expiresAt as string) };
    }),
  );
  return { promotionId: sale.body.id, orders };
}

const key = () => ({ 'idempotency-key': newKey() });

async function payAt(order: Order, at: number): Promise<Answer> {
  await sleepUntil(at);
  const sentAt = Date.now();
  return { reply: await order.buyer.post<Json>(`/v1/orders/${order.id}/pay`, undefined, key()), sentAt };
}

/** Each order's state, its captured payments and its ledger entry, from the services' own tables. */
async function truth(ids: string[]) {
  const { rows } = await db.query<{
    id: string;
    status: string;
    payment_id: string | null;
    captured: string[];
    pending: number;
    refunded: number;
    ledger: string | null;
    expires_at: Date;
    completed_at: Date | null;
  }>(
    `SELECT o.id::text, o.status::text, o.payment_id::text, o.expires_at,
            coalesce(array_agg(p.id::text) FILTER (WHERE p.status IN ('SUCCEEDED', 'REFUNDED')), '{}') AS captured,
            count(*) FILTER (WHERE p.status = 'PENDING')::int AS pending,
            count(*) FILTER (WHERE p.status = 'REFUNDED')::int AS refunded,
            max(p.completed_at) FILTER (WHERE p.status = 'SUCCEEDED') AS completed_at,
            r.status::text AS ledger
       FROM orders.orders o
       LEFT JOIN payment.payments p ON p.order_id = o.id
       LEFT JOIN inventory.reservations r ON r.order_id = o.id
      WHERE o.id = ANY($1::bigint[])
      GROUP BY o.id, r.status`,
    [ids],
  );
  return rows;
}

const FINAL = ['PAID', 'EXPIRED', 'CANCELLED', 'REFUNDED'];

/** Waits until every order is final, no attempt is pending and the ledger agrees; then checks the invariants. */
async function settledAndSound(promotionId: string, orders: Order[], answers: Map<string, Answer[]>) {
  const ids = orders.map((order) => order.id);
  const rows = await waitFor(
    async () => {
      const now = await truth(ids);
      const done = now.every(
        (row) =>
          FINAL.includes(row.status) &&
          row.pending === 0 &&
          (row.status === 'PAID' ? row.ledger === 'CONFIRMED' : row.ledger === 'RELEASED'),
      );
      return now.length === ids.length && done && now;
    },
    { what: 'every order settled', timeoutMs: 60_000, intervalMs: 250 },
  );
  for (const row of rows) {
    expect({ order: row.id, captured: row.captured.length <= 1, refunded: row.refunded }).toEqual({
      order: row.id,
      captured: true,
      refunded: 0,
    });
    expect(row.status).not.toBe('REFUNDED');
    if (row.status === 'PAID') expect(row.captured).toEqual([row.payment_id]);
    else expect(row.captured).toEqual([]);
    for (const { reply } of answers.get(row.id) ?? []) {
      if (reply.status === 200) expect(reply.body).toMatchObject({ status: 'PAID', paymentId: row.payment_id });
      if (reply.status === 202) expect(reply.body.status).toBe('PAYING');
      if (reply.status === 202 && row.captured.length > 0) expect(reply.body.paymentId).toBe(row.payment_id);
    }
  }
  const paid = rows.filter((row) => row.status === 'PAID').length;
  const sale = await db.query<{ sold: number }>('SELECT sold FROM inventory.sales WHERE promotion_id = $1', [
    promotionId,
  ]);
  expect(sale.rows[0]!.sold).toBe(paid);
  await waitFor(
    async () =>
      (await admin.get<{ availableStock: number }>(`/v1/promotions/${promotionId}`)).body.availableStock ===
      orders.length - paid,
    { what: `available stock ${orders.length - paid}`, timeoutMs: 30_000 },
  );
  return new Map(rows.map((row) => [row.id, row]));
}

const summary = (answers: Iterable<Answer>) => {
  const counts = new Map<string, number>();
  for (const { reply } of answers) {
    const label = `${reply.status} ${String(reply.body.code ?? reply.body.status)}`;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts].map(([label, n]) => `${label} x${n}`).join(', ');
};

describe('the payment race', () => {
  it.each(Object.keys(MODES) as Mode[])(
    'when buyers pay at offsets from 1.5 s before to 0.4 s after the deadline (provider %s), then those in time keep the item and the late ones are refused before any charge',
    async (mode) => {
      simulator.provider.configure(MODES[mode]);
      const count = 20;
      const { promotionId, orders } = await ordersAwaitingPayment(count, `offsets-${mode}`);
      const answers = new Map<string, Answer[]>();
      await Promise.all(
        orders.map(async (order, i) => {
          const offset = -1_500 + (i * 1_900) / (count - 1);
          answers.set(order.id, [await payAt(order, order.expiresAt + offset)]);
        }),
      );
      const rows = await settledAndSound(promotionId, orders, answers);

      for (const order of orders) {
        const { reply, sentAt } = answers.get(order.id)![0]!;
        const row = rows.get(order.id)!;
        const claimedInTime = sentAt <= order.expiresAt - IN_TIME_MS;
        if (sentAt >= order.expiresAt) {
          // Late: refused before any charge.
          expect({ order: order.id, status: reply.status, code: reply.body.code }).toEqual({
            order: order.id,
            status: 409,
            code: 'ORDER_NOT_PAYABLE',
          });
          expect(row.captured).toEqual([]);
        }
        if (reply.status === 200 || reply.status === 202) expect(row.status).toBe('PAID');
        if (reply.status === 409) expect(row.status).not.toBe('PAID');
        if (!claimedInTime) continue;
        // In time: the claim held, whatever the provider did.
        if (mode === 'declining') {
          expect({ order: order.id, status: reply.status, code: reply.body.code }).toEqual({
            order: order.id,
            status: 402,
            code: 'PAYMENT_DECLINED',
          });
          expect(row.status).toBe('EXPIRED');
        } else {
          expect({ order: order.id, status: [200, 202].includes(reply.status) }).toEqual({
            order: order.id,
            status: true,
          });
          expect(row.status).toBe('PAID');
        }
      }
      if (mode === 'slow') {
        // The deadline was the buyer's: orders claimed shortly before it were paid after it, and kept.
        const paidAfterDeadline = [...rows.values()].filter(
          (row) => row.status === 'PAID' && row.completed_at!.getTime() > row.expires_at.getTime(),
        );
        expect(paidAfterDeadline.length).toBeGreaterThan(0);
      }
      console.info(`payment race, offsets, provider ${mode}: ${summary([...answers.values()].flat())}`);
    },
  );

  it.each(Object.keys(MODES) as Mode[])(
    'when pay, cancel and a second pay with another key race near the deadline (provider %s), then at most one wins and every answer tells the truth',
    async (mode) => {
      simulator.provider.configure(MODES[mode]);
      const { promotionId, orders } = await ordersAwaitingPayment(20, `triple-${mode}`);
      const answers = new Map<string, Answer[]>();
      const cancels = new Map<string, Reply<Json>>();
      await Promise.all(
        orders.map(async (order) => {
          const at = order.expiresAt - 800 + Math.random() * 1_000;
          // Cancel is a shorter path than pay (one service, no payment row): it goes a few ms later, so both win some.
          const [first, cancel, second] = await Promise.all([
            payAt(order, at),
            sleepUntil(at + Math.random() * 60).then(() => order.buyer.post<Json>(`/v1/orders/${order.id}/cancel`)),
            payAt(order, at),
          ]);
          answers.set(order.id, [first, second]);
          cancels.set(order.id, cancel);
        }),
      );
      const rows = await settledAndSound(promotionId, orders, answers);

      for (const order of orders) {
        const row = rows.get(order.id)!;
        const pays = answers.get(order.id)!.map(({ reply }) => reply);
        const cancel = cancels.get(order.id)!;
        const won = pays.filter((reply) => reply.status === 200 || reply.status === 202);
        expect(won.length).toBeLessThanOrEqual(1);
        if (won.length === 1) {
          expect(row.status).toBe('PAID');
          expect(cancel.status).toBe(409);
        }
        if (cancel.status === 200) {
          expect(row.status).toBe('CANCELLED');
          for (const reply of pays) expect([402, 409]).toContain(reply.status);
        }
        if (cancel.status === 409) {
          expect(['ORDER_BEING_PAID', 'ORDER_NOT_CANCELLABLE']).toContain(cancel.body.code);
        }
        for (const reply of pays) expect([200, 202, 402, 409]).toContain(reply.status);
      }
      console.info(
        `payment race, pay/cancel/pay, provider ${mode}: pays ${summary([...answers.values()].flat())}; ` +
          `cancels ${summary([...cancels.values()].map((reply) => ({ reply, sentAt: 0 })))}`,
      );
    },
  );

  it('when a payment process is killed mid-charge, then the charges it started make their orders PAID, even past the deadline', async () => {
    simulator.provider.configure({ latencyMs: 1_500, failureRate: 0 });
    const payment: ServiceProcess = await startServiceProcess(
      'payment',
      'services/payment/src/main.ts',
      serviceEnv('payment', { ORDER_ADDR: mesh.addresses.ORDER_ADDR, ...paymentEnv() }),
    );
    const gateway = await startGateway(
      loadGatewayConfig(gatewayEnv({ ...mesh.addresses, PAYMENT_ADDR: `127.0.0.1:${payment.port}` })),
    );
    try {
      const { promotionId, orders } = await ordersAwaitingPayment(10, 'killed');
      const keys = new Map(orders.map((order) => [order.id, key()]));
      // Through the gateway whose payment service is about to die.
      const second = `http://127.0.0.1:${gateway.port}`;
      const paying = orders.map((order) =>
        client(second, order.token).post<Json>(`/v1/orders/${order.id}/pay`, undefined, keys.get(order.id)!),
      );
      // Every charge is running at the provider: now the process that asked for them dies.
      const started = await waitFor(
        async () => {
          const { rows } = await db.query<{ id: string }>(
            `SELECT id::text FROM payment.payments WHERE order_id = ANY($1::bigint[]) AND status = 'PENDING'`,
            [orders.map((order) => order.id)],
          );
          const processing = await Promise.all(rows.map(async (row) => simulator.provider.lookup(row.id)));
          return (
            rows.length === orders.length && processing.every((status) => status && 'processing' in status) && rows
          );
        },
        { what: 'every charge running at the provider', intervalMs: 20 },
      );
      await payment.kill('SIGKILL');
      // Its gateway answers 5xx (or drops the call): the buyers do not know the outcome.
      const heard = await Promise.all(paying.map((reply) => reply.catch(() => undefined)));
      for (const reply of heard) expect(reply === undefined || reply.status >= 500).toBe(true);

      // The mesh's other payment replica recovers them from the provider once they are 6 s old: past the deadline.
      const rows = await settledAndSound(promotionId, orders, new Map());
      for (const order of orders) expect(rows.get(order.id)!.status).toBe('PAID');
      expect(started).toHaveLength(orders.length);
      // The buyers retry with the same key (through the mesh's own gateway) and hear the truth: PAID, once.
      for (const order of orders) {
        const again = await order.buyer.post<Json>(`/v1/orders/${order.id}/pay`, undefined, keys.get(order.id)!);
        expect(again.status).toBe(200);
        expect(again.body).toMatchObject({ status: 'PAID', paymentId: rows.get(order.id)!.payment_id });
      }
    } finally {
      await gateway.stop();
      await payment.kill('SIGTERM');
    }
  });
});
