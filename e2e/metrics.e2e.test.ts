/**
 * Every component's Prometheus metrics after a small sale over HTTP: the sale's figures (stock, purchases by
 * outcome, orders, payments, outboxes, consumer lag) and the gRPC RED metrics on both sides of the calls.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { LOCAL_PKI_DIR } from '@flash-sale/config';
import { orderV1 } from '@flash-sale/contracts';
import { callUnary } from '@flash-sale/grpc-kit';
import { infra, testGroupPrefix, testTopics, uniqueSuffix, waitFor } from '@flash-sale/testing';
import { client, newKey, openSale, tokenFor } from './http';
import { startMesh, type Mesh } from './mesh';

type Json = Record<string, unknown>;
type Component = keyof Mesh['metrics'];

const STOCK = 4;
const BUYERS = 10;
const PAID = 2;
const run = uniqueSuffix();
const orderGroupName = 'order.requests-and-payments';
const kafkaAdmin = new Kafka({ brokers: infra.kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).admin();

let mesh: Mesh;

beforeAll(async () => {
  await kafkaAdmin.connect();
  // The reconciler runs often, so its drift is there to see (and to see go).
  mesh = await startMesh({ inventory: { RECONCILE_INTERVAL_MS: '500' } });
}, 120_000);

afterAll(async () => {
  await mesh?.stop();
  await kafkaAdmin.disconnect();
});

/**
 * Whether another mesh's order service reads the tests' topics now (another test file running beside this one):
 * each reads every purchase, and the first to write an order's row is the one that counts it.
 */
async function otherOrderServices(): Promise<boolean> {
  const { groups } = await kafkaAdmin.listGroups();
  const others = groups
    .map((group) => group.groupId)
    .filter((id) => id.endsWith(orderGroupName) && id !== `${testGroupPrefix}${orderGroupName}`);
  if (others.length === 0) return false;
  return (await kafkaAdmin.describeGroups(others)).groups.some((group) => group.members.length > 0);
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

async function scrape(component: Component): Promise<{ text: string; samples: Sample[] }> {
  const text = await (await fetch(mesh.metrics[component])).text();
  const samples = text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
      );
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
  return { text, samples };
}

/** The samples of `name` whose labels include `labels`. */
const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));
const sum = (samples: Sample[]) => samples.reduce((total, s) => total + s.value, 0);
const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  sum(find(samples, name, labels));

const asAdmin = () => tokenFor('metrics-admin', true).then((token) => client(mesh.url, token));
const buyerId = (i: number) => `metrics-buyer-${run}-${i}`;

async function createSale(overrides: Json = {}): Promise<string> {
  const reply = await (await asAdmin()).post<{ id: string }>('/v1/promotions', openSale(overrides));
  expect(reply.status).toBe(201);
  return reply.body.id;
}

async function purchase(promotionId: string, buyer: string) {
  return client(mesh.url, await tokenFor(buyer)).post<Json>(
    `/v1/promotions/${promotionId}/purchase`,
    { quantity: 1 },
    { 'idempotency-key': newKey() },
  );
}

