import { join } from 'node:path';
import { inventoryV1, orderV1 } from '@flash-sale/contracts';
import { createDatabase } from '@flash-sale/db';
import { createClient, GrpcMetrics } from '@flash-sale/grpc-kit';
import { decompose } from '@flash-sale/ids';
import {
  consumerGroups,
  PgOutboxRelay,
  PumpLoop,
  registerConsumerLag,
  registerOutboxGauges,
  startConsumer,
} from '@flash-sale/kafka-kit';
import {
  connectKafka,
  lostConnection,
  serve,
  startFoundation,
  startMetrics,
  type RunningService,
} from '@flash-sale/service-kit';
import { Counter, Histogram } from 'prom-client';
import { orderHandlers } from './api/order-handlers';
import { CancelOrder } from './application/cancel-order';
import { ClaimPayment } from './application/claim-payment';
import { ExpireOrders } from './application/expire-orders';
import { QueryOrders } from './application/query-orders';
import { RecordOrderRequests } from './application/record-order-requests';
import { SettlePayment } from './application/settle-payment';
import { SummarizeSale } from './application/summarize-sale';
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
  const registry = await startMetrics(foundation, config.GRPC_HOST, config.METRICS_PORT);
  const inventoryClient = createClient(
    inventoryV1.InventoryServiceClient,
    config.INVENTORY_ADDR,
    transport.client('inventory'),
    { metrics: GrpcMetrics.of(registry) },
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
    summarize: new SummarizeSale(orders),
  };

  const acceptToRow = new Histogram({
    name: 'flashsale_order_accept_to_row_seconds',
    help: "From a purchase's acceptance (its order id's Snowflake time) to the commit of its order row",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const rowsCommitted = (created: readonly { id: string }[]) => {
    const now = Date.now();
    for (const order of created) acceptToRow.observe(Math.max(0, now - decompose(order.id).timestampMs) / 1000);
  };
  const groups = consumerGroups(config.KAFKA_GROUP_PREFIX, topics);
  const admin = kafka.admin();
  await admin.connect();
  shutdown.add('kafka admin', () => admin.disconnect());
  registerConsumerLag(registry, admin, Object.values(groups), logger);
  registerOutboxGauges(registry, 'postgres', () => relay.backlog(), logger);

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
    ...groups.OrderRequestsAndPayments,
    handler: orderConsumerHandler(
      new RecordOrderRequests(orders, alarm, rowsCommitted),
      settle,
      topics.OrderRequested,
      logger,
    ),
    concurrency: config.ORDER_CONSUMER_CONCURRENCY,
  });
  shutdown.add('kafka consumer', () => consumer.disconnect());
  const deadlines = await startConsumer({
    ...consumerDefaults,
    ...groups.OrderDeadlines,
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
