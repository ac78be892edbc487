import { createLogger } from '@flash-sale/logging';
import type { Promotion } from '../domain/promotion';
import type { InventoryPort, PromotionRepository } from './ports';
import { PreheatUpcoming } from './preheat-upcoming';

const now = new Date('2026-11-25T12:00:00Z');
const promotion = (id: string): Promotion => ({
  id,
  itemId: 'sku',
  title: 'Sale',
  priceCents: 100n,
  stock: 10,
  perUserLimit: 1,
  startsAt: new Date(now.getTime() + 60_000),
  endsAt: new Date(now.getTime() + 3_600_000),
  paymentTimeoutSeconds: 60,
  createdAt: now,
});

function setUp(failing: string[]) {
  const windows: { after: Date; until: Date }[] = [];
  const prepared: string[] = [];
  const promotions = {
    listStarting: async (window: { after: Date; until: Date }) => {
      windows.push(window);
      return ['1', '2', '3'].map(promotion);
    },
  } as unknown as PromotionRepository;
  const inventory: InventoryPort = {
    prepareSale: async (p) => {
      if (failing.includes(p.id)) throw new Error('inventory unavailable');
      prepared.push(p.id);
      return p.stock;
    },
    availableStock: async () => undefined,
  };
  const logger = createLogger({ service: 'test', level: 'silent' });
  return { windows, prepared, useCase: new PreheatUpcoming(promotions, inventory, () => now, 300_000, logger) };
}

describe('PreheatUpcoming', () => {
  it('asks for the promotions opening after now and within the lead time, and preheats each', async () => {
    const { windows, prepared, useCase } = setUp([]);

    expect(await useCase.run()).toEqual(['1', '2', '3']);

    expect(windows).toEqual([{ after: now, until: new Date(now.getTime() + 300_000) }]);
    expect(prepared).toEqual(['1', '2', '3']);
  });

  it('when one preheat fails, then the others still run and only the failed one is missing from the result', async () => {
    const { prepared, useCase } = setUp(['2']);

    expect(await useCase.run()).toEqual(['1', '3']);
    expect(prepared).toEqual(['1', '3']);
  });
});
