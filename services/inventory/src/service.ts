import { join } from 'node:path';
import { inventoryV1 } from '@flash-sale/contracts';
import { createPrismaAdapter } from '@flash-sale/db';
import { startConsumer, Topics } from '@flash-sale/kafka-kit';
import { connectKafka, serve, startFoundation, type RunningService } from '@flash-sale/service-kit';
import { inventoryHandlers } from './api/inventory-handlers';
import { PrepareSale } from './application/prepare-sale';
import { QueryStock } from './application/query-stock';
import { ReserveStock } from './application/reserve-stock';
import { SettleReservation } from './application/settle-reservation';
import type { InventoryConfig } from './config';
import { SALE_RETENTION_MS } from './domain/sale';
import { PrismaClient } from './generated/prisma/client';
import { orderEventsHandler } from './infrastructure/kafka/order-events-consumer';
import { PrismaSaleRepository } from './infrastructure/prisma/prisma-sale-repository';
import { OutboxRelay } from './infrastructure/redis/outbox-relay';
import { RedisStockCache } from './infrastructure/redis/redis-stock-cache';
import { RedisStockSignals } from './infrastructure/redis/redis-stock-signals';

/** The inventory's composition root: wires the adapters to the use cases and starts serving. */
export async function startInventoryService(config: InventoryConfig): Promise<RunningService> {
  // Auto-pipelining sends the commands of concurrent reservations to Redis in one round trip.
  const foundation = await startFoundation('inventory', config, join(__dirname, '..', 'prisma', 'migrations'), {
    enableAutoPipelining: true,
  });
  const { logger, redis, ids, shutdown } = foundation;
  const prisma = new PrismaClient({ adapter: createPrismaAdapter(config.DATABASE_URL) });
  shutdown.add('postgres', () => prisma.$disconnect());
  const { kafka, producer } = await connectKafka(foundation, config.KAFKA_BROKERS, config.POD_NAME);

  const sales = new PrismaSaleRepository(prisma);
  const cache = new RedisStockCache(redis);
  const relay = new OutboxRelay(redis, producer, logger, {
    consumer: `${config.POD_NAME}-${process.pid}`,
    claimIdleMs: config.RELAY_CLAIM_IDLE_MS,
    listPromotions: () => sales.listOpenSince(new Date(Date.now() - SALE_RETENTION_MS)),
  });
  const signals = new RedisStockSignals(redis, ids, logger);
  const settle = new SettleReservation(cache, sales, signals);
  const useCases = {
    reserve: new ReserveStock(cache, ids, signals),
    prepare: new PrepareSale(sales, cache, (promotionId) => relay.watch(promotionId)),
    query: new QueryStock(sales, cache),
    settle,
  };

  relay.start();
  shutdown.add('outbox relay', relay.stop);
  const consumer = await startConsumer({
    kafka,
    groupId: `${config.KAFKA_GROUP_PREFIX}inventory.order-events`,
    topics: [Topics.OrderEvents],
    handler: orderEventsHandler(settle, logger),
    logger,
  });
  shutdown.add('order events consumer', () => consumer.disconnect());
  return serve(foundation, config, [
    {
      name: 'flashsale.inventory.v1.InventoryService',
      definition: inventoryV1.InventoryServiceService,
      implementation: inventoryHandlers(useCases, logger),
    },
  ]);
}
