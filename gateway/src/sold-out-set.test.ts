import { inventoryEventsV1 } from '@flash-sale/contracts';
import { SoldOutSet } from './sold-out-set';

const event = (kind: inventoryEventsV1.InventoryEvent['kind']) =>
  inventoryEventsV1.InventoryEvent.fromPartial({ eventId: '1', kind });

describe('SoldOutSet', () => {
  it('when a SoldOut signal arrives, then the promotion is sold out until a StockAvailable signal', () => {
    const set = new SoldOutSet(60_000);
    set.apply(event({ $case: 'soldOut', value: { promotionId: '7' } }));
    expect(set.has('7')).toBe(true);
    expect(set.has('8')).toBe(false);
    set.apply(event({ $case: 'stockAvailable', value: { promotionId: '7', availableStock: 1 } }));
    expect(set.has('7')).toBe(false);
  });

  it('when the TTL passes without news, then buyers go to inventory again', () => {
    let now = 1_000;
    const set = new SoldOutSet(5_000, () => now);
    set.add('7');
    now += 4_999;
    expect(set.has('7')).toBe(true);
    now += 2;
    expect(set.has('7')).toBe(false);
  });

  it('when cleared (a reconnect), then nothing is remembered', () => {
    const set = new SoldOutSet(60_000);
    set.add('7');
    set.clear();
    expect(set.has('7')).toBe(false);
  });
});
