/**
 * Helpers for the order service's integration tests, also used by the payment service's: fresh ids, callers,
 * the order service (with an inventory service behind it) on port 0, OrderRequested events, and reads of the
 * `orders` schema as the service's own role.
 */
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { Pool } from 'pg';
import { inventoryEventsV1, orderEventsV1, orderV1, paymentEventsV1 } from '@flash-sale/contracts';
import { callerMetadata, callUnary, readFailure, type CallFailure } from '@flash-sale/grpc-kit';
import { infra, meshClient, serviceEnv, waitFor, testTopics } from '@flash-sale/testing';
import { loadInventoryConfig } from '../../inventory/src/config';
import { startInventoryService } from '../../inventory/src/service';
import { loadOrderConfig } from '../src/config';
import { startOrderService } from '../src/service';
import { TestProducer, TopicRecorder } from './kafka-support';

let sequence = Math.floor(Math.random() * 1_000_000);
/** A fresh decimal id below 2^63: unique within this process, and across runs unless the clock goes back. */
export const newId = () => (BigInt(Date.now()) * 1_000_000n + BigInt(sequence++ % 1_000_000)).toString();
export const newUser = (name = 'buyer') => `${name}-${newId()}`;
export const address = (port: number) => `127.0.0.1:${port}`;

/** The metadata the gateway sets for a verified caller. */
export const as = (userId: string, roles: string[] = []) => callerMetadata({ userId, roles }, new Metadata());

/** Decodes the failure of a call that must fail (status, message and ErrorInfo). */
export async function failureOf(call: Promise<unknown>): Promise<CallFailure> {
  try {
    await call;
  } catch (error) {
    return readFailure(error as ServiceError);
  }
  throw new Error('the call succeeded but was expected to fail');
}

export interface OrderStack {
  orderAddress: string;
  inventoryAddress: string;
  stop(): Promise<void>;
}

/** An inventory service and an order service that falls back to it for orders without a row. */
export async function startOrderStack(
  extra: Record<string, string> = {},
  inventoryExtra: Record<string, string> = {},
): Promise<OrderStack> {
  const inventory = await startInventoryService(loadInventoryConfig(serviceEnv('inventory', inventoryExtra)));
  const order = await startOrderService(
    loadOrderConfig(serviceEnv('orders', { INVENTORY_ADDR: address(inventory.port), ...extra })),
  );
  return {
    orderAddress: address(order.port),
    inventoryAddress: address(inventory.port),
    async stop() {
      await order.stop();
      await inventory.stop();
    },
  };
}

const S = orderV1.OrderStatus;
export const OrderStatus = S;

/** The order service's gRPC API, one call per method, as a given caller (through the gateway's identity). */
export function orderApi(orderAddress: string) {
  const client = meshClient(orderV1.OrderServiceClient, orderAddress);
  const settings = (metadata: Metadata) => ({ timeoutMs: 5_000, metadata });
  const api = {
    get: (orderId: string, metadata: Metadata) =>
      callUnary(client.getOrder, client, { orderId }, settings(metadata)).then(({ order }) => order!),
    list: (metadata: Metadata, pageSize: number, pageToken = '') =>
      callUnary(client.listOrders, client, { pageSize, pageToken }, settings(metadata)),
    cancel: (orderId: string, metadata: Metadata) =>
      callUnary(client.cancelOrder, client, { orderId }, settings(metadata)).then(({ order }) => order!),
    summary: (promotionId: string, metadata: Metadata) =>
      callUnary(client.getSaleSummary, client, { promotionId }, settings(metadata)),
    /** Waits until the buyer sees the order in `status` (a missing row reads as PENDING or NOT_FOUND). */
    waitForStatus: (orderId: string, userId: string, status: orderV1.OrderStatus) =>
      waitFor(
        async () => {
          const order = await api.get(orderId, as(userId));
          return order.status === status && order;
        },
        { what: `order ${orderId} ${orderV1.orderStatusToJSON(status)}`, timeoutMs: 30_000 },
      ),
    close: () => client.close(),
  };
  return api;
}
export type OrderApi = ReturnType<typeof orderApi>;

