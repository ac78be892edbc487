/**
 * `Idempotency-Key` at the gateway: the same key and body get the same response (without a second reservation or
 * charge), the same key with another body gets 422, and keys belong to their user.
 */
import { waitFor } from '@flash-sale/testing';
import { client, newKey, openSale, tokenFor } from './http';
import { startMesh, type Mesh } from './mesh';

type Json = Record<string, unknown>;

let mesh: Mesh;
let admin: ReturnType<typeof client>;
let promotionId: string;

beforeAll(async () => {
  mesh = await startMesh();
  admin = client(mesh.url, await tokenFor('idem-admin', true));
  const reply = await admin.post<Json>('/v1/promotions', openSale({ itemId: 'sku-idem', stock: 20, perUserLimit: 3 }));
  promotionId = reply.body.id as string;
});

afterAll(async () => {
  await mesh?.stop();
});

const available = async () => (await admin.get<Json>(`/v1/promotions/${promotionId}`)).body.availableStock;

describe('Idempotency-Key at the gateway', () => {
  it('when a purchase is sent again with the same key and body, then the same reply comes back and nothing more is reserved', async () => {
    const buyer = client(mesh.url, await tokenFor('idem-buyer-1'));
    const key = { 'idempotency-key': newKey() };
    const first = await buyer.post<Json>(`/v1/promotions/${promotionId}/purchase`, { quantity: 2 }, key);
    expect(first.status).toBe(202);
    const stockAfterFirst = await available();

    const again = await Promise.all(
      Array.from({ length: 5 }, () => buyer.post<Json>(`/v1/promotions/${promotionId}/purchase`, { quantity: 2 }, key)),
    );
    for (const reply of again)
      expect({ status: reply.status, body: reply.body }).toEqual({ status: 202, body: first.body });
    expect(again.some((reply) => reply.headers.get('idempotent-replayed') === 'true')).toBe(true);
    expect(await available()).toBe(stockAfterFirst);
  });

  it('when the same key comes with a different body, then 422 IDEMPOTENCY_KEY_REUSED and nothing is reserved', async () => {
    const buyer = client(mesh.url, await tokenFor('idem-buyer-2'));
    const key = { 'idempotency-key': newKey() };
    expect((await buyer.post(`/v1/promotions/${promotionId}/purchase`, { quantity: 1 }, key)).status).toBe(202);
    const before = await available();

    const reused = await buyer.post<Json>(`/v1/promotions/${promotionId}/purchase`, { quantity: 2 }, key);
    expect({ status: reused.status, code: reused.body.code }).toEqual({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(reused.contentType).toContain('application/problem+json');
    expect(await available()).toBe(before);
  });

  it('when two buyers use the same key, then each gets an order of their own', async () => {
    const key = { 'idempotency-key': `shared-${newKey()}` };
    const [a, b] = await Promise.all(
      ['idem-buyer-3', 'idem-buyer-4'].map(async (user) =>
        client(mesh.url, await tokenFor(user)).post<Json>(`/v1/promotions/${promotionId}/purchase`, {}, key),
      ),
    );
    expect([a!.status, b!.status]).toEqual([202, 202]);
    expect(a!.body.orderId).not.toBe(b!.body.orderId);
  });

  it('when a payment is sent again with its key, then the same payment comes back; another order with that key is refused', async () => {
    const buyer = client(mesh.url, await tokenFor('idem-buyer-5'));
    const order = async () => {
      const reply = await buyer.post<Json>(
        `/v1/promotions/${promotionId}/purchase`,
        {},
        { 'idempotency-key': newKey() },
      );
      const orderId = reply.body.orderId as string;
      await waitFor(async () => (await buyer.get<Json>(`/v1/orders/${orderId}`)).body.status === 'AWAITING_PAYMENT');
      return orderId;
    };
    const [first, second] = [await order(), await order()];
    const key = { 'idempotency-key': newKey() };
    const paid = await buyer.post<Json>(`/v1/orders/${first}/pay`, undefined, key);
    expect(paid.status).toBe(200);
    const replayed = await buyer.post<Json>(`/v1/orders/${first}/pay`, undefined, key);
    expect(replayed.body).toEqual(paid.body);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');

    const elsewhere = await buyer.post<Json>(`/v1/orders/${second}/pay`, undefined, key);
    expect({ status: elsewhere.status, code: elsewhere.body.code }).toEqual({
      status: 422,
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
  });
});
