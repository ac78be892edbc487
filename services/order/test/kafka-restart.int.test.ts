/**
 * The Kafka broker stopped and started again in the middle of a sale (scripts/infra.sh stops and starts the
 * local broker; this file must not run beside other tests, which `--runInBand` guarantees).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { meshClient, waitFor } from '@flash-sale/testing';
import { call, getStock, newSale, reserve, runPool, type InventoryClient } from '../../inventory/test/support';
import { inventoryV1 } from '@flash-sale/contracts';
import { as, database, orderApi, startOrderStack, type OrderApi, type OrderStack } from './support';

const infra = (...args: string[]) =>
  promisify(execFile)('bash', [join(__dirname, '..', '..', '..', 'scripts', 'infra.sh'), ...args], {
    env: process.env,
    timeout: 120_000,
  });

const db = database('orders');
let stack: OrderStack;
let orders: OrderApi;
let inventory: InventoryClient;

beforeAll(async () => {
  // While the broker is away a purchase waits for Kafka this long before it is accepted from Redis alone.
  stack = await startOrderStack({ KAFKA_SESSION_TIMEOUT_MS: '6000' }, { RESERVE_DURABLE_WAIT_MS: '200' });
  orders = orderApi(stack.orderAddress);
  inventory = meshClient(inventoryV1.InventoryServiceClient, stack.inventoryAddress);
});

afterAll(async () => {
  // Whatever happened, leave a broker running for the tests after this one.
  await infra('up');
  inventory?.close();
  orders?.close();
  await stack?.stop();
  await db.end();
});

const countOrders = async (promotionId: string) =>
  (
    await db.query<{ n: number }>('SELECT count(DISTINCT id)::int AS n FROM orders.orders WHERE promotion_id = $1', [
      promotionId,
    ])
  ).rows[0]!.n;

describe('Kafka restarted mid-sale', () => {
  it('when the broker goes away for 10 s while buyers keep buying, then no accepted purchase is lost and the mesh recovers by itself', async () => {
    const promotionId = await newSale(inventory, { stock: 600, perUserLimit: 1 });
    const buy = (from: number, count: number) =>
      runPool(
        Array.from(
          { length: count },
          (_, i) => () => reserve(inventory, promotionId, `kr-${from + i}`, 1, `k${from + i}`),
        ),
        20,
      );
    const accepted: string[] = [];
    const keep = (outcomes: Awaited<ReturnType<typeof buy>>) => {
      for (const o of outcomes) if (o.ok) accepted.push(o.response.orderId);
      return outcomes.filter((o) => o.ok).length;
    };

    expect(keep(await buy(0, 200))).toBe(200);
    await waitFor(async () => (await countOrders(promotionId)) === 200, {
      what: 'the first 200 orders',
      timeoutMs: 60_000,
    });
    await infra('down', 'kafka');
    // Reservations live in Redis and its outbox: buyers are still served while the broker is away.
    const during = buy(200, 200);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    expect(keep(await during)).toBe(200);
    // The broker really was away: none of the reservations made meanwhile became an order.
    expect(await countOrders(promotionId)).toBe(200);
    await infra('up');
    expect(keep(await buy(400, 200))).toBe(200);

    await waitFor(async () => (await countOrders(promotionId)) === 600, {
      what: 'an order for each of the 600 reservations',
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    const { rows } = await db.query<{ id: string }>('SELECT id::text FROM orders.orders WHERE promotion_id = $1', [
      promotionId,
    ]);
    expect(rows.map((row) => row.id).sort()).toEqual([...accepted].sort());

    // Producers and consumers on every path recovered: a cancel now travels order -> Kafka -> inventory.
    const last = accepted[accepted.length - 1]!;
    const owner = (await db.query<{ user_id: string }>('SELECT user_id FROM orders.orders WHERE id = $1', [last]))
      .rows[0]!.user_id;
    await orders.cancel(last, as(owner));
    await waitFor(async () => (await getStock(inventory, promotionId)).availableStock === 1, {
      what: 'the cancelled unit back in stock',
      timeoutMs: 60_000,
    });
    expect(await call(inventory, inventory.getStock, { promotionId })).toMatchObject({ availableStock: 1 });
  });
});
