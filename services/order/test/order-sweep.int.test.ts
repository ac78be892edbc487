/**
 * The safety net: overdue orders whose deadline message never came (lost, or a consumer far behind) are expired
 * by the periodic sweep, and two order services sweeping side by side expire each order once.
 */
import { loadOrderConfig } from '../src/config';
import { startOrderService } from '../src/service';
import { serviceEnv, testTopics, waitFor } from '@flash-sale/testing';
import { address, announcedKinds, newId, newUser, useOrderStack } from './support';

const h = useOrderStack({ ORDER_SWEEP_INTERVAL_MS: '200', ORDER_SWEEP_BATCH: '50' });

/** Writes orders straight into the table, already overdue, with no deadline message: only a sweep finds them. */
async function insertOverdue(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newId());
  await h.db.query(
    `INSERT INTO orders.orders (id, promotion_id, user_id, quantity, amount_cents, status, created_at, expires_at, updated_at)
     SELECT id, 1, $2, 1, 100, 'AWAITING_PAYMENT', now() - interval '10 minutes', now() - interval '1 second', now()
       FROM unnest($1::bigint[]) AS id`,
    [ids, newUser()],
  );
  return ids;
}

async function statuses(ids: string[]) {
  const { rows } = await h.db.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM orders.orders WHERE id = ANY($1::bigint[]) GROUP BY status',
    [ids],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

describe('overdue order sweep', () => {
  it('when an overdue order has no deadline message, then the sweep expires it and announces OrderExpired', async () => {
    const [id] = await insertOverdue(1);
    await waitFor(async () => (await statuses([id!])).EXPIRED === 1, { what: 'the sweep', timeoutMs: 10_000 });
    expect(await announcedKinds(h.db, id!)).toEqual(['orderExpired']);
  });

  it('when two order services sweep 600 overdue orders side by side, then each order expires exactly once', async () => {
    const second = await startOrderService(
      loadOrderConfig(
        serviceEnv('orders', {
          INVENTORY_ADDR: h.stack.inventoryAddress,
          ORDER_SWEEP_INTERVAL_MS: '200',
          ORDER_SWEEP_BATCH: '50',
        }),
      ),
    );
    try {
      expect(address(second.port)).not.toBe(h.stack.orderAddress);
      const ids = await insertOverdue(600);
      await waitFor(async () => (await statuses(ids)).EXPIRED === 600, { what: '600 expiries', timeoutMs: 30_000 });
      const { rows } = await h.db.query<{ n: number; orders: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT key)::int AS orders FROM orders.outbox
          WHERE topic = $2 AND key = ANY($1::text[])`,
        [ids, testTopics.OrderEvents],
      );
      expect(rows[0]).toEqual({ n: 600, orders: 600 });
    } finally {
      await second.stop();
    }
  });

  it('when an order is not overdue yet, then the sweep leaves it alone', async () => {
    const id = newId();
    await h.db.query(
      `INSERT INTO orders.orders (id, promotion_id, user_id, quantity, amount_cents, status, created_at, expires_at, updated_at)
       VALUES ($1, 1, $2, 1, 100, 'AWAITING_PAYMENT', now(), now() + interval '1 hour', now())`,
      [id, newUser()],
    );
    // An overdue order written after it: once a sweep expired that one, a sweep has looked since.
    const [marker] = await insertOverdue(1);
    await waitFor(async () => (await statuses([marker!])).EXPIRED === 1, { what: 'a sweep', timeoutMs: 10_000 });
    expect(await statuses([id])).toEqual({ AWAITING_PAYMENT: 1 });
  });
});
