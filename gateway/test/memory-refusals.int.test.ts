import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import { descriptorSetPath, meshHttpRules } from '@flash-sale/contracts';
import { createLogger } from '@flash-sale/logging';
import { infra, uniqueSuffix, waitFor } from '@flash-sale/testing';
import { mint } from '../../scripts/token';
import { createApp } from '../src/app';
import { memoryRefusals, type Handler } from '../src/api/handlers';
import { routeTable } from '../src/api/route-table';
import { createJwtVerifier } from '../src/auth/jwt';
import { RedisIdempotencyStore, type IdempotencyStore } from '../src/http/idempotency';
import { createMetrics } from '../src/http/metrics';
import { SoldOutSet } from '../src/sold-out-set';

const SECRET = 'memory-refusals-test-secret-of-32-bytes';
const PREFIX = `flashsale:test:${uniqueSuffix()}:idempotency:`;

let redis: Redis;
const servers: Server[] = [];
let url: string;
const soldOut = new SoldOutSet(60_000);
let refused = 0;
let reserved = 0;
/** Every call the router made to the key store and the per-user rate limit, in order. */
const calls: string[] = [];

/** The gateway's app with the given key store; operations answer at once (no upstream). */
async function startApp(idempotency: IdempotencyStore): Promise<string> {
  const routes = routeTable(meshHttpRules(descriptorSetPath));
  const reserve: Handler = async () => ({ status: 202, body: { orderId: String(++reserved), status: 'PENDING' } });
  const pass = (_req: unknown, _res: unknown, next: () => void) => next();
  const app = createApp({
    logger: createLogger({ service: 'memory-refusals-test', level: 'fatal' }),
    verify: createJwtVerifier({ key: { algorithm: 'HS256', secret: SECRET }, clockToleranceSeconds: 30 }),
    handlers: Object.fromEntries(routes.map((route) => [route.spec.rpc, reserve])),
    refusals: memoryRefusals({ soldOut, soldOutRejected: () => refused++ }),
    readiness: async () => ({}),
    upstreamTimeoutMs: 3_000,
    bodyLimit: '16kb',
    routes,
    idempotency,
    rateLimits: { ip: pass, user: pass, checkUser: async () => void calls.push('limit') },
    metrics: createMetrics(),
    maxInFlight: 0,
    corsOrigins: [],
    version: 'test',
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

beforeAll(async () => {
  redis = new Redis(infra.redisUrl);
  const store = new RedisIdempotencyStore(redis, 600, 60, PREFIX);
  url = await startApp({
    claim: (key, print) => (calls.push('claim'), store.claim(key, print)),
    peek: (key, print) => (calls.push('peek'), store.peek(key, print)),
    complete: (key, print, response) => (calls.push('complete'), store.complete(key, print, response)),
    release: (key) => (calls.push('release'), store.release(key)),
  });
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  const keys = await redis.keys(`${PREFIX}*`);
  if (keys.length) await redis.del(...keys);
  redis?.disconnect();
});

/** Promotion ids are Snowflake ids: digits. */
const newPromotionId = () => `${Date.now()}${Math.floor(Math.random() * 1e6)}`;

async function buy(promotionId: string, key: string, quantity = 1, at = url) {
  const res = await fetch(`${at}/v1/promotions/${promotionId}/purchase`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await mint('refusal-buyer', { key: SECRET })}`,
      'content-type': 'application/json',
      'idempotency-key': key,
    },
    body: JSON.stringify({ quantity }),
  });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: (await res.json()) as Record<string, unknown>,
    replayed: res.headers.get('idempotent-replayed'),
    retryAfter: res.headers.get('retry-after'),
  };
}

describe('a purchase refused from memory (the sale is sold out)', () => {
  it('reads its key but never takes it, and is not rate limited: the refusal writes nothing, and a stored answer is still replayed', async () => {
    const promotionId = newPromotionId();
    const bought = `bought-${uniqueSuffix()}`;
    calls.length = 0;
    expect((await buy(promotionId, bought)).status).toBe(202);
    expect(calls.slice(0, 2).sort()).toEqual(['claim', 'limit']);
    // The answer is stored after it was sent: wait until its entry holds it.
    await waitFor(
      async () => {
        const [entry] = await redis.keys(`${PREFIX}*${bought}`);
        return entry !== undefined && (JSON.parse((await redis.get(entry)) ?? '{}') as { r?: unknown }).r !== undefined;
      },
      { what: 'the answer stored', timeoutMs: 5_000 },
    );
    soldOut.add(promotionId);
    calls.length = 0;

    const key = `refused-${uniqueSuffix()}`;
    const refusal = await buy(promotionId, key);
    expect([refusal.status, refusal.body.code]).toEqual([409, 'SOLD_OUT']);
    // Answered directly, not thrown to the error handler, yet the same problem document as every other refusal.
    expect(refusal.type).toBe('application/problem+json; charset=utf-8');
    expect(refusal.body).toEqual({
      type: '/problems/sold-out',
      title: 'Conflict',
      status: 409,
      detail: 'the promotion is sold out',
      code: 'SOLD_OUT',
      instance: `/v1/promotions/${promotionId}/purchase`,
      requestId: expect.any(String),
    });
    expect(calls).toEqual(['peek']);
    expect(await redis.keys(`${PREFIX}*${key}`)).toEqual([]);

    const retried = await buy(promotionId, bought);
    expect([retried.status, retried.body.orderId, retried.replayed]).toEqual([202, '1', 'true']);
    expect((await buy(promotionId, bought, 2)).status).toBe(422);
    expect([calls, refused, reserved]).toEqual([['peek', 'peek', 'peek'], 1, 1]);

    // Open again: the refused key was left free, so it buys.
    soldOut.delete(promotionId);
    expect((await buy(promotionId, key)).status).toBe(202);
    expect(reserved).toBe(2);
  });

  it('when the key store does not answer, then 503 with Retry-After, whether the purchase is refused from memory or not', async () => {
    // A Redis that is not there (a closed port); commands fail at once instead of queueing, as in the gateway.
    const away = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    away.on('error', () => undefined);
    const at = await startApp(new RedisIdempotencyStore(away, 600, 60, PREFIX));
    const promotionId = newPromotionId();
    const before = reserved;
    for (const sold of [false, true]) {
      if (sold) soldOut.add(promotionId);
      const reply = await buy(promotionId, `away-${uniqueSuffix()}`, 1, at);
      expect([reply.status, reply.body.code, reply.retryAfter]).toEqual([503, 'UPSTREAM_UNAVAILABLE', '1']);
    }
    expect(reserved).toBe(before);
    away.disconnect();
  });
});
