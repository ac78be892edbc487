import { join } from 'node:path';
import { Redis } from 'ioredis';
import { descriptorSetPath, inventoryV1, promotionV1 } from '@flash-sale/contracts';
import { applyMigrations, createPrismaAdapter, parseDatabaseUrl } from '@flash-sale/db';
import { createClient, ShutdownSequence, startGrpcServer } from '@flash-sale/grpc-kit';
import { leaseSnowflake } from '@flash-sale/ids';
import { createLogger } from '@flash-sale/logging';
import { promotionHandlers } from './api/promotion-handlers';
import { CreatePromotion } from './application/create-promotion';
import { PreheatPromotion } from './application/preheat-promotion';
import { QueryPromotions } from './application/query-promotions';
import type { PromotionConfig } from './config';
import { PrismaClient } from './generated/prisma/client';
import { GrpcInventory } from './infrastructure/grpc-inventory';
import { PrismaPromotionRepository } from './infrastructure/prisma-promotion-repository';

export interface RunningService {
  port: number;
  stop(): Promise<void>;
}

/** The promotion service's composition root. */
export async function startPromotionService(config: PromotionConfig): Promise<RunningService> {
  const logger = createLogger({ service: 'promotion', level: config.LOG_LEVEL });
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
  // Redis only leases this process's Snowflake worker id.
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
  shutdown.add('redis', () => redis.disconnect());
  const { ids, lease } = await leaseSnowflake(redis, `promotion:${config.POD_NAME}`, (id) =>
    logger.error({ workerId: id }, 'Snowflake worker lease lost; id generation stops'),
  );
  shutdown.add('worker lease', () => lease.release());
  const inventoryClient = createClient(inventoryV1.InventoryServiceClient, config.INVENTORY_ADDR);
  shutdown.add('inventory client', () => inventoryClient.close());

  const promotions = new PrismaPromotionRepository(prisma);
  const inventory = new GrpcInventory(inventoryClient, config.UPSTREAM_TIMEOUT_MS);
  const clock = () => new Date();
  const useCases = {
    create: new CreatePromotion(promotions, inventory, ids, clock),
    query: new QueryPromotions(promotions, inventory, clock),
    preheat: new PreheatPromotion(promotions, inventory, clock),
  };
  const server = await startGrpcServer({
    host: config.GRPC_HOST,
    port: config.GRPC_PORT,
    descriptorSetPath,
    logger,
    services: [
      {
        name: 'flashsale.promotion.v1.PromotionService',
        definition: promotionV1.PromotionServiceService,
        implementation: promotionHandlers(useCases, logger),
      },
    ],
  });
  shutdown.add('grpc server', () => server.shutdown(config.SHUTDOWN_GRACE_MS));
  return { port: server.port, stop: shutdown.run };
}