/** An OrderRequested event as inventory publishes it after a reservation; fresh ids unless overridden. */
export function orderRequested(overrides: Partial<inventoryEventsV1.OrderRequested> = {}) {
  return inventoryEventsV1.OrderRequested.fromPartial({
    eventId: newId(),
    orderId: newId(),
    promotionId: newId(),
    userId: newUser(),
    quantity: 1,
    amountCents: '2500',
    reserveTime: new Date(),
    paymentTimeoutSeconds: 600,
    idempotencyKey: `key-${newId()}`,
    occurTime: new Date(),
    ...overrides,
  });
}

export const sendOrderRequested = (
  producer: TestProducer,
  event: inventoryEventsV1.OrderRequested,
  partition?: number,
) =>
  producer.send(
    testTopics.OrderRequested,
    event.orderId,
    inventoryEventsV1.OrderRequested.encode(event).finish(),
    partition,
  );

/** Puts an order in place the way the mesh does (an OrderRequested event) and waits until it awaits payment. */
export async function placeOrder(
  producer: TestProducer,
  orders: OrderApi,
  overrides: Partial<inventoryEventsV1.OrderRequested> = {},
) {
  const event = orderRequested(overrides);
  await sendOrderRequested(producer, event);
  await orders.waitForStatus(event.orderId, event.userId, S.ORDER_STATUS_AWAITING_PAYMENT);
  return event;
}

export const decodeOrderEvent = (bytes: Uint8Array) => orderEventsV1.OrderEvent.decode(bytes);

/** A connection pool to PostgreSQL as a service's own role. */
export const database = (role: 'orders' | 'payment' | 'promotion') =>
  new Pool({ connectionString: infra.databaseUrl(role), max: 3 });

/**
 * What the order service wrote to its outbox for an order, oldest first: `deadline` for its `OrderDeadline` (the
 * announcement of a new order), then the kinds of its `order.events`.
 */
export async function announcedKinds(db: Pool, orderId: string): Promise<string[]> {
  const { rows } = await db.query<{ topic: string; payload: Buffer }>(
    `SELECT topic, payload FROM orders.outbox WHERE key = $1 ORDER BY id`,
    [orderId],
  );
  return rows.map((row) =>
    row.topic === testTopics.OrderDeadlines ? 'deadline' : (decodeOrderEvent(row.payload).kind?.$case ?? 'none'),
  );
}

/** A PaymentSucceeded event as the payment service publishes it, keyed by order id. */
export function paymentSucceeded(order: { orderId: string; userId: string; amountCents: string }, paymentId = newId()) {
  return paymentEventsV1.PaymentEvent.fromPartial({
    eventId: newId(),
    paymentId,
    orderId: order.orderId,
    userId: order.userId,
    amountCents: order.amountCents,
    occurTime: new Date(),
    kind: { $case: 'paymentSucceeded', value: { providerReference: `sim_${paymentId}` } },
  });
}

export const sendPaymentEvent = (producer: TestProducer, event: paymentEventsV1.PaymentEvent, partition?: number) =>
  producer.send(
    testTopics.PaymentEvents,
    event.orderId,
    paymentEventsV1.PaymentEvent.encode(event).finish(),
    partition,
  );

export interface OrderHarness {
  stack: OrderStack;
  orders: OrderApi;
  producer: TestProducer;
  /** Everything on `order.events` since this file started. */
  orderEvents: TopicRecorder<orderEventsV1.OrderEvent>;
  db: Pool;
}

/** Boots the order stack before the file's tests and stops it after; the fields are set once beforeAll ran. */
export function useOrderStack(extra: Record<string, string> = {}): OrderHarness {
  const harness = { db: database('orders') } as OrderHarness;
  beforeAll(async () => {
    harness.stack = await startOrderStack(extra);
    harness.orders = orderApi(harness.stack.orderAddress);
    harness.producer = await TestProducer.connect();
    harness.orderEvents = await TopicRecorder.start(testTopics.OrderEvents, decodeOrderEvent);
  });
  afterAll(async () => {
    await harness.orderEvents?.stop();
    await harness.producer?.disconnect();
    harness.orders?.close();
    await harness.stack?.stop();
    await harness.db.end();
  });
  return harness;
}
