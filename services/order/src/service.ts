import { join } from 'node:path';
import { Redis } from 'ioredis';
import { descriptorSetPath, inventoryV1, orderV1 } from '@flash-sale/contracts';
import { applyMigrations, createPrismaAdapter, parseDatabaseUrl } from '@flash-sale/db';
import { createClient, ShutdownSequence, startGrpcServer } from '@flash-sale/grpc-kit';
import { leaseSnowflake } from '@flash-sale/ids';
import { connectProducer, createKafka, PgOutboxRelay, startConsumer, Topics } from '@flash-sale/kafka-kit';
import { createLogger } from '@flash-sale/logging';
import { orderHandlers } from './api/order-handlers';
import { ApplyPayment } from './application/apply-payment';
import { CancelOrder } from './application/cancel-order';
import { QueryOrders } from './application/query-orders';
import { RecordOrderRequests } from './application/record-order-requests';
import type { OrderConfig } from './config';
import { PrismaClient } from './generated/prisma/client';
import { GrpcReservationLookup } from './infrastructure/grpc/grpc-reservation-lookup';
import { orderConsumerHandler } from './infrastructure/kafka/order-consumers';
import { PrismaOrderRepository } from './infrastructure/prisma/prisma-order-repository';

export interface RunningService {
  port: number;
  stop(): Promise<void>;
}

/** The order service's composition root. */
export async function startOrderService(config: OrderConfig): Promise<RunningService> {
  const logger = createLogger({ service: 'order', level: config.LOG_LEVEL });
  const connection = parseDatabaseUrl(config.DATABASE_URL);
  if (config.MIGRATE_ON_START) {
    await applyMigrations({ migrationsDir: join(__dirname, '..', 'prisma', 'migrations'), connection, logger });
  }
  const shutdown = new ShutdownSequence(logger);
  const prisma = new PrismaClient({
    adapter: createPrismaAdapter(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE }),
  });
  shutdown.add('postgres', () => prisma.$disconnect());
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
  shutdown.add('redis', () => redis.disconnect());
  const { ids, lease } = await leaseSnowflake(redis, `order:${config.POD_NAME}`, (id) =>
    logger.error({ workerId: id }, 'Snowflake worker lease lost; id generation stops'),
  );
  shutdown.add('worker lease', () => lease.release());
  const kafka = createKafka({ clientId: `order-${config.POD_NAME}`, brokers: config.KAFKA_BROKERS, logger });
  const producer = await connectProducer(kafka);
  shutdown.add('kafka producer', () => producer.disconnect());
  const inventoryClient = createClient(inventoryV1.InventoryServiceClient, config.INVENTORY_ADDR);
  shutdown.add('inventory client', () => inventoryClient.close());

  const relay = new PgOutboxRelay(prisma, producer, logger, { table: `"${connection.schema}"."outbox"` });
  const orders = new PrismaOrderRepository(prisma, ids, relay.nudge);
  const reservations = new GrpcReservationLookup(inventoryClient, config.UPSTREAM_TIMEOUT_MS);
  const useCases = { query: new QueryOrders(orders, reservations), cancel: new CancelOrder(orders) };

  relay.start();
  shutdown.add('outbox relay', relay.stop);
  const consumer = await startConsumer({
    kafka,
    groupId: `${config.KAFKA_GROUP_PREFIX}order.requests-and-payments`,
    topics: [Topics.OrderRequested, Topics.PaymentEvents],
    handler: orderConsumerHandler(new RecordOrderRequests(orders), new ApplyPayment(orders), logger),
    logger,
  });
  shutdown.add('kafka consumer', () => consumer.disconnect());
  const server = await startGrpcServer({
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    descriptorSetPath,
    logger,
    services: [
      {
        name: 'flashsale.order.v1.OrderService',
        definition: orderV1.OrderServiceService,
        implementation: orderHandlers(useCases, logger),
      },
    ],
  });
  shutdown.add('grpc server', () => server.shutdown(config.SHUTDOWN_GRACE_MS));
  return { port: server.port, stop: shutdown.run };
}
