import { SignJWT } from 'jose';
import { waitFor } from '@flash-sale/testing';
import { client, newKey, openSale, tokenFor, type Reply } from './http';
import { JWT_SECRET, startMesh, type Mesh } from './mesh';

type Json = Record<string, unknown>;

let mesh: Mesh;
let admin: ReturnType<typeof client>;
let buyer: ReturnType<typeof client>;
let stranger: ReturnType<typeof client>;
let promotionId: string;
let orderId: string;

const validPromotion = () => openSale({ itemId: 'sku-bad-input', title: 'Bad input target', perUserLimit: 2 });

/** What must not change, whatever bad request arrives. */
async function snapshot() {
  const promotion = (await admin.get<Json>(`/v1/promotions/${promotionId}`)).body;
  const orders = (await buyer.get<{ orders: Json[] }>('/v1/orders')).body.orders;
  const promotions = (await admin.get<{ promotions: Json[] }>('/v1/promotions?pageSize=100')).body.promotions.length;
  return { available: promotion.availableStock, orders: orders.map((o) => [o.id, o.status]), promotions };
}

function expectProblem(reply: Reply<Json>, status: number, code: string) {
  expect({ status: reply.status, code: reply.body.code }).toEqual({ status, code });
  expect(reply.contentType).toContain('application/problem+json');
  expect(reply.body).toMatchObject({
    status,
    title: expect.any(String),
    detail: expect.any(String),
    type: expect.any(String),
  });
  expect(JSON.stringify(reply.body)).not.toMatch(/at .*\.ts:\d+|stack|Error:/);
}

beforeAll(async () => {
  mesh = await startMesh();
  admin = client(mesh.url, await tokenFor('admin-bad', true));
  buyer = client(mesh.url, await tokenFor('buyer-bad'));
  stranger = client(mesh.url, await tokenFor('stranger-bad'));
  promotionId = ((await admin.post<Json>('/v1/promotions', validPromotion())).body.id as string) ?? '';
  orderId = (
    await buyer.post<Json>(`/v1/promotions/${promotionId}/purchase`, { quantity: 1 }, { 'idempotency-key': newKey() })
  ).body.orderId as string;
  await waitFor(async () => (await buyer.get<Json>(`/v1/orders/${orderId}`)).body.status === 'AWAITING_PAYMENT', {
    what: 'the order row',
  });
});

afterAll(async () => {
  await mesh?.stop();
});

const anonymous = () => client(mesh.url);
const purchase = (body: unknown, headers: Record<string, string> = { 'idempotency-key': newKey() }) =>
  buyer.post<Json>(`/v1/promotions/${promotionId}/purchase`, body, headers);

