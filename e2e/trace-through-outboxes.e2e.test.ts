/**
 * One purchase followed by its trace through the real Redis, Kafka and PostgreSQL: the gateway, inventory, order and
 * payment run as processes of their own with OpenTelemetry loaded and exporting OTLP/HTTP JSON to a receiver this
 * test serves. The purchase's trace runs from the gateway through ReserveBatch, the Redis outbox and its relay, Kafka
 * and the order consumer to the order row; the pay request's trace runs through payment, the order service, its
 * outbox, Kafka and inventory's confirm. The log lines on the way carry those trace ids.
 *
 * The processes work in schemas and topics of their own, so no other mesh on the same servers (a relay of another
 * test run, say) reads their outboxes or their events.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { topicNames } from '@flash-sale/kafka-kit';
import {
  infra,
  serviceEnv,
  startServiceProcess,
  uniqueSuffix,
  waitFor,
  type ServiceProcess,
} from '@flash-sale/testing';
import type { RunningService } from '@flash-sale/service-kit';
import { loadPromotionConfig } from '../services/promotion/src/config';
import { startPromotionService } from '../services/promotion/src/service';
import { client, newKey, openSale, tokenFor } from './http';
import { gatewayEnv } from './mesh';
import { startOtlpReceiver, type ReceivedSpan } from './otlp-receiver';

const REGISTER = 'packages/observability/src/register.ts';
const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

const suffix = uniqueSuffix();
const prefix = `test.trace-${suffix}.`;
const topics = topicNames(prefix);
const roles = ['promotion', 'inventory', 'orders', 'payment'] as const;
type Role = (typeof roles)[number];
const schemaOf = (role: Role) => `trace_${role}_${suffix}`.replace(/[^a-z0-9_]/g, '_');
const databaseUrl = (role: Role) => infra.databaseUrl(role).replace(/schema=\w+$/, `schema=${schemaOf(role)}`);

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
const admin = new Client({ connectionString: infra.adminDatabaseUrl });
const processes: Partial<Record<'inventory' | 'order' | 'payment' | 'gateway', ServiceProcess>> = {};
let promotion: RunningService | undefined;

/** Environment of a traced process: spans of the traces a caller sampled go to the receiver within 200 ms. */
const traced = (service: string) => ({
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  OTEL_SERVICE_NAME: service,
  // Only the traces this test starts (its requests carry a sampled traceparent): the relays' and consumers' own
  // polling, in traces of their own, is left out.
  OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
  OTEL_TRACES_SAMPLER_ARG: '0',
  OTEL_BSP_SCHEDULE_DELAY: '200',
  KAFKA_TOPIC_PREFIX: prefix,
});
const env = (role: Role, service: string, extra: Record<string, string> = {}) =>
  serviceEnv(role, { DATABASE_URL: databaseUrl(role), ...traced(service), ...extra });
const start = (name: string, entry: string, environment: Record<string, string>, listening?: string) =>
  startServiceProcess(`trace-${name}`, entry, environment, {
    preload: [REGISTER],
    logLevel: 'debug',
    ...(listening ? { listening } : {}),
  });

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  await admin.connect();
  for (const role of roles) await admin.query(`CREATE SCHEMA "${schemaOf(role)}" AUTHORIZATION "${role}"`);
  await promisify(execFile)(process.execPath, [join(__dirname, '..', 'scripts', 'create-topics.js')], {
    env: { ...process.env, KAFKA_BROKERS: infra.kafkaBrokers, KAFKA_TOPIC_PREFIX: prefix, KAFKA_PARTITIONS_MAX: '1' },
  });

  const address = (p: { port: number }) => `127.0.0.1:${p.port}`;
  processes.inventory = await start('inventory', 'services/inventory/src/main.ts', env('inventory', 'inventory'));
  const INVENTORY_ADDR = address(processes.inventory);
  const [order, running] = await Promise.all([
    start('order', 'services/order/src/main.ts', env('orders', 'order', { INVENTORY_ADDR })),
    startPromotionService(
      loadPromotionConfig(serviceEnv('promotion', { DATABASE_URL: databaseUrl('promotion'), INVENTORY_ADDR })),
    ),
  ]);
  processes.order = order;
  promotion = running;
  const ORDER_ADDR = address(order);
  processes.payment = await start(
    'payment',
    'services/payment/src/main.ts',
    env('payment', 'payment', { ORDER_ADDR, PROVIDER_LATENCY_MS: '5' }),
  );
  processes.gateway = await start(
    'gateway',
    'gateway/src/main.ts',
    gatewayEnv(
      { PROMOTION_ADDR: address(running), INVENTORY_ADDR, ORDER_ADDR, PAYMENT_ADDR: address(processes.payment) },
      traced('gateway'),
    ),
    'gateway listening',
  );
}, 300_000);

