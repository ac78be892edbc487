import { waitFor } from '@flash-sale/testing';
import { client, newKey, openSale, tokenFor } from './http';
import { startMesh, type Mesh } from './mesh';

type Json = Record<string, unknown>;

let mesh: Mesh;
let admin: ReturnType<typeof client>;

beforeAll(async () => {
  mesh = await startMesh();
  admin = client(mesh.url, await tokenFor('admin-sold-out', true));
});

afterAll(async () => {
  await mesh?.stop();
});

async function soldOutRejections(): Promise<number> {
  const text = await (await fetch(`${mesh.url}/metrics`)).text();
  return Number(/^gateway_sold_out_rejections_total\{service="gateway"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

const buy = async (user: string, promotionId: string, key = newKey(), quantity = 1) =>
  client(mesh.url, await tokenFor(user)).post<Json>(
    `/v1/promotions/${promotionId}/purchase`,
    { quantity },
    { 'idempotency-key': key },
  );

describe('the sold-out fast path', () => {
  it('when the last unit is reserved, then later buyers are refused from memory; a release opens the sale again', async () => {
    const created = await admin.post<Json>(
      '/v1/promotions',
      openSale({ itemId: 'sku-sold-out', title: 'One of a kind', priceCents: 100, stock: 1 }),
    );
    const promotionId = created.body.id as string;
    const firstKey = newKey();
    const first = await buy(`first-${promotionId}`, promotionId, firstKey);
    expect(first.status).toBe(202);

    // The SoldOut signal reaches the gateway over Redis pub/sub; from then on inventory is not asked.
    const before = await soldOutRejections();
    await waitFor(
      async () =>
        (await buy(`late-${promotionId}-${Date.now()}`, promotionId)).status === 409 &&
        (await soldOutRejections()) > before,
      {
        what: 'the gateway to answer from its sold-out set',
      },
    );
    const refused = await buy(`later-${promotionId}`, promotionId);
    expect([refused.status, refused.body.code]).toEqual([409, 'SOLD_OUT']);
    expect(refused.contentType).toContain('application/problem+json');
    const counted = await soldOutRejections();

    // Refused from memory, the key is only read: the buyer who got the unit, retrying with the same key, hears
    // the same 202 again (not SOLD_OUT), and a key reused with another body is still caught.
    const retried = await buy(`first-${promotionId}`, promotionId, firstKey);
    expect([retried.status, retried.body, retried.headers.get('idempotent-replayed')]).toEqual([
      202,
      first.body,
      'true',
    ]);
    expect((await buy(`first-${promotionId}`, promotionId, firstKey, 2)).status).toBe(422);
    expect(await soldOutRejections()).toBe(counted);
    const refusedKey = newKey();
    expect((await buy(`again-${promotionId}`, promotionId, refusedKey)).status).toBe(409);

    const owner = client(mesh.url, await tokenFor(`first-${promotionId}`));
    const orderId = first.body.orderId as string;
    await waitFor(async () => (await owner.get<Json>(`/v1/orders/${orderId}`)).body.status === 'AWAITING_PAYMENT', {
      what: 'the order row',
    });
    expect((await owner.post<Json>(`/v1/orders/${orderId}/cancel`)).status).toBe(200);

    // StockAvailable clears the set well before its ten-minute TTL: the next buyer gets the unit, with the key
    // that was refused from memory before (nothing was kept for it).
    const next = await waitFor(
      async () => {
        const reply = await buy(`again-${promotionId}`, promotionId, refusedKey);
        return reply.status === 202 ? reply : undefined;
      },
      { what: 'the sale to open again', intervalMs: 100 },
    );
    expect(next.body.status).toBe('PENDING');
    expect(await soldOutRejections()).toBeGreaterThan(counted);
  });
});
