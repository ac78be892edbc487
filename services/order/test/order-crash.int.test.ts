/**
 * The order service killed with SIGKILL while it writes batches of orders: real reservations flow from inventory
 * through Kafka into an order service running in its own process, which is killed twice mid-stream and restarted.
 */
import {
  serviceEnv,
  startServiceProcess,
  testTopics,
  uniqueSuffix,
  waitFor,
  type ServiceProcess,
} from '@flash-sale/testing';
import { newSale, reserve, runPool, startInventory, type Harness } from '../../inventory/test/support';
import { database } from './support';

const db = database('orders');
let inventory: Harness;
let inventoryPort: number;
const prefix = `test-crash-${uniqueSuffix()}.`;

beforeAll(async () => {
  inventory = await startInventory();
  inventoryPort = Number(inventory.client.getChannel().getTarget().split(':').pop());
});

afterAll(async () => {
  await inventory?.stop();
  await db.end();
});

const startOrderProcess = () =>
  startServiceProcess(
    'order',
    'services/order/src/main.ts',
    serviceEnv('orders', {
      INVENTORY_ADDR: `127.0.0.1:${inventoryPort}`,
      KAFKA_GROUP_PREFIX: prefix,
      // A killed member's partitions move on after 6 s instead of 30 s.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    }),
  );

async function ordersOf(promotionId: string) {
  const { rows } = await db.query<{ orders: number; distinct_orders: number }>(
    'SELECT count(*)::int AS orders, count(DISTINCT id)::int AS distinct_orders FROM orders.orders WHERE promotion_id = $1',
    [promotionId],
  );
  return rows[0]!;
}

describe('order service killed mid-batch', () => {
  it('when it is SIGKILLed twice while reservations pour in, then after restarts every accepted reservation has exactly one order and one deadline', async () => {
    const stock = 3_000;
    let service: ServiceProcess = await startOrderProcess();
    try {
      const promotionId = await newSale(inventory.client, { stock, perUserLimit: 1 });
      const buying = runPool(
        Array.from(
          { length: stock },
          (_, i) => () => reserve(inventory.client, promotionId, `crash-${i}`, 1, `k-${i}`),
        ),
        50,
      );

      for (const fraction of [0.2, 0.5]) {
        await waitFor(async () => (await ordersOf(promotionId)).orders >= stock * fraction, {
          what: `${fraction * 100}% of the orders written`,
          timeoutMs: 60_000,
          intervalMs: 20,
        });
        await service.kill('SIGKILL');
        service = await startOrderProcess();
      }

      const outcomes = await buying;
      const accepted = outcomes.filter((o) => o.ok).map((o) => (o.ok ? o.response.orderId : ''));
      expect(accepted).toHaveLength(stock);
      await waitFor(async () => (await ordersOf(promotionId)).orders === stock, {
        what: 'an order for every reservation',
        timeoutMs: 120_000,
        intervalMs: 250,
      });
      expect(await ordersOf(promotionId)).toEqual({ orders: stock, distinct_orders: stock });
      const { rows } = await db.query<{ id: string }>(
        'SELECT id::text FROM orders.orders WHERE promotion_id = $1 ORDER BY id',
        [promotionId],
      );
      expect(rows.map((row) => row.id)).toEqual([...accepted].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
      // A batch redelivered after the kill inserts nothing, so it writes no deadline a second time.
      const created = await db.query<{ n: number; orders: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT key)::int AS orders FROM orders.outbox
          WHERE topic = $2 AND key = ANY($1::text[])`,
        [accepted, testTopics.OrderDeadlines],
      );
      expect(created.rows[0]).toEqual({ n: stock, orders: stock });
    } finally {
      await service.kill('SIGTERM');
    }
  });
});
