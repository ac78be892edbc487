import { waitFor } from '@flash-sale/testing';
import { client, newKey, tokenFor } from './http';
import { startMesh, type Mesh } from './mesh';

type Json = Record<string, unknown>;

let mesh: Mesh;
let admin: ReturnType<typeof client>;

const window = (fromNowMs = -1_000, lengthMs = 3_600_000) => ({
  startsAt: new Date(Date.now() + fromNowMs).toISOString(),
  endsAt: new Date(Date.now() + fromNowMs + lengthMs).toISOString(),
});

async function createPromotion(overrides: Json = {}) {
  const reply = await admin.post('/v1/promotions', {
    itemId: 'sku-e2e',
    title: 'E2E phone',
    priceCents: 2_500,
    stock: 3,
    perUserLimit: 1,
    paymentTimeoutSeconds: 600,
    ...window(),
    ...overrides,
  });
  expect(reply.status).toBe(201);
  return reply.body as { id: string; availableStock: number; status: string };
}

const orderStatus = (buyer: ReturnType<typeof client>, id: string) =>
  buyer.get<Json>(`/v1/orders/${id}`).then((reply) => reply.body.status as string);

beforeAll(async () => {
  mesh = await startMesh();
  admin = client(mesh.url, await tokenFor('admin-e2e', true));
});

afterAll(async () => {
  await mesh?.stop();
});

