import type { Redis } from 'ioredis';
import { INVENTORY_EVENTS_CHANNEL, inventoryEventsV1 } from '@flash-sale/contracts';
import type { Logger } from '@flash-sale/logging';

/**
 * The promotions this gateway knows are sold out, so buyers of those hear 409 SOLD_OUT from memory, without a
 * gRPC call. Fed by inventory's pub/sub signals and by SOLD_OUT answers from inventory itself. Entries expire
 * after `ttlMs`, and the whole set is dropped when the subscription reconnects: a missed "available again"
 * signal can only delay buyers by one TTL, never lock them out.
 */
export class SoldOutSet {
  private readonly soldOut = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  has(promotionId: string): boolean {
    const until = this.soldOut.get(promotionId);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.soldOut.delete(promotionId);
    return false;
  }

  add(promotionId: string): void {
    this.soldOut.set(promotionId, this.now() + this.ttlMs);
  }

  delete(promotionId: string): void {
    this.soldOut.delete(promotionId);
  }

  clear(): void {
    this.soldOut.clear();
  }

  /** Applies one InventoryEvent. */
  apply(event: inventoryEventsV1.InventoryEvent): void {
    if (event.kind?.$case === 'soldOut') this.add(event.kind.value.promotionId);
    else if (event.kind?.$case === 'stockAvailable') this.delete(event.kind.value.promotionId);
  }

  /**
   * Subscribes `subscriber` (a dedicated connection) to inventory's channel; resolves once subscribed. `also` sees
   * every event too (the console's sold-out times).
   */
  async follow(
    subscriber: Redis,
    logger: Logger,
    also: (event: inventoryEventsV1.InventoryEvent) => void = () => undefined,
  ): Promise<void> {
    subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
      try {
        const event = inventoryEventsV1.InventoryEvent.decode(message);
        this.apply(event);
        also(event);
      } catch (error) {
        logger.warn({ err: error }, 'undecodable inventory event ignored');
      }
    });
    // Anything published while we were disconnected is lost: forget what we knew.
    subscriber.on('ready', () => this.clear());
    await subscriber.subscribe(INVENTORY_EVENTS_CHANNEL);
  }
}
