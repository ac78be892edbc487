import { join } from 'node:path';
import { inventoryV1, orderV1 } from '@flash-sale/contracts';
import { createDatabase } from '@flash-sale/db';
import { createClient } from '@flash-sale/grpc-kit';
import { PgOutboxRelay, PumpLoop, startConsumer } from '@flash-sale/kafka-kit';
import {
  connectKafka,
  lostConnection,
  serve,
  startFoundation,
  startMetrics,
  type RunningService,
} from '@flash-sale/service-kit';
import { Counter } from 'prom-client';
import { orderHandlers } from './api/order-handlers';
import { CancelOrder } from './application/cancel-order';
import { ClaimPayment } from './application/claim-payment';
import { ExpireOrders } from './application/expire-orders';
import { QueryOrders } from './application/query-orders';
import { RecordOrderRequests } from './application/record-order-requests';
import { SettlePayment } from './application/settle-payment';
import type { OrderConfig } from './config';
import { PrismaClient } from './generated/prisma/client';
import { GrpcReservationLookup } from './infrastructure/grpc/grpc-reservation-lookup';
import { deadlineHandler, orderConsumerHandler } from './infrastructure/kafka/order-consumers';
import { PrismaOrderRepository } from './infrastructure/prisma/prisma-order-repository';
import { TimerAlarm } from './infrastructure/timer-alarm';

/** The order service's composition root. */
export async function startOrderService(config: OrderConfig): Promise<RunningService> {
  const foundation = await startFoundation('order', config, join(__dirname, '..', 'prisma', 'migrations'));
  const { logger, ids, shutdown, connection, transport } = foundation;
  const { adapter, sql } = createDatabase(config.DATABASE_URL, {
    max: config.DATABASE_POOL_SIZE,
    onConnectionError: lostConnection(logger),
  });
  const prisma = new PrismaClient({ adapter });
  shutdown.add('postgres', () => prisma.$disconnect());
  const { kafka, producer, topics } = await connectKafka(foundation, config);
  const inventoryClient = createClient(
    inventoryV1.InventoryServiceClient,
    config.INVENTORY_ADDR,
    transport.client('inventory'),
  );
  shutdown.add('inventory client', () => inventoryClient.close());

  const relay = new PgOutboxRelay(sql, producer, logger, { table: `"${connection.schema}"."outbox"` });
  const orders = new PrismaOrderRepository(prisma, sql, ids, topics, relay.nudge);
  const reservations = new GrpcReservationLookup(inventoryClient, config.UPSTREAM_TIMEOUT_MS);

  // Rings when the earliest known deadline comes due and brings the overdue sweep forward to it.
  const alarm =
    config.ORDER_DEADLINE_ALARM === 'on'
      ? new TimerAlarm(() => sweep.nudge(), config.ORDER_SWEEP_INTERVAL_MS)
      : undefined;
  const expire = new ExpireOrders(orders, () => new Date(), alarm);
  const registry = await startMetrics(foundation, config.GRPC_HOST, config.METRICS_PORT);
  const refunds = new Counter({
    name: 'order_payment_refunds_requested_total',
    help: 'Captured payments the order service asked to refund (the order could no longer take them), by reason',
    labelNames: ['order_status'] as const,
    registers: [registry],
  });
  const settle = new SettlePayment(
    orders,
    () => new Date(),
    alarm,
    (order, paymentId, reason) => {
      refunds.inc({ order_status: order.status });
      logger.warn({ orderId: order.id, paymentId, orderStatus: order.status, reason }, 'captured payment to refund');
    },
  );
  const useCases = {
    query: new QueryOrders(orders, reservations),
    cancel: new CancelOrder(orders),
    claim: new ClaimPayment(orders),
    settle,
  };

  relay.start();
  shutdown.add('outbox relay', relay.stop);
  const consumerDefaults = {
    kafka,
    logger,
    deadLetterProducer: producer,
    newGroupStartsAt: config.KAFKA_NEW_GROUP_START,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
  };
  const consumer = await startConsumer({
    ...consumerDefaults,
    groupId: `${config.KAFKA_GROUP_PREFIX}order.requests-and-payments`,
    topics: [topics.OrderRequested, topics.PaymentEvents],
    handler: orderConsumerHandler(new RecordOrderRequests(orders, alarm), settle, topics.OrderRequested, logger),
    concurrency: config.ORDER_CONSUMER_CONCURRENCY,
  });
  shutdown.add('kafka consumer', () => consumer.disconnect());
  const deadlines = await startConsumer({
    ...consumerDefaults,
    groupId: `${config.KAFKA_GROUP_PREFIX}order.deadlines`,
    topics: [topics.OrderDeadlines],
    handler: deadlineHandler(expire, logger),
  });
  shutdown.add('deadline consumer', () => deadlines.disconnect());
  const sweep = new PumpLoop(() => expire.sweep(config.ORDER_SWEEP_BATCH), logger, {
    name: 'overdue order sweep',
    idleMs: config.ORDER_SWEEP_INTERVAL_MS,
  });
  sweep.start();
  shutdown.add('overdue order sweep', async () => {
    alarm?.stop();
    await sweep.stop();
  });
  return serve(
    foundation,
    config,
    [
      {
        name: 'flashsale.order.v1.OrderService',
        definition: orderV1.OrderServiceService,
        implementation: orderHandlers(useCases, logger),
      },
    ],
    registry,
  );
}