describe('a flash-sale purchase through the gateway', () => {
  it('when an admin creates a sale and a buyer purchases and pays, then the order goes PENDING -> AWAITING_PAYMENT -> PAID', async () => {
    const promotion = await createPromotion();
    expect(promotion).toMatchObject({ availableStock: 3, status: 'ACTIVE' });
    const buyer = client(mesh.url, await tokenFor('alice-e2e'));

    const key = newKey();
    const purchase = await buyer.post<Json>(
      `/v1/promotions/${promotion.id}/purchase`,
      { quantity: 1 },
      { 'idempotency-key': key },
    );
    expect(purchase.status).toBe(202);
    expect(purchase.body).toEqual({ orderId: expect.stringMatching(/^\d+$/), status: 'PENDING' });
    const orderId = purchase.body.orderId as string;

    // The order row is written asynchronously from Kafka; until then the order reads as PENDING.
    expect(['PENDING', 'AWAITING_PAYMENT']).toContain(await orderStatus(buyer, orderId));
    await waitFor(async () => (await orderStatus(buyer, orderId)) === 'AWAITING_PAYMENT', { what: 'the order row' });
    const order = (await buyer.get<Json>(`/v1/orders/${orderId}`)).body;
    expect(order).toMatchObject({
      id: orderId,
      promotionId: promotion.id,
      userId: 'alice-e2e',
      quantity: 1,
      amountCents: 2_500,
    });
    expect(Date.parse(order.expiresAt as string) - Date.parse(order.createdAt as string)).toBe(600_000);

    const replay = await buyer.post<Json>(
      `/v1/promotions/${promotion.id}/purchase`,
      { quantity: 1 },
      { 'idempotency-key': key },
    );
    expect(replay.status).toBe(202);
    expect(replay.body.orderId).toBe(orderId);

    const pay = await buyer.post<Json>(`/v1/orders/${orderId}/pay`, undefined, { 'idempotency-key': newKey() });
    expect(pay.status).toBe(200);
    expect(pay.body).toMatchObject({ status: 'PAID', paymentId: expect.stringMatching(/^\d+$/), amountCents: 2_500 });
    await waitFor(async () => (await orderStatus(buyer, orderId)) === 'PAID', { what: 'the order to be paid' });
    expect((await buyer.get<Json>(`/v1/orders/${orderId}`)).body.paymentId).toBe(pay.body.paymentId);

    const mine = await buyer.get<{ orders: Json[] }>('/v1/orders');
    expect(mine.body.orders.map((o) => o.id)).toContain(orderId);
    expect((await admin.get<Json>(`/v1/promotions/${promotion.id}`)).body.availableStock).toBe(2);
  });

  it('when buyers outnumber the stock, then exactly the stock sells and the rest hear SOLD_OUT', async () => {
    const promotion = await createPromotion({ stock: 2 });
    const buyers = await Promise.all(
      ['b1', 'b2', 'b3', 'b4'].map(async (name) => client(mesh.url, await tokenFor(`${name}-${promotion.id}`))),
    );
    const replies = await Promise.all(
      buyers.map((buyer) =>
        buyer.post<Json>(`/v1/promotions/${promotion.id}/purchase`, { quantity: 1 }, { 'idempotency-key': newKey() }),
      ),
    );
    expect(replies.filter((r) => r.status === 202)).toHaveLength(2);
    const rejected = replies.filter((r) => r.status !== 202);
    expect(rejected.map((r) => [r.status, r.body.code])).toEqual([
      [409, 'SOLD_OUT'],
      [409, 'SOLD_OUT'],
    ]);
    const view = (await admin.get<Json>(`/v1/promotions/${promotion.id}`)).body;
    expect(view).toMatchObject({ availableStock: 0, status: 'SOLD_OUT' });
  });

  it('when a buyer comes back for more than the per-user limit, then PURCHASE_LIMIT_REACHED and the stock stays', async () => {
    const promotion = await createPromotion({ stock: 5, perUserLimit: 1 });
    const buyer = client(mesh.url, await tokenFor(`greedy-${promotion.id}`));
    const path = `/v1/promotions/${promotion.id}/purchase`;
    expect((await buyer.post<Json>(path, { quantity: 1 }, { 'idempotency-key': newKey() })).status).toBe(202);
    const again = await buyer.post<Json>(path, { quantity: 1 }, { 'idempotency-key': newKey() });
    expect([again.status, again.body.code]).toEqual([409, 'PURCHASE_LIMIT_REACHED']);
    expect((await admin.get<Json>(`/v1/promotions/${promotion.id}`)).body.availableStock).toBe(4);
  });

  it('when a buyer cancels an unpaid order, then it is CANCELLED and its stock comes back', async () => {
    const promotion = await createPromotion({ stock: 1 });
    const buyer = client(mesh.url, await tokenFor(`canceller-${promotion.id}`));
    const purchase = await buyer.post<Json>(
      `/v1/promotions/${promotion.id}/purchase`,
      { quantity: 1 },
      { 'idempotency-key': newKey() },
    );
    const orderId = purchase.body.orderId as string;
    await waitFor(async () => (await orderStatus(buyer, orderId)) === 'AWAITING_PAYMENT', { what: 'the order row' });

    const cancel = await buyer.post<Json>(`/v1/orders/${orderId}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('CANCELLED');
    await waitFor(async () => (await admin.get<Json>(`/v1/promotions/${promotion.id}`)).body.availableStock === 1, {
      what: 'the stock to be released',
    });
    const pay = await buyer.post<Json>(`/v1/orders/${orderId}/pay`, undefined, { 'idempotency-key': newKey() });
    expect([pay.status, pay.body.code]).toEqual([409, 'ORDER_NOT_PAYABLE']);
    const again = await buyer.post<Json>(`/v1/orders/${orderId}/cancel`);
    expect([again.status, again.body.code]).toEqual([409, 'ORDER_NOT_CANCELLABLE']);
  });

  it('when the sale has not started, then buyers hear SALE_NOT_ACTIVE and the promotion reads SCHEDULED', async () => {
    const promotion = await createPromotion(window(3_600_000));
    expect(promotion.status).toBe('SCHEDULED');
    const buyer = client(mesh.url, await tokenFor('early-bird'));
    const reply = await buyer.post<Json>(
      `/v1/promotions/${promotion.id}/purchase`,
      { quantity: 1 },
      { 'idempotency-key': newKey() },
    );
    expect([reply.status, reply.body.code]).toEqual([409, 'SALE_NOT_ACTIVE']);
  });
});
