import { sizeSale, type MeasuredCosts } from './cost-model';

const costs: MeasuredCosts = {
  purchase: { gateway: 0.5, inventory: 0.25, order: 0.14, redis: 0.08, postgres: 0.1, kafka: 0.1, load: 0.07 },
  refusal: { gateway: 0.2, inventory: 0.01, order: 0.01, redis: 0.004, postgres: -0.01, load: 0.05 },
  reservesPerRedisCore: 30_000,
};

describe('the cost model', () => {
  it("caps a sale's purchases at what its Redis slot runs, and answers the rest from memory", () => {
    const sizing = sizeSale({ buyers: 1_000_000, seconds: 10, units: 100_000 }, costs);
    expect(sizing).toMatchObject({
      arrivalsPerSecond: 100_000,
      purchasesPerSecond: 21_000,
      overflowPerSecond: 79_000,
      stockSeconds: 4.8,
    });
    // 21,000 × 0.5 ms + 79,000 × 0.2 ms = 26.3 cores at the peak; 100,000 × 0.2 = 20 after the sell-out.
    expect(sizing.cores.gateway).toEqual({ peak: 26.3, soldOut: 20 });
    expect(sizing.pods.gateway).toBe(38);
    // Only the gateway and Redis work per refusal; a negative sample never lowers a cost.
    expect(sizing.cores.inventory).toEqual({ peak: 5.3, soldOut: 0 });
    expect(sizing.cores.postgres).toEqual({ peak: 2.1, soldOut: 0 });
    expect(sizing.cores.load).toBeUndefined();
    expect(sizing.redisPrimaries.sale).toBe(1);
    expect(sizing.kafkaPartitions).toBeGreaterThanOrEqual(sizing.pods.order);
  });

  it('sells at the arrival rate when the slot keeps up', () => {
    const sizing = sizeSale({ buyers: 10_000, seconds: 10, units: 500 }, costs);
    expect(sizing).toMatchObject({ purchasesPerSecond: 1_000, overflowPerSecond: 0, stockSeconds: 0.5 });
    expect(sizing.pods).toEqual({ gateway: 2, inventory: 2, order: 2 });
  });
});