describe("the mesh's metrics", () => {
  it('when a small sale sells out and some orders are paid, then every component reports it under the agreed names', async () => {
    const gatewayBefore = await scrape('gateway');
    const promotionId = await createSale({ stock: STOCK, perUserLimit: 1 });
    const ordersBefore = value((await scrape('order')).samples, 'flashsale_order_accept_to_row_seconds_count');
    let crowded = await otherOrderServices();

    // Together, so that one ReserveBatch carries them and inventory itself refuses those past the stock.
    const replies = await Promise.all(Array.from({ length: BUYERS }, (_, i) => purchase(promotionId, buyerId(i))));
    const accepted = replies.flatMap((reply, i) =>
      reply.status === 202 ? [{ i, orderId: String(reply.body.orderId) }] : [],
    );
    expect(accepted).toHaveLength(STOCK);
    expect(replies.filter((reply) => reply.status === 409)).toHaveLength(BUYERS - STOCK);

    const buyers = accepted.map(({ i, orderId }) => ({
      orderId,
      buyer: tokenFor(buyerId(i)).then((t) => client(mesh.url, t)),
    }));
    for (const { orderId, buyer } of buyers) {
      const http = await buyer;
      await waitFor(async () => (await http.get<Json>(`/v1/orders/${orderId}`)).body.status === 'AWAITING_PAYMENT', {
        what: `order ${orderId} written`,
      });
    }
    for (const { orderId, buyer } of buyers.slice(0, PAID)) {
      const paid = await (
        await buyer
      ).post<Json>(`/v1/orders/${orderId}/pay`, undefined, { 'idempotency-key': newKey() });
      expect(paid.status).toBe(200);
    }
    // One call through the gRPC door, as an outside client makes it.
    const door = new orderV1.OrderServiceClient(
      mesh.door,
      credentials.createSsl(readFileSync(join(LOCAL_PKI_DIR, 'ca.crt'))),
      // The certificate names localhost too; a name, not the IP, is what TLS sends as the server name.
      { 'grpc.ssl_target_name_override': 'localhost' },
    );
    try {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${await tokenFor(buyerId(accepted[0]!.i))}`);
      const listed = await callUnary(door.listOrders, door, orderV1.ListOrdersRequest.fromPartial({ pageSize: 10 }), {
        timeoutMs: 5_000,
        metadata,
      });
      expect(listed.orders.length).toBeGreaterThan(0);
    } finally {
      door.close();
    }

    const scraped = Object.fromEntries(
      await Promise.all(
        (Object.keys(mesh.metrics) as Component[]).map(
          async (component) => [component, await scrape(component)] as const,
        ),
      ),
    ) as Record<Component, { text: string; samples: Sample[] }>;
    const inventory = scraped.inventory.samples;
    const order = scraped.order.samples;
    const payment = scraped.payment.samples;
    const gateway = scraped.gateway.samples;

    // Every series says whose it is, and no label names a buyer or an order.
    for (const [component, { samples, text }] of Object.entries(scraped)) {
      expect(samples.filter((s) => s.labels.service !== component)).toEqual([]);
      for (let i = 0; i < BUYERS; i += 1) expect(text).not.toContain(buyerId(i));
      for (const { orderId } of accepted) expect(text).not.toContain(orderId);
    }

    // Inventory: the sale's stock and its purchases by outcome.
    const sale = { promotion: promotionId };
    expect(value(inventory, 'flashsale_stock_total', sale)).toBe(STOCK);
    expect(value(inventory, 'flashsale_stock_available', sale)).toBe(0);
    expect(value(inventory, 'flashsale_reservations_total', { ...sale, outcome: 'accepted' })).toBe(STOCK);
    const soldOut = value(inventory, 'flashsale_reservations_total', { ...sale, outcome: 'sold_out' });
    expect(soldOut).toBeGreaterThan(0);
    // Refusals inventory did not count, the gateway answered from its memory.
    const fromMemory =
      value(gateway, 'gateway_sold_out_rejections_total') -
      value(gatewayBefore.samples, 'gateway_sold_out_rejections_total');
    expect(soldOut + fromMemory).toBe(BUYERS - STOCK);
    await waitFor(
      async () => find((await scrape('inventory')).samples, 'inventory_reconcile_drift', sale).length === 3,
      {
        what: "the reconciler's drift of the sale",
      },
    );

    // Outboxes: the Redis stream in inventory, the PostgreSQL tables of order and payment.
    for (const [samples, outbox] of [
      [inventory, 'redis_stream'],
      [order, 'postgres'],
      [payment, 'postgres'],
    ] as const) {
      expect(find(samples, 'flashsale_outbox_pending', { outbox })).toHaveLength(1);
      expect(find(samples, 'flashsale_outbox_oldest_age_seconds', { outbox })).toHaveLength(1);
      expect(value(samples, 'flashsale_outbox_oldest_age_seconds', { outbox })).toBeGreaterThanOrEqual(0);
    }

    // Consumer lag, from the broker, on every service that uses Kafka; the order group catches up to 0.
    const orderGroup = { consumergroup: `${testGroupPrefix}${orderGroupName}`, topic: testTopics.OrderRequested };
    for (const samples of [inventory, order, payment]) {
      expect(find(samples, 'kafka_consumergroup_lag', orderGroup).length).toBeGreaterThan(0);
    }
    await waitFor(async () => value((await scrape('order')).samples, 'kafka_consumergroup_lag', orderGroup) === 0, {
      what: 'the order group read every purchase',
    });

    // Orders: one accept-to-row time per order written; payments by outcome.
    const written = value(order, 'flashsale_order_accept_to_row_seconds_count') - ordersBefore;
    crowded ||= await otherOrderServices();
    if (!crowded) expect(written).toBe(STOCK);
    expect(value(order, 'flashsale_order_accept_to_row_seconds_bucket', { le: '+Inf' })).toBe(
      value(order, 'flashsale_order_accept_to_row_seconds_count'),
    );
    expect(value(order, 'flashsale_order_accept_to_row_seconds_sum')).toBeGreaterThan(0);
    expect(value(payment, 'flashsale_payments_total', { outcome: 'succeeded' })).toBe(PAID);

    // gRPC, both sides of each edge.
    const reserveBatch = {
      grpc_type: 'unary',
      grpc_service: 'flashsale.inventory.v1.InventoryService',
      grpc_method: 'ReserveBatch',
      grpc_code: 'OK',
    };
    expect(value(inventory, 'grpc_server_handled_total', reserveBatch)).toBeGreaterThan(0);
    expect(value(gateway, 'grpc_client_handled_total', reserveBatch)).toBeGreaterThan(0);
    expect(value(inventory, 'grpc_server_handling_seconds_count', { grpc_method: 'ReserveBatch' })).toBeGreaterThan(0);
    expect(value(gateway, 'grpc_client_started_total', { grpc_method: 'ReserveBatch' })).toBeGreaterThan(0);
    const claim = { grpc_service: 'flashsale.order.v1.OrderService', grpc_method: 'ClaimPayment', grpc_code: 'OK' };
    expect(value(payment, 'grpc_client_handled_total', claim)).toBe(PAID);
    expect(value(order, 'grpc_server_handled_total', claim)).toBe(PAID);
    const prepare = { grpc_method: 'PrepareSale', grpc_code: 'OK' };
    expect(value(scraped.promotion.samples, 'grpc_client_handled_total', prepare)).toBeGreaterThan(0);
    expect(value(inventory, 'grpc_server_handled_total', prepare)).toBeGreaterThan(0);
    const listOrders = { grpc_service: 'flashsale.order.v1.OrderService', grpc_method: 'ListOrders', grpc_code: 'OK' };
    expect(value(gateway, 'grpc_server_handled_total', listOrders)).toBe(1); // the door
    expect(value(gateway, 'grpc_client_handled_total', listOrders)).toBeGreaterThan(0);
    // The buckets agreed on.
    expect(
      find(inventory, 'grpc_server_handling_seconds_bucket', { grpc_method: 'ReserveBatch' }).map((s) => s.labels.le),
    ).toEqual(['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '+Inf']);
  }, 60_000);

  it("when a sale's window ends, then inventory's series of that promotion go, its drift too", async () => {
    const promotionId = await createSale({ endsAt: new Date(Date.now() + 8_000).toISOString() });
    const buyer = client(mesh.url, await tokenFor(`metrics-late-${run}`));
    const bought = await buyer.post<Json>(
      `/v1/promotions/${promotionId}/purchase`,
      { quantity: 1 },
      { 'idempotency-key': newKey() },
    );
    expect(bought.status).toBe(202);
    const orderId = String(bought.body.orderId);
    await waitFor(async () => (await buyer.get<Json>(`/v1/orders/${orderId}`)).body.status === 'AWAITING_PAYMENT', {
      what: 'the order written',
    });
    // A paid order changes the sale's ledger, so the next reconciliation pass compares the sale and reports its drift.
    expect((await buyer.post(`/v1/orders/${orderId}/pay`, undefined, { 'idempotency-key': newKey() })).status).toBe(
      200,
    );
    const ofSale = async () =>
      (await scrape('inventory')).samples.filter((s) => s.labels.promotion === promotionId).map((s) => s.name);
    await waitFor(async () => (await ofSale()).includes('inventory_reconcile_drift'), { what: "the sale's drift" });
    expect(await ofSale()).toEqual(
      expect.arrayContaining(['flashsale_stock_available', 'flashsale_stock_total', 'flashsale_reservations_total']),
    );
    await waitFor(async () => (await ofSale()).length === 0, {
      what: 'no series of the ended sale',
      timeoutMs: 20_000,
    });
  }, 40_000);
});
