import { join } from 'node:path';
import { Redis } from 'ioredis';
import { descriptorSetPath, orderV1, paymentV1 } from '@flash-sale/contracts';
import { applyMigrations, createPrismaAdapter, parseDatabaseUrl } from '@flash-sale/db';
import { createClient, ShutdownSequence, startGrpcServer } from '@flash-sale/grpc-kit';
import { leaseSnowflake } from '@flash-sale/ids';
import { connectProducer, createKafka, PgOutboxRelay, startConsumer, Topics } from '@flash-sale/kafka-kit';
import { createLogger } from '@flash-sale/logging';
import { paymentHandlers } from './api/payment-handlers';
import { PayOrder } from './application/pay-order';
import { RefundPayment } from './application/refund-payment';
import type { PaymentConfig } from './config';
import { PrismaClient } from './generated/prisma/client';
import { GrpcOrderLookup } from './infrastructure/grpc/grpc-order-lookup';
import { orderRefundsHandler } from './infrastructure/kafka/order-refunds-consumer';
import { PrismaPaymentRepository } from './infrastructure/prisma/prisma-payment-repository';
import { SimulatedProvider } from './infrastructure/simulated-provider';

export interface RunningService {
  port: number;
  stop(): Promise<void>;
}

/** The payment service's composition root. */
export async function startPaymentService(config: PaymentConfig): Promise<RunningService> {
  const logger = createLogger({ service: 'payment', level: config.LOG_LEVEL });
  const connection = parseDatabaseUrl(config.DATABASE_URL);
  if (config.MIGRATE_ON_START) {
    await applyMigrations({ migrationsDir: join(__dirname, '..', 'prisma', 'migrations'), connection, logger });
  }
  const shutdown = new ShutdownSequence(logger);
  const prisma = new PrismaClient({ adapter: createPrismaAdapter(config.DATABASE_URL) });
  shutdown.add('postgres', () => prisma.$disconnect());
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
  shutdown.add('redis', () => redis.disconnect());
  const { ids, lease } = await leaseSnowflake(redis, `payment:${config.POD_NAME}`, (id) =>
    logger.error({ workerId: id }, 'Snowflake worker lease lost; id generation stops'),
  );
  shutdown.add('worker lease', () => lease.release());
  const kafka = createKafka({ clientId: `payment-${config.POD_NAME}`, brokers: config.KAFKA_BROKERS, logger });
  const producer = await connectProducer(kafka);
  shutdown.add('kafka producer', () => producer.disconnect());
  const orderClient = createClient(orderV1.OrderServiceClient, config.ORDER_ADDR);
  shutdown.add('order client', () => orderClient.close());

  const relay = new PgOutboxRelay(prisma, producer, logger, { table: `"${connection.schema}"."outbox"` });
  const payments = new PrismaPaymentRepository(prisma, ids, relay.nudge);
  const provider = new SimulatedProvider({
    latencyMs: config.PROVIDER_LATENCY_MS,
    failureRate: config.PROVIDER_FAILURE_RATE,
  });
  const pay = new PayOrder(payments, new GrpcOrderLookup(orderClient, config.UPSTREAM_TIMEOUT_MS), provider, ids);

  relay.start();
  shutdown.add('outbox relay', relay.stop);
  const consumer = await startConsumer({
    kafka,
    groupId: `${config.KAFKA_GROUP_PREFIX}payment.order-refunds`,
    topics: [Topics.OrderEvents],
    handler: orderRefundsHandler(new RefundPayment(payments, provider), logger),
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
        name: 'flashsale.payment.v1.PaymentService',
        definition: paymentV1.PaymentServiceService,
        implementation: paymentHandlers({ pay, payments }, logger),
      },
    ],
  });
  shutdown.add('grpc server', () => server.shutdown(config.SHUTDOWN_GRACE_MS));
  return { port: server.port, stop: shutdown.run };
}
