import { status } from '@grpc/grpc-js';
import { inventoryV1 } from '@flash-sale/contracts';
import { saleKeys } from '../src/domain/sale-keys';
import { call, getStock, newSale, outcome, reserve, saleRow, startInventory, type Harness } from './support';

let h: Harness;

beforeAll(async () => {
  // Release and Confirm are driven by order events; the allow-list lets no workload call them over gRPC (see
  // deploy/helm/flash-sale/files/access-policy.yaml). These tests call them to check the handlers, so without mTLS.
  h = await startInventory({ MTLS_MODE: 'off' });
});

afterAll(async () => {
  await h?.stop();
});

const { RESERVATION_STATUS_RELEASED: RELEASED, RESERVATION_STATUS_CONFIRMED: CONFIRMED } =
  inventoryV1.ReservationStatus;
const EXPIRED = inventoryV1.ReleaseReason.RELEASE_REASON_EXPIRED;

async function reserved(promotionId: string, userId: string, quantity: number, key: string) {
  const o = await reserve(h.client, promotionId, userId, quantity, key);
  if (!o.ok) throw new Error(`reserve failed: ${JSON.stringify(o.failure)}`);
  return o.response.orderId;
}

const release = (orderId: string) => call(h.client, h.client.release, { orderId, reason: EXPIRED });
const confirm = (orderId: string) => call(h.client, h.client.confirm, { orderId });
const reservation = async (orderId: string) => (await call(h.client, h.client.getReservation, { orderId })).reservation;

describe('release and confirm', () => {
  it('when a reservation is released twice, then stock and the quota come back once and the second call says released=false', async () => {
    const promotionId = await newSale(h.client, { stock: 10, perUserLimit: 2 });
    const orderId = await reserved(promotionId, 'erin', 2, 'first');
    expect(await getStock(h.client, promotionId)).toMatchObject({ availableStock: 8, reserved: 2 });

    expect(await release(orderId)).toEqual({ released: true });
    expect(await release(orderId)).toEqual({ released: false });

    const keys = saleKeys(promotionId);
    expect(await h.redis.get(keys.stock)).toBe('10');
    expect(await h.redis.hget(keys.users, 'erin')).toBe('0');
    expect((await reservation(orderId))?.status).toBe(RELEASED);
    expect(await getStock(h.client, promotionId)).toMatchObject({ availableStock: 10, reserved: 0, sold: 0 });
    // The quota is really back: the same buyer may buy the full limit again.
    await reserved(promotionId, 'erin', 2, 'second');
  });

  it('when a reservation is confirmed twice, then sold grows once in PostgreSQL and GetStock shows it as sold', async () => {
    const promotionId = await newSale(h.client, { stock: 10, perUserLimit: 3 });
    const orderId = await reserved(promotionId, 'frank', 3, 'buy');
    await reserved(promotionId, 'grace', 1, 'buy');

    expect(await confirm(orderId)).toEqual({ confirmed: true });
    expect(await confirm(orderId)).toEqual({ confirmed: false });

    expect(await saleRow(promotionId)).toMatchObject({ total_stock: 10, sold: 3 });
    expect((await reservation(orderId))?.status).toBe(CONFIRMED);
    expect(await getStock(h.client, promotionId)).toEqual({
      promotionId,
      totalStock: 10,
      availableStock: 6,
      sold: 3,
      reserved: 1,
    });
    // Bought units still count against the buyer's limit.
    expect(await h.redis.hget(saleKeys(promotionId).users, 'frank')).toBe('3');
  });

  it('when a confirmed reservation is released, then nothing comes back (released=false)', async () => {
    const promotionId = await newSale(h.client, { stock: 5, perUserLimit: 1 });
    const orderId = await reserved(promotionId, 'heidi', 1, 'buy');
    await confirm(orderId);

    expect(await release(orderId)).toEqual({ released: false });

    expect(await h.redis.get(saleKeys(promotionId).stock)).toBe('4');
    expect((await reservation(orderId))?.status).toBe(CONFIRMED);
    expect(await saleRow(promotionId)).toMatchObject({ sold: 1 });
  });

  it('when a released reservation is confirmed, then nothing is counted as sold (confirmed=false)', async () => {
    const promotionId = await newSale(h.client, { stock: 5, perUserLimit: 1 });
    const orderId = await reserved(promotionId, 'ivan', 1, 'buy');
    await release(orderId);

    expect(await confirm(orderId)).toEqual({ confirmed: false });
    expect(await saleRow(promotionId)).toMatchObject({ sold: 0 });
    expect((await reservation(orderId))?.status).toBe(RELEASED);
    expect(await getStock(h.client, promotionId)).toMatchObject({ availableStock: 5, sold: 0, reserved: 0 });
  });

  it('when release and confirm race on the same orders, then each order is either released or sold, never both', async () => {
    const promotionId = await newSale(h.client, { stock: 20, perUserLimit: 1 });
    const orders = await Promise.all(Array.from({ length: 20 }, (_, i) => reserved(promotionId, `racer-${i}`, 1, 'k')));

    const results = await Promise.all(
      orders.map(async (orderId) => {
        const [released, confirmed] = await Promise.all([outcome(release(orderId)), outcome(confirm(orderId))]);
        return {
          released: released.ok && released.response.released,
          confirmed: confirmed.ok && confirmed.response.confirmed,
        };
      }),
    );

    for (const r of results) expect(Number(r.released) + Number(r.confirmed)).toBe(1);
    const sold = results.filter((r) => r.confirmed).length;
    expect(await saleRow(promotionId)).toMatchObject({ sold });
    expect(await h.redis.get(saleKeys(promotionId).stock)).toBe(String(20 - sold));
    expect(await getStock(h.client, promotionId)).toMatchObject({ availableStock: 20 - sold, sold, reserved: 0 });
  });

  it('when an order id is unknown, then release and confirm say NOT_FOUND RESERVATION_NOT_FOUND', async () => {
    const attempts: (() => Promise<unknown>)[] = [() => release('123456789'), () => confirm('123456789')];
    for (const attempt of attempts) {
      const result = await outcome(attempt());
      expect(result.ok ? result.response : result.failure).toMatchObject({
        code: status.NOT_FOUND,
        info: { reason: 'RESERVATION_NOT_FOUND' },
      });
    }
  });
});
