import calculateSlot from 'cluster-key-slot';
import { orderIndexKey, saleKeys } from '../src/domain/sale-keys';
import * as scripts from '../src/infrastructure/redis/scripts';
import { newSale, reserve, startInventory, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  h = await startInventory();
});

afterAll(async () => {
  await h?.stop();
});

describe('Redis Cluster safety', () => {
  it('when the keys of one promotion are hashed, then they all map to one cluster slot, and other promotions spread', () => {
    const slotsOf = (id: string) => new Set(Object.values(saleKeys(id)).map((key) => calculateSlot(key)));
    const ids = ['1', '1795588307823219', '9223372036854775807', '123456789012345678'];

    for (const id of ids) expect(slotsOf(id).size).toBe(1);
    expect(calculateSlot.generateMulti(Object.values(saleKeys(ids[1]!)))).toBe(calculateSlot(`promo:${ids[1]}`));
    expect(new Set(ids.map((id) => [...slotsOf(id)][0])).size).toBeGreaterThan(1);
  });

  it('when a reservation is made, then every key written for the promotion is one of its keys, in its slot', async () => {
    const promotionId = await newSale(h.client, { stock: 5 });
    const o = await reserve(h.client, promotionId, 'slot-checker', 1, 'k');
    if (!o.ok) throw new Error('reserve failed');

    const written: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await h.redis.scan(cursor, 'MATCH', `*${promotionId}*`, 'COUNT', 1_000);
      written.push(...keys);
      cursor = next;
    } while (cursor !== '0');

    const own = Object.values(saleKeys(promotionId));
    // The order index is looked up by order id alone, so it is written outside the scripts, in its own slot.
    expect(written.filter((key) => key !== orderIndexKey(o.response.orderId)).sort()).toEqual([...own].sort());
    expect(new Set(own.map((key) => calculateSlot(key))).size).toBe(1);
  });

  it.each(Object.entries(scripts))(
    'when the %s script calls Redis, then it names keys only through KEYS, as Cluster requires',
    (_, lua) => {
      const calls = [...(lua as string).matchAll(/redis\.call\('(\w+)'(?:, ([^,)]+))?/g)];
      expect(calls.length).toBeGreaterThan(0);
      expect(calls).toHaveLength((lua as string).split('redis.call(').length - 1);
      for (const [, command, firstArg] of calls) {
        if (command === 'TIME') continue;
        expect(`${command} ${firstArg}`).toMatch(/^\w+ KEYS\[(\d|i)\]$/);
      }
    },
  );
});
