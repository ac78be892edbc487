import { Redis } from 'ioredis';
import { INVENTORY_EVENTS_CHANNEL, inventoryEventsV1 } from '@flash-sale/contracts';
import { infra, waitFor } from '@flash-sale/testing';
import { SOLD_OUT_REPEAT_MS } from '../src/infrastructure/redis/redis-stock-signals';
import { newSale, reserve, startInventory, type Harness } from './support';

let h: Harness;
let subscriber: Redis;
/** Sold-out signals heard on inventory's channel, by promotion, and when the last one was. */
const heard = new Map<string, number>();
const lastHeardAt = new Map<string, number>();

beforeAll(async () => {
  h = await startInventory();
  subscriber = new Redis(infra.redisUrl);
  subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
    const event = inventoryEventsV1.InventoryEvent.decode(message);
    if (event.kind?.$case !== 'soldOut') return;
    const { promotionId } = event.kind.value;
    heard.set(promotionId, (heard.get(promotionId) ?? 0) + 1);
    lastHeardAt.set(promotionId, Date.now());
  });
  await subscriber.subscribe(INVENTORY_EVENTS_CHANNEL);
});

afterAll(async () => {
  subscriber?.disconnect();
  await h?.stop();
});

/**
 * Past the repeat window of the promotion's last signal (the window opened before the signal was heard), so that a
 * call that signals is heard again.
 */
const pastRepeatWindow = (promotionId: string) =>
  waitFor(async () => Date.now() > (lastHeardAt.get(promotionId) ?? 0) + SOLD_OUT_REPEAT_MS, {
    what: 'the repeat window to pass',
  });

/**
 * Sells out a sale of its own and waits to hear it: the service publishes its signals on one Redis connection and
 * the channel delivers them in order, so every signal the calls before it caused has been heard by then.
 */
async function hearSignalBehind() {
  const marker = await newSale(h.client, { stock: 1, perUserLimit: 1 });
  await reserve(h.client, marker, 'marker-buyer', 1, 'marker-1');
  await waitFor(async () => heard.has(marker), { what: 'the sold-out signal of a later sale' });
}

async function signalsAfter(promotionId: string, act: () => Promise<unknown>): Promise<number> {
  await pastRepeatWindow(promotionId);
  const before = heard.get(promotionId) ?? 0;
  await act();
  await hearSignalBehind();
  return (heard.get(promotionId) ?? 0) - before;
}

const rejection = async (promise: ReturnType<typeof reserve>) => {
  const result = await promise;
  return result.ok ? 'RESERVED' : result.failure.info?.reason;
};

describe('the sold-out signal gateways refresh their sold-out sets from', () => {
  it('when a buyer at the purchase limit reaches a sold-out sale, then the sale is signalled sold out again', async () => {
    const promotionId = await newSale(h.client, { stock: 1, perUserLimit: 1 });
    expect(await signalsAfter(promotionId, () => reserve(h.client, promotionId, 'alice', 1, 'a-1'))).toBe(1);
    // A buyer who never bought hears SOLD_OUT, and the sale is signalled again (a gateway did not know yet).
    let answer: string | undefined;
    const bob = await signalsAfter(promotionId, async () => {
      answer = await rejection(reserve(h.client, promotionId, 'bob', 1, 'b-1'));
    });
    expect([answer, bob]).toEqual(['SOLD_OUT', 1]);
    // The buyer who bought, pressing buy again with a new key, still hears PURCHASE_LIMIT_REACHED (the limit is
    // checked first), and the sale is signalled too: after a sell-out these are most of the buyers who still come.
    const alice = await signalsAfter(promotionId, async () => {
      answer = await rejection(reserve(h.client, promotionId, 'alice', 1, 'a-2'));
    });
    expect([answer, alice]).toEqual(['PURCHASE_LIMIT_REACHED', 1]);
  });

  it('when a buyer at the purchase limit comes while stock is left, then nothing is signalled', async () => {
    const promotionId = await newSale(h.client, { stock: 5, perUserLimit: 1 });
    await reserve(h.client, promotionId, 'carol', 1, 'c-1');
    let answer: string | undefined;
    const carol = await signalsAfter(promotionId, async () => {
      answer = await rejection(reserve(h.client, promotionId, 'carol', 1, 'c-2'));
    });
    expect([answer, carol]).toEqual(['PURCHASE_LIMIT_REACHED', 0]);
  });
});
