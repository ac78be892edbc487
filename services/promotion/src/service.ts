import { join } from 'node:path';
import { inventoryV1, promotionV1 } from '@flash-sale/contracts';
import { createPrismaAdapter } from '@flash-sale/db';
import { createClient, GrpcMetrics } from '@flash-sale/grpc-kit';
import { PumpLoop } from '@flash-sale/kafka-kit';
import { lostConnection, serve, startFoundation, startMetrics, type RunningService } from '@flash-sale/service-kit';
import { promotionHandlers } from './api/promotion-handlers';
import { CreatePromotion } from './application/create-promotion';
import { PreheatPromotion } from './application/preheat-promotion';
import { PreheatUpcoming } from './application/preheat-upcoming';
import { QueryPromotions } from './application/query-promotions';
import type { PromotionConfig } from './config';
import { PrismaClient } from './generated/prisma/client';
import { GrpcInventory } from './infrastructure/grpc-inventory';
import { PrismaPromotionRepository } from './infrastructure/prisma-promotion-repository';

/** The promotion service's composition root. */
export async function startPromotionService(config: PromotionConfig): Promise<RunningService> {
  const foundation = await startFoundation('promotion', config, join(__dirname, '..', 'prisma', 'migrations'));
  const { logger, ids, shutdown, transport } = foundation;
  const prisma = new PrismaClient({
    adapter: createPrismaAdapter(config.DATABASE_URL, { onConnectionError: lostConnection(logger) }),
  });
  shutdown.add('postgres', () => prisma.$disconnect());
  const registry = await startMetrics(foundation, config.GRPC_HOST, config.METRICS_PORT);
  const inventoryClient = createClient(
    inventoryV1.InventoryServiceClient,
    config.INVENTORY_ADDR,
    transport.client('inventory'),
    { metrics: GrpcMetrics.of(registry) },
  );
  shutdown.add('inventory client', () => inventoryClient.close());

  const promotions = new PrismaPromotionRepository(prisma);
  const inventory = new GrpcInventory(inventoryClient, config.UPSTREAM_TIMEOUT_MS);
  const clock = () => new Date();
  const useCases = {
    create: new CreatePromotion(promotions, inventory, ids, clock),
    query: new QueryPromotions(promotions, inventory, clock),
    preheat: new PreheatPromotion(promotions, inventory, clock),
  };
  const upcoming = new PreheatUpcoming(promotions, inventory, clock, config.PREHEAT_LEAD_MS, logger);
  const scheduler = new PumpLoop(
    async () => {
      await upcoming.run();
      return 0; // always wait a full interval: the next pass preheats the same promotions again
    },
    logger,
    { name: 'preheat scheduler', idleMs: config.PREHEAT_INTERVAL_MS },
  );
  scheduler.start();
  shutdown.add('preheat scheduler', scheduler.stop);
  return serve(
    foundation,
    config,
    [
      {
        name: 'flashsale.promotion.v1.PromotionService',
        definition: promotionV1.PromotionServiceService,
        implementation: promotionHandlers(useCases, logger),
      },
    ],
    registry,
  );
}
