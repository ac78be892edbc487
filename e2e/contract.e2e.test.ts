/**
 * The OpenAPI document is the contract: it is a valid OpenAPI 3.1 document, every operation in it is served, every
 * reply (success or problem) has a documented status and matches the documented schema, and every route refuses a
 * missing, forged, expired or under-privileged token as documented.
 */
import { SignJWT } from 'jose';
import { waitFor } from '@flash-sale/testing';
import { client, newKey, openSale, tokenFor, type Reply } from './http';
import { JWT_SECRET, startMesh, type Mesh } from './mesh';
import { responseChecker, validateOpenApi } from './openapi-check';

type Json = Record<string, unknown>;
type Client = ReturnType<typeof client>;

let mesh: Mesh;
let admin: Client;
let buyer: Client;
let document: Json;
let check: ReturnType<typeof responseChecker>;
const ids: Record<string, string> = {};

const sale = () => openSale({ itemId: 'sku-contract', priceCents: 990, stock: 10, perUserLimit: 3 });

/** One successful call per operation, as a user of the API makes it. */
const happy: Record<string, () => Promise<Reply<Json>>> = {
  createPromotion: () => admin.post('/v1/promotions', sale()),
  listPromotions: () => buyer.get('/v1/promotions?status=ACTIVE&pageSize=5'),
  getPromotion: () => client(mesh.url).get(`/v1/promotions/${ids.promotionId}`),
  preheatPromotion: () => admin.post(`/v1/promotions/${ids.promotionId}/preheat`),
  purchase: () =>
    buyer.post(`/v1/promotions/${ids.promotionId}/purchase`, { quantity: 1 }, { 'idempotency-key': newKey() }),
  listOrders: () => buyer.get('/v1/orders?pageSize=10'),
  getOrder: () => buyer.get(`/v1/orders/${ids.orderId}`),
  payOrder: () => buyer.post(`/v1/orders/${ids.orderId}/pay`, undefined, { 'idempotency-key': newKey() }),
  cancelOrder: () => buyer.post(`/v1/orders/${ids.otherOrderId}/cancel`),
  getOrderSummary: () => admin.get(`/v1/promotions/${ids.promotionId}/order-summary`),
};

/** The operations only an admin may call (documented with a 403). */
const ADMIN_ONLY = new Set(['createPromotion', 'preheatPromotion', 'getOrderSummary']);

interface Operation {
  path: string;
  method: string;
  operationId: string;
  security?: Json[];
  responses: Json;
}

function operations(): Operation[] {
  return Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([, op]) => op.operationId)
      .map(([method, op]) => ({
        path,
        method,
        operationId: op.operationId as string,
        security: op.security as Json[],
        responses: op.responses as Json,
      })),
  );
}

/** A concrete URL for a documented path. */
const urlOf = (path: string) => path.replace('{promotionId}', ids.promotionId!).replace('{orderId}', ids.orderId!);

beforeAll(async () => {
  mesh = await startMesh();
  admin = client(mesh.url, await tokenFor('contract-admin', true));
  buyer = client(mesh.url, await tokenFor('contract-buyer'));
  document = (await client(mesh.url).get<Json>('/openapi.json')).body;
  check = responseChecker(document);
  ids.promotionId = (await happy.createPromotion!()).body.id as string;
  for (const name of ['orderId', 'otherOrderId']) {
    ids[name] = (await happy.purchase!()).body.orderId as string;
    await waitFor(async () => (await buyer.get<Json>(`/v1/orders/${ids[name]}`)).body.status === 'AWAITING_PAYMENT', {
      what: 'the order row',
    });
  }
});

afterAll(async () => {
  await mesh?.stop();
});

describe('the OpenAPI contract', () => {
  it('when /openapi.json is fetched, then it is a valid OpenAPI 3.1 document naming every API route', async () => {
    expect(document.openapi).toBe('3.1.0');
    expect(await validateOpenApi(document)).toEqual({ valid: true });
    expect(
      operations()
        .map((op) => op.operationId)
        .sort(),
    ).toEqual(Object.keys(happy).sort());
  });

  it('when /docs is opened, then its page, script and Swagger UI assets are served and point at /openapi.json', async () => {
    const get = (path: string) => fetch(`${mesh.url}${path}`);
    const page = await get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    const assets = [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((match) => match[1]!);
    expect(assets).toEqual(['/docs/assets/swagger-ui.css', '/docs/assets/swagger-ui-bundle.js', '/docs/init.js']);
    for (const asset of assets) {
      const reply = await get(asset);
      expect({ asset, status: reply.status }).toEqual({ asset, status: 200 });
      expect((await reply.text()).length).toBeGreaterThan(asset.endsWith('init.js') ? 10 : 1_000);
    }
    expect(await (await get('/docs/init.js')).text()).toContain("url: '/openapi.json'");
    // No inline script: the page works under helmet's Content-Security-Policy.
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(html).not.toMatch(/<script>(?!<)/);
  });

  it('when every documented operation is called as intended, then it is served and answers as documented', async () => {
    for (const op of operations()) {
      const reply = await happy[op.operationId]!();
      expect({ op: op.operationId, status: reply.status }).toEqual({ op: op.operationId, status: expect.any(Number) });
      expect(reply.status).toBeLessThan(300);
      expect(check(op.path, op.method, reply)).toEqual([]);
    }
  });

  it('when the documented example of a new sale is posted, then the sale is created as documented', async () => {
    const schemas = (document.components as { schemas: Record<string, { examples?: Json[] }> }).schemas;
    const [example] = schemas.CreatePromotion!.examples!;
    const reply = await admin.post<Json>('/v1/promotions', example);
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ ...example!, status: 'ACTIVE', availableStock: example!.stock });
    expect(check('/v1/promotions', 'post', reply)).toEqual([]);
  });

  it('when a route gets no token, a forged, an expired or a buyer token where admin is needed, then it answers the documented 401 or 403', async () => {
    const forged = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('not-the-secret-0123456789'));
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('late')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3_600)
      .sign(new TextEncoder().encode(JWT_SECRET));
    const problems: string[] = [];
    for (const op of operations()) {
      const url = urlOf(op.path);
      const call = (who: Client) =>
        who.send<Json>(
          op.method.toUpperCase(),
          url,
          op.method === 'post' ? { headers: { 'idempotency-key': newKey() } } : {},
        );
      const isPublic = op.security?.some((requirement) => Object.keys(requirement).length === 0) ?? false;
      const cases: [string, Client, number, string][] = [
        ['forged', client(mesh.url, forged), 401, 'INVALID_TOKEN'],
        ['expired', client(mesh.url, expired), 401, 'TOKEN_EXPIRED'],
        ...(isPublic ? [] : [['none', client(mesh.url), 401, 'UNAUTHENTICATED'] as [string, Client, number, string]]),
        ...(ADMIN_ONLY.has(op.operationId)
          ? [['buyer', buyer, 403, 'FORBIDDEN'] as [string, Client, number, string]]
          : []),
      ];
      if ('403' in op.responses !== ADMIN_ONLY.has(op.operationId)) problems.push(`${op.operationId}: 403 documented?`);
      for (const [who, caller, status, code] of cases) {
        const reply = await call(caller);
        if (reply.status !== status || reply.body.code !== code) {
          problems.push(`${op.operationId} with ${who} token: ${reply.status} ${String(reply.body.code)}`);
        }
        problems.push(...check(op.path, op.method, reply));
      }
    }
    expect(problems).toEqual([]);
  });
});