afterAll(async () => {
  // What the receiver got, to look at when an expectation fails.
  if (receiver) {
    writeFileSync(
      join(__dirname, '..', '.cache', 'test-logs', `trace-spans-${suffix}.json`),
      JSON.stringify(receiver.spans),
    );
  }
  await processes.gateway?.kill('SIGTERM');
  await Promise.all([processes.payment?.kill('SIGTERM'), promotion?.stop()]);
  await processes.order?.kill('SIGTERM');
  await processes.inventory?.kill('SIGTERM');
  await receiver?.stop();
  for (const role of roles) await admin.query(`DROP SCHEMA IF EXISTS "${schemaOf(role)}" CASCADE`).catch(() => {});
  await admin.end();
  const kafka = new Kafka({ brokers: infra.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  await kafkaAdmin.deleteTopics({ topics: Object.values(topics) }).catch(() => {});
  await kafkaAdmin.disconnect();
}, 60_000);

/** A W3C traceparent of a new sampled trace, as a caller that traces its requests sends it. */
function callerTrace() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** The log lines of a process, parsed. */
const logLines = (process: ServiceProcess) =>
  readFileSync(process.logPath, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** The spans of one trace, with lookups by what a span is and by its ancestry. */
function traceOf(traceId: string) {
  const spans = () => receiver.spans.filter((span) => span.traceId === traceId);
  const byId = (spanId: string | undefined) => spans().find((span) => span.spanId === spanId);
  const isUnder = (span: ReceivedSpan, ancestor: ReceivedSpan) => {
    for (let at = byId(span.parentSpanId); at; at = byId(at.parentSpanId)) if (at === ancestor) return true;
    return false;
  };
  const find = (service: string, kind: number | undefined, name: string | RegExp, under?: ReceivedSpan) =>
    spans().find(
      (span) =>
        span.service === service &&
        (kind === undefined || span.kind === kind) &&
        (typeof name === 'string' ? span.name === name : name.test(span.name)) &&
        (!under || isUnder(span, under)),
    );
  /** Waits until `find` finds the span (the exporters send every 200 ms). */
  const expectSpan = (what: string, ...args: Parameters<typeof find>) =>
    waitFor(async () => find(...args), { what: `the span ${what} in trace ${traceId}`, timeoutMs: 20_000 });
  return { spans, isUnder, expectSpan };
}

describe('one trace through the outboxes', () => {
  it('when a buyer purchases and pays, then the purchase trace reaches the order row and the pay trace reaches inventory confirm, with the log lines in them', async () => {
    const admin = client(`http://127.0.0.1:${processes.gateway!.port}`, await tokenFor(`trace-admin-${suffix}`, true));
    const created = await admin.post<{ id: string }>('/v1/promotions', openSale({ stock: 2 }));
    expect(created.status).toBe(201);
    const buyer = client(`http://127.0.0.1:${processes.gateway!.port}`, await tokenFor(`traced-buyer-${suffix}`));

    // The purchase, in a trace the caller started.
    const purchaseCaller = callerTrace();
    const purchase = await buyer.post<{ orderId: string }>(
      `/v1/promotions/${created.body.id}/purchase`,
      { quantity: 1 },
      { 'idempotency-key': newKey(), traceparent: purchaseCaller.traceparent },
    );
    expect(purchase.status).toBe(202);
    const { orderId } = purchase.body;
    await waitFor(
      async () => (await buyer.get<{ status: string }>(`/v1/orders/${orderId}`)).body.status === 'AWAITING_PAYMENT',
      { what: 'the order row' },
    );

    // The pay request: a new request, a new trace (not linked to the purchase's; the order id joins the two).
    const payCaller = callerTrace();
    const pay = await buyer.post<{ status: string }>(`/v1/orders/${orderId}/pay`, undefined, {
      'idempotency-key': newKey(),
      traceparent: payCaller.traceparent,
    });
    expect([pay.status, pay.body.status]).toEqual([200, 'PAID']);

    // Purchase: gateway HTTP -> inventory ReserveBatch -> its item -> Redis outbox entry -> relay's send ->
    // Kafka -> order consumer -> the order row's INSERT and the deadline's send.
    const purchaseTrace = traceOf(purchaseCaller.traceId);
    const http = await purchaseTrace.expectSpan('gateway POST purchase', 'gateway', SERVER, /^POST/);
    expect(http.parentSpanId).toBe(purchaseCaller.spanId);
    const reserveBatch = await purchaseTrace.expectSpan(
      'inventory ReserveBatch',
      'inventory',
      SERVER,
      'grpc.flashsale.inventory.v1.InventoryService/ReserveBatch',
      http,
    );
    const item = await purchaseTrace.expectSpan(
      'the ReserveBatch item',
      'inventory',
      undefined,
      'InventoryService/ReserveBatch item',
    );
    expect(item.parentSpanId).toBe(reserveBatch.spanId);
    const relayed = await purchaseTrace.expectSpan(
      'the relay send',
      'inventory',
      PRODUCER,
      `send ${topics.OrderRequested}`,
    );
    // The stream entry saved the item's context; the relay, a loop of its own, sent it as the item's child.
    expect(relayed.parentSpanId).toBe(item.spanId);
    const consumed = await purchaseTrace.expectSpan(
      'the order consumer',
      'order',
      CONSUMER,
      `process ${topics.OrderRequested}`,
    );
    expect(consumed.parentSpanId).toBe(relayed.spanId);
    const insert = await waitFor(
      async () =>
        purchaseTrace
          .spans()
          .find(
            (span) =>
              span.service === 'order' &&
              purchaseTrace.isUnder(span, consumed) &&
              Object.values(span.attributes).some((value) => String(value).includes('INSERT INTO orders')),
          ),
      { what: "the order row's INSERT in the purchase trace" },
    );
    expect(insert.kind).toBe(3);
    const deadline = await purchaseTrace.expectSpan(
      'the deadline send',
      'order',
      PRODUCER,
      `send ${topics.OrderDeadlines}`,
    );
    expect(deadline.parentSpanId).toBe(consumed.spanId);

    // Pay: gateway HTTP -> payment Pay -> order ClaimPayment and SettlePayment -> the orders outbox row -> relay's
    // send -> Kafka -> inventory's confirm, its SQL and its Redis script.
    const payTrace = traceOf(payCaller.traceId);
    const payHttp = await payTrace.expectSpan('gateway POST pay', 'gateway', SERVER, /^POST/);
    expect(payHttp.parentSpanId).toBe(payCaller.spanId);
    const paySpan = await payTrace.expectSpan(
      'payment Pay',
      'payment',
      SERVER,
      'grpc.flashsale.payment.v1.PaymentService/Pay',
      payHttp,
    );
    await payTrace.expectSpan(
      'order ClaimPayment',
      'order',
      SERVER,
      'grpc.flashsale.order.v1.OrderService/ClaimPayment',
      paySpan,
    );
    const settle = await payTrace.expectSpan(
      'order SettlePayment',
      'order',
      SERVER,
      'grpc.flashsale.order.v1.OrderService/SettlePayment',
      paySpan,
    );
    const paid = await payTrace.expectSpan(
      'the OrderPaid send',
      'order',
      PRODUCER,
      `send ${topics.OrderEvents}`,
      settle,
    );
    const confirm = await payTrace.expectSpan(
      'inventory confirm',
      'inventory',
      CONSUMER,
      `process ${topics.OrderEvents}`,
    );
    expect(confirm.parentSpanId).toBe(paid.spanId);
    const confirmWork = await waitFor(
      async () => {
        const under = payTrace
          .spans()
          .filter((span) => span.service === 'inventory' && payTrace.isUnder(span, confirm));
        return under.length >= 2 && under;
      },
      { what: "inventory confirm's SQL and Redis spans" },
    );
    expect(confirmWork.map((span) => span.kind)).toContain(3);
    // The payment's own event goes the same way, to the order consumer (which finds it applied already).
    const paymentEvent = await payTrace.expectSpan(
      'the PaymentSucceeded send',
      'payment',
      PRODUCER,
      `send ${topics.PaymentEvents}`,
      paySpan,
    );
    const paymentConsumed = await payTrace.expectSpan(
      'the payment event consumed',
      'order',
      CONSUMER,
      `process ${topics.PaymentEvents}`,
    );
    expect(paymentConsumed.parentSpanId).toBe(paymentEvent.spanId);

    // The log lines of each hop carry their trace's id.
    const created_ = await waitFor(
      async () => logLines(processes.order!).find((line) => line.msg === 'order created' && line.orderId === orderId),
      { what: "the order consumer's log line" },
    );
    expect(created_).toMatchObject({ trace_id: purchaseCaller.traceId, span_id: consumed.spanId });
    const confirmed = await waitFor(
      async () =>
        logLines(processes.inventory!).find((line) => line.msg === 'reservation confirmed' && line.orderId === orderId),
      { what: "inventory's confirm log line" },
    );
    expect(confirmed).toMatchObject({ trace_id: payCaller.traceId, span_id: confirm.spanId });
  });
});