const cases: [string, () => Promise<Reply<Json>>, number, string][] = [
  ['create without a token', () => anonymous().post('/v1/promotions', validPromotion()), 401, 'UNAUTHENTICATED'],
  [
    'create with a forged token',
    () => client(mesh.url, 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad').post('/v1/promotions', validPromotion()),
    401,
    'INVALID_TOKEN',
  ],
  ['create as a buyer', () => buyer.post('/v1/promotions', validPromotion()), 403, 'FORBIDDEN'],
  [
    'create with a negative price',
    () => admin.post('/v1/promotions', { ...validPromotion(), priceCents: -1 }),
    400,
    'INVALID_REQUEST',
  ],
  [
    'create with zero stock',
    () => admin.post('/v1/promotions', { ...validPromotion(), stock: 0 }),
    400,
    'INVALID_REQUEST',
  ],
  [
    'create with an unknown field',
    () => admin.post('/v1/promotions', { ...validPromotion(), discount: 5 }),
    400,
    'INVALID_REQUEST',
  ],
  [
    'create with a missing field',
    () => admin.post('/v1/promotions', { ...validPromotion(), title: undefined }),
    400,
    'INVALID_REQUEST',
  ],
  [
    'create with a bad time',
    () => admin.post('/v1/promotions', { ...validPromotion(), startsAt: 'tomorrow' }),
    400,
    'INVALID_REQUEST',
  ],
  [
    'create ending before it starts',
    () => admin.post('/v1/promotions', { ...validPromotion(), endsAt: new Date(Date.now() - 5_000).toISOString() }),
    400,
    'INVALID_PROMOTION',
  ],
  [
    'create with a NUL character in the title',
    () => admin.post('/v1/promotions', { ...validPromotion(), title: 'Phone\u0000' }),
    400,
    'INVALID_REQUEST',
  ],
  [
    'create with a space in the item id',
    () => admin.post('/v1/promotions', { ...validPromotion(), itemId: 'has space' }),
    400,
    'INVALID_REQUEST',
  ],
  [
    'create with malformed JSON',
    () => admin.send('POST', '/v1/promotions', { raw: '{"itemId":', headers: { 'content-type': 'application/json' } }),
    400,
    'MALFORMED_JSON',
  ],
  [
    'create with a non-JSON body',
    () => admin.send('POST', '/v1/promotions', { raw: 'itemId=x', headers: { 'content-type': 'text/plain' } }),
    415,
    'UNSUPPORTED_MEDIA_TYPE',
  ],
  [
    'create with a huge body',
    () => admin.post('/v1/promotions', { ...validPromotion(), title: 'x'.repeat(20_000) }),
    413,
    'BODY_TOO_LARGE',
  ],
  ['get a promotion by a bad id', () => anonymous().get('/v1/promotions/abc'), 400, 'INVALID_REQUEST'],
  ['get an unknown promotion', () => anonymous().get('/v1/promotions/123456789'), 404, 'PROMOTION_NOT_FOUND'],
  ['list promotions with a bad status', () => anonymous().get('/v1/promotions?status=GONE'), 400, 'INVALID_REQUEST'],
  ['list promotions with a bad page size', () => anonymous().get('/v1/promotions?pageSize=0'), 400, 'INVALID_REQUEST'],
  [
    'list promotions with a forged page token',
    () => anonymous().get('/v1/promotions?pageToken=zzz'),
    400,
    'INVALID_PAGE_TOKEN',
  ],
  [
    'purchase without a token',
    () => anonymous().post(`/v1/promotions/${promotionId}/purchase`, { quantity: 1 }, { 'idempotency-key': newKey() }),
    401,
    'UNAUTHENTICATED',
  ],
  ['purchase without an idempotency key', () => purchase({ quantity: 1 }, {}), 400, 'IDEMPOTENCY_KEY_REQUIRED'],
  [
    'purchase with a bad idempotency key',
    () => purchase({ quantity: 1 }, { 'idempotency-key': 'has spaces' }),
    400,
    'INVALID_REQUEST',
  ],
  ['purchase zero units', () => purchase({ quantity: 0 }), 400, 'INVALID_REQUEST'],
  ['purchase negative units', () => purchase({ quantity: -3 }), 400, 'INVALID_REQUEST'],
  ['purchase a huge quantity', () => purchase({ quantity: 1e9 }), 400, 'INVALID_REQUEST'],
  ['purchase a fractional quantity', () => purchase({ quantity: 1.5 }), 400, 'INVALID_REQUEST'],
  ['purchase a string quantity', () => purchase({ quantity: '2' }), 400, 'INVALID_REQUEST'],
  ['purchase over the per-user limit', () => purchase({ quantity: 2 }), 409, 'PURCHASE_LIMIT_REACHED'],
  [
    'purchase from an unknown promotion',
    () => buyer.post('/v1/promotions/987654321/purchase', { quantity: 1 }, { 'idempotency-key': newKey() }),
    404,
    'PROMOTION_NOT_FOUND',
  ],
  ['get an order by a bad id', () => buyer.get('/v1/orders/-5'), 400, 'INVALID_REQUEST'],
  ["get somebody else's order", () => stranger.get(`/v1/orders/${orderId}`), 404, 'ORDER_NOT_FOUND'],
  ['get an unknown order', () => buyer.get('/v1/orders/42'), 404, 'ORDER_NOT_FOUND'],
  ['list orders without a token', () => anonymous().get('/v1/orders'), 401, 'UNAUTHENTICATED'],
  ['list orders with an unknown parameter', () => buyer.get('/v1/orders?sort=desc'), 400, 'INVALID_REQUEST'],
  ['pay without an idempotency key', () => buyer.post(`/v1/orders/${orderId}/pay`), 400, 'IDEMPOTENCY_KEY_REQUIRED'],
  [
    'pay with a body',
    () => buyer.post(`/v1/orders/${orderId}/pay`, { amountCents: 1 }, { 'idempotency-key': newKey() }),
    400,
    'INVALID_REQUEST',
  ],
  [
    "pay somebody else's order",
    () => stranger.post(`/v1/orders/${orderId}/pay`, undefined, { 'idempotency-key': newKey() }),
    404,
    'ORDER_NOT_FOUND',
  ],
  [
    'pay an unknown order',
    () => buyer.post('/v1/orders/42/pay', undefined, { 'idempotency-key': newKey() }),
    404,
    'ORDER_NOT_FOUND',
  ],
  ["cancel somebody else's order", () => stranger.post(`/v1/orders/${orderId}/cancel`), 404, 'ORDER_NOT_FOUND'],
  ['cancel with a bad id', () => buyer.post('/v1/orders/x1/cancel'), 400, 'INVALID_REQUEST'],
  ['call a route that does not exist', () => buyer.get('/v1/nothing'), 404, 'ROUTE_NOT_FOUND'],
];

describe('bad input at the gateway', () => {
  it.each(cases)(
    'when a client tries to %s, then %i %s as problem+json and nothing changes',
    async (_name, request, status, code) => {
      const before = await snapshot();
      expectProblem(await request(), status, code);
      expect(await snapshot()).toEqual(before);
    },
  );

  it('when a request fails validation, then the problem lists each bad field in JSON spelling', async () => {
    const reply = await admin.post<Json>('/v1/promotions', { ...validPromotion(), stock: -1, perUserLimit: 0 });
    expect(reply.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'stock' }),
        expect.objectContaining({ field: 'perUserLimit' }),
      ]),
    );
  });

  it('when a token has expired, then 401 TOKEN_EXPIRED', async () => {
    const expired = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('late')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(JWT_SECRET));
    expectProblem(await client(mesh.url, expired).get('/v1/orders'), 401, 'TOKEN_EXPIRED');
  });
});
