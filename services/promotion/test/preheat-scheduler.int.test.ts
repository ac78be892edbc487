import { Metadata } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { promotionV1 } from '@flash-sale/contracts';
import { callerMetadata, callUnary } from '@flash-sale/grpc-kit';
import { infra, meshClient, serviceEnv, waitFor } from '@flash-sale/testing';
import type { RunningService } from '@flash-sale/service-kit';
import { loadInventoryConfig } from '../../inventory/src/config';
import { saleKeys } from '../../inventory/src/domain/sale-keys';
import { startInventoryService } from '../../inventory/src/service';
import { loadPromotionConfig } from '../src/config';
import { startPromotionService } from '../src/service';

let inventory: RunningService;
let promotion: RunningService;
let client: promotionV1.PromotionServiceClient;
const redis = new Redis(infra.redisUrl);

beforeAll(async () => {
  inventory = await startInventoryService(loadInventoryConfig(serviceEnv('inventory')));
  promotion = await startPromotionService(
    loadPromotionConfig(
      serviceEnv('promotion', {
        INVENTORY_ADDR: `127.0.0.1:${inventory.port}`,
        PREHEAT_LEAD_MS: String(5 * 60_000),
        PREHEAT_INTERVAL_MS: '200',
      }),
    ),
  );
  client = meshClient(promotionV1.PromotionServiceClient, `127.0.0.1:${promotion.port}`);
});

afterAll(async () => {
  client?.close();
  redis.disconnect();
  await promotion?.stop();
  await inventory?.stop();
});

async function createStartingIn(ms: number, stock: number): Promise<string> {
  const startsAt = new Date(Date.now() + ms);
  const created = await callUnary(
    client.createPromotion,
    client,
    promotionV1.CreatePromotionRequest.fromPartial({
      itemId: 'sku-preheat',
      title: 'Preheat test',
      priceCents: '1000',
      stock,
      perUserLimit: 1,
      startsAt,
      endsAt: new Date(startsAt.getTime() + 3_600_000),
      paymentTimeoutSeconds: 60,
    }),
    { timeoutMs: 10_000, metadata: callerMetadata({ userId: 'admin', roles: ['admin'] }, new Metadata()) },
  );
  return created.promotion!.promotionId;
}

const wipe = (promotionId: string) => redis.del(...Object.values(saleKeys(promotionId)));

describe('scheduled preheat', () => {
  it('when Redis lost a sale that opens within the lead time, then the scheduler rebuilds it before the start', async () => {
    const soon = await createStartingIn(60_000, 40);
    const later = await createStartingIn(30 * 60_000, 40);
    await wipe(soon);
    await wipe(later);

    // A rebuild seeds the stock, merges the ledger, then writes the terms that open the sale: wait for the last.
    await waitFor(async () => (await redis.exists(saleKeys(soon).meta)) === 1, {
      what: 'the terms of the sale opening soon',
    });

    expect(await redis.get(saleKeys(soon).stock)).toBe('40');
    // A sale opening after the lead time is left alone until it comes within it.
    expect(await redis.exists(saleKeys(later).stock, saleKeys(later).meta)).toBe(0);
  });
});
