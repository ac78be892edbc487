import type { Redis } from 'ioredis';
import { INVENTORY_EVENTS_CHANNEL, inventoryEventsV1 } from '@flash-sale/contracts';
import type { Logger } from '@flash-sale/logging';
import type { IdGenerator, StockSignals } from '../../application/ports';

/** Repeats of the same sold-out signal closer together than this are dropped: one is enough for every gateway. */
export const SOLD_OUT_REPEAT_MS = 250;

/**
 * Publishes stock signals on Redis pub/sub, where every gateway listens. Fire and forget: a lost signal only
 * costs a gateway one extra call to inventory (or, for "available", one sold-out TTL), never correctness.
 */
export class RedisStockSignals implements StockSignals {
  private readonly lastSoldOut = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly ids: IdGenerator,
    private readonly logger: Logger,
  ) {}

  soldOut(promotionId: string): void {
    const now = Date.now();
    if (now - (this.lastSoldOut.get(promotionId) ?? 0) < SOLD_OUT_REPEAT_MS) return;
    this.lastSoldOut.set(promotionId, now);
    this.publish({ $case: 'soldOut', value: { promotionId } });
  }

  available(promotionId: string, availableStock: number): void {
    this.lastSoldOut.delete(promotionId);
    this.publish({ $case: 'stockAvailable', value: { promotionId, availableStock } });
  }

  private publish(kind: inventoryEventsV1.InventoryEvent['kind']) {
    const event = inventoryEventsV1.InventoryEvent.fromPartial({
      eventId: this.ids.next(),
      occurTime: new Date(),
      kind,
    });
    this.redis
      .publish(INVENTORY_EVENTS_CHANNEL, Buffer.from(inventoryEventsV1.InventoryEvent.encode(event).finish()))
      .catch((error: unknown) => this.logger.warn({ err: error }, 'stock signal not published'));
  }
}
