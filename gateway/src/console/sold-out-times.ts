import type { inventoryEventsV1 } from '@flash-sale/contracts';

/**
 * When each sale sold out, from inventory's SoldOut signal (its own time of the event: the mesh's moment, not when
 * this replica heard of it). A StockAvailable signal (a release) opens the sale again and forgets the time. Bounded:
 * the oldest entries go first.
 */
export class SoldOutTimes {
  private readonly times = new Map<string, Date>();

  constructor(
    private readonly max = 256,
    private readonly now: () => number = Date.now,
  ) {}

  apply(event: inventoryEventsV1.InventoryEvent): void {
    if (event.kind?.$case === 'soldOut') {
      const id = event.kind.value.promotionId;
      if (this.times.has(id)) return;
      if (this.times.size >= this.max) this.times.delete(this.times.keys().next().value!);
      this.times.set(id, event.occurTime ?? new Date(this.now()));
    } else if (event.kind?.$case === 'stockAvailable') {
      this.times.delete(event.kind.value.promotionId);
    }
  }

  get(promotionId: string): Date | undefined {
    return this.times.get(promotionId);
  }
}
