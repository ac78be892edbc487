import { join } from 'node:path';
import { Redis } from 'ioredis';
import { descriptorSetPath, inventoryV1 } from '@flash-sale/contracts';
import { applyMigrations, createPrismaAdapter, parseDatabaseUrl } from '@flash-sale/db';
import { ShutdownSequence, startGrpcServer } from '@flash-sale/grpc-kit';
import { leaseSnowflake } from '@flash-sale/ids';
import { connectProducer, createKafka, startConsumer, Topics } from '@flash-sale/kafka-kit';
import { createLogger } from '@flash-sale/logging';
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

export interface RunningService {
  port: number;
  stop(): Promise<void>;
}

/** The inventory's composition root: wires the adapters to the use cases and starts serving. */
export async function startInventoryService(config: InventoryConfig): Promise<RunningService> {
  const logger = createLogger({ service: 'inventory', level: config.LOG_LEVEL });
  if (config.MIGRATE_ON_START) {
    await applyMigrations({
      migrationsDir: join(__dirname, '..', 'prisma', 'migrations'),
      connection: parseDatabaseUrl(config.DATABASE_URL),
      logger,
    });
  }
  const shutdown = new ShutdownSequence(logger);
  const prisma = new PrismaClient({ adapter: createPrismaAdapter(config.DATABASE_URL) });
  shutdown.add('postgres', () => prisma.$disconnect());
  // Auto-pipelining sends the commands of concurrent reservations in one round trip.
  const redis = new Redis(config.REDIS_URL, { enableAutoPipelining: true, maxRetriesPerRequest: 2 });
  shutdown.add('redis', () => redis.disconnect());
  const { ids, lease } = await leaseSnowflake(redis, `inventory:${config.POD_NAME}`, (id) =>
    logger.error({ workerId: id }, 'Snowflake worker lease lost; id generation stops'),
  );
  shutdown.add('worker lease', () => lease.release());
  const kafka = createKafka({ clientId: `inventory-${config.POD_NAME}`, brokers: config.KAFKA_BROKERS, logger });
  const producer = await connectProducer(kafka);
  shutdown.add('kafka producer', () => producer.disconnect());

  const sales = new PrismaSaleRepository(prisma);
  const cache = new RedisStockCache(redis);
  const relay = new OutboxRelay(redis, producer, logger, {
    consumer: `${config.POD_NAME}-${lease.id}`,
    claimIdleMs: config.RELAY_CLAIM_IDLE_MS,
    listPromotions: () => sales.listOpenSince(new Date(Date.now() - SALE_RETENTION_MS)),
  });
  const settle = new SettleReservation(cache, sales);
  const useCases = {
    reserve: new ReserveStock(cache, ids),
    prepare: new PrepareSale(sales, cache, (promotionId) => relay.watch(promotionId)),
    query: new QueryStock(sales, cache),
    settle,
  };

  relay.start();
  shutdown.add('outbox relay', () => relay.stop());
  const consumer = await startConsumer({
    kafka,
    groupId: `${config.KAFKA_GROUP_PREFIX}inventory.order-events`,
    topics: [Topics.OrderEvents],
    handler: orderEventsHandler(settle, logger),
    logger,
  });
  shutdown.add('order events consumer', () => consumer.disconnect());
  const server = await startGrpcServer({
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    descriptorSetPath,
    logger,
    services: [
      {
        name: 'flashsale.inventory.v1.InventoryService',
        definition: inventoryV1.InventoryServiceService,
        implementation: inventoryHandlers(useCases, logger),
      },
    ],
  });

  shutdown.add('grpc server', () => server.shutdown(config.SHUTDOWN_GRACE_MS));
  return { port: server.port, stop: shutdown.run };
}
