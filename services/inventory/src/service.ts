import { join } from 'node:path';
import { inventoryV1 } from '@flash-sale/contracts';
import { createDatabase } from '@flash-sale/db';
import {
  consumerGroups,
  PumpLoop,
  registerConsumerLag,
  registerOutboxGauges,
  startConsumer,
} from '@flash-sale/kafka-kit';
import { Counter } from 'prom-client';
import {
  connectKafka,
  lostConnection,
  serve,
  startFoundation,
  startMetrics,
  type RunningService,
} from '@flash-sale/service-kit';
import { inventoryHandlers } from './api/inventory-handlers';
import { OpenSales } from './application/open-sales';
import { PrepareSale } from './application/prepare-sale';
import { ReconcileSales } from './application/reconcile-sales';
import { QueryStock } from './application/query-stock';
import { ReserveStock } from './application/reserve-stock';
import { SettleReservation } from './application/settle-reservation';
import type { InventoryConfig } from './config';
import { SALE_RETENTION_MS } from './domain/sale';
import { PrismaClient } from './generated/prisma/client';
import { KafkaLedgerProgress } from './infrastructure/kafka/kafka-ledger-progress';
import { ledgerHandler } from './infrastructure/kafka/ledger-consumer';
import { SaleFigures } from './infrastructure/metrics/sale-figures';
import { orderEventsHandler } from './infrastructure/kafka/order-events-consumer';
import { PrismaSaleRepository } from './infrastructure/prisma/prisma-sale-repository';
import { OutboxRelay } from './infrastructure/redis/outbox-relay';
import { checkLazyFree } from './infrastructure/redis/lazy-free';
import { RedisStockCache } from './infrastructure/redis/redis-stock-cache';
import { RedisStockSignals } from './infrastructure/redis/redis-stock-signals';

/** The inventory's composition root: wires the adapters to the use cases and starts serving. */
export async function startInventoryService(config: InventoryConfig): Promise<RunningService> {
  // Auto-pipelining sends the commands of concurrent reservations to Redis in one round trip.
  const foundation = await startFoundation('inventory', config, join(__dirname, '..', 'prisma', 'migrations'), {
    enableAutoPipelining: true,
  });
  const { logger, redis, ids, shutdown } = foundation;
  const { adapter, sql } = createDatabase(config.DATABASE_URL, { onConnectionError: lostConnection(logger) });
  const prisma = new PrismaClient({ adapter });
  shutdown.add('postgres', () => prisma.$disconnect());
  const { kafka, producer, topics } = await connectKafka(foundation, config);

  const sales = new PrismaSaleRepository(prisma, sql);
  const cache = new RedisStockCache(redis);
  void checkLazyFree(redis, logger);
  const relay = new OutboxRelay(redis, producer, logger, {
    topic: topics.OrderRequested,
    consumer: `${config.POD_NAME}-${process.pid}`,
    claimIdleMs: config.RELAY_CLAIM_IDLE_MS,
    listPromotions: () => sales.listOpenSince(new Date(Date.now() - SALE_RETENTION_MS)),
  });
  const groups = consumerGroups(config.KAFKA_GROUP_PREFIX, topics);
  const admin = kafka.admin();
  await admin.connect();
  shutdown.add('kafka admin', () => admin.disconnect());
  const ledgerProgress = new KafkaLedgerProgress(admin, groups.InventoryLedger.groupId, topics.OrderRequested);
  const registry = await startMetrics(foundation, config.GRPC_HOST, config.METRICS_PORT);
  const openSales = new OpenSales(sales);
  const figures = new SaleFigures(registry, openSales, redis, logger);
  const signals = new RedisStockSignals(redis, ids, logger);
  const settle = new SettleReservation(cache, sales, signals);
  const useCases = {
    reserve: new ReserveStock(
      cache,
      ids,
      signals,
      (promotionId) => relay.watch(promotionId),
      config.RESERVE_DURABLE_WAIT_MS > 0
        ? (orderId) => relay.published(orderId, config.RESERVE_DURABLE_WAIT_MS)
        : undefined,
    ),
    prepare: new PrepareSale(sales, cache, ledgerProgress, (terms) => {
      relay.watch(terms.promotionId);
      openSales.note(terms.promotionId, terms.endsAt);
    }),
    query: new QueryStock(sales, cache),
    settle,
  };

  relay.start();
  shutdown.add('outbox relay', relay.stop);
  const ledgerConsumer = await startConsumer({
    kafka,
    ...groups.InventoryLedger,
    handler: ledgerHandler(sales, logger),
    logger,
    deadLetterProducer: producer,
    newGroupStartsAt: config.KAFKA_NEW_GROUP_START,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
  });
  shutdown.add('ledger consumer', () => ledgerConsumer.disconnect());
  const settlementsRefused = new Counter({
    name: 'inventory_settlements_refused_total',
    help: 'Order events whose reservation could not be settled, by reason (OVERSELL_REFUSED: PostgreSQL refused to sell more than the stock)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const consumer = await startConsumer({
    kafka,
    ...groups.InventoryOrderEvents,
    handler: orderEventsHandler(settle, logger, (reason) => settlementsRefused.inc({ reason })),
    logger,
    deadLetterProducer: producer,
    newGroupStartsAt: config.KAFKA_NEW_GROUP_START,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
  });
  shutdown.add('order events consumer', () => consumer.disconnect());

  registerOutboxGauges(registry, 'redis_stream', () => relay.backlog(), logger);
  registerConsumerLag(registry, admin, Object.values(groups), logger);
  const passes = new Counter({
    name: 'inventory_reconcile_passes_total',
    help: 'Reconciliation passes completed: full (every open sale whole) or changes (ledger entries changed since)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const reconcile = new ReconcileSales(
    sales,
    cache,
    ledgerProgress,
    logger,
    { fullEveryMs: config.RECONCILE_FULL_INTERVAL_MS, overlapMs: config.RECONCILE_OVERLAP_MS },
    {
      report: (found) => figures.drift(found),
      passed: ({ kind, sales: open, ms }) => {
        passes.inc({ kind });
        if (kind === 'full') logger.info({ sales: open, ms: Math.round(ms) }, 'full reconciliation pass done');
      },
    },
  );
  const reconciler = new PumpLoop(async () => (await reconcile.run(), 0), logger, {
    name: 'inventory reconciler',
    idleMs: config.RECONCILE_INTERVAL_MS,
  });
  reconciler.start();
  shutdown.add('reconciler', reconciler.stop);
  return serve(
    foundation,
    config,
    [
      {
        name: 'flashsale.inventory.v1.InventoryService',
        definition: inventoryV1.InventoryServiceService,
        implementation: inventoryHandlers(useCases, logger, (outcomes) => figures.count(outcomes)),
      },
    ],
    registry,
  );
}
