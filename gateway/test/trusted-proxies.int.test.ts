/**
 * Which client address the gateway sees, and so what the per-address rate limit counts: behind a trusted proxy,
 * the buyer's address from X-Forwarded-For; with no trusted proxy, the connection's peer whatever the request says.
 * The real rate limits, on their in-memory insurance limiter (the Redis client here never connects).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { descriptorSetPath, meshHttpRules } from '@flash-sale/contracts';
import { createLogger } from '@flash-sale/logging';
import { createApp } from '../src/app';
import type { Handler } from '../src/api/handlers';
import { routeTable } from '../src/api/route-table';
import { createJwtVerifier } from '../src/auth/jwt';
import type { IdempotencyStore } from '../src/http/idempotency';
import { createMetrics } from '../src/http/metrics';
import { rateLimiter, rateLimits } from '../src/http/rate-limits';

const servers: Server[] = [];
const away: Redis[] = [];

/** The gateway's app trusting `trustedProxies`, one request per address per minute, operations answered at once. */
async function startGateway(trustedProxies?: string[]): Promise<string> {
  const routes = routeTable(meshHttpRules(descriptorSetPath));
  const answer: Handler = async () => ({ status: 200, body: { promotions: [] } });
  const noKeys: IdempotencyStore = {
    claim: async () => ({ kind: 'new' }),
    peek: async () => ({ kind: 'new' }),
    complete: async () => {},
    release: async () => {},
  };
  const logger = createLogger({ service: 'trusted-proxies-test', level: 'fatal' });
  const redis = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  away.push(redis);
  const limits = { perIpPerSecond: 1, perUserPerSecond: 0 };
  const app = createApp({
    logger,
    verify: createJwtVerifier({ key: { algorithm: 'HS256', secret: 'x'.repeat(32) }, clockToleranceSeconds: 30 }),
    handlers: Object.fromEntries(routes.map((route) => [route.spec.rpc, answer])),
    readiness: async () => ({}),
    upstreamTimeoutMs: 3_000,
    bodyLimit: '16kb',
    routes,
    idempotency: noKeys,
    rateLimits: rateLimits(
      rateLimiter(redis, limits, logger, () => undefined),
      limits,
    ),
    metrics: createMetrics(),
    maxInFlight: 0,
    corsOrigins: [],
    version: 'test',
    ...(trustedProxies ? { trustedProxies } : {}),
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterAll(async () => {
  // fetch keeps its connections alive: close them, or the servers would wait for them.
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  for (const redis of away) redis.disconnect();
});

/** A public read, as sent by a client (or by a proxy in front of it) with the given X-Forwarded-For. */
const list = (url: string, forwardedFor?: string) =>
  fetch(`${url}/v1/promotions`, { headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} }).then(
    (response) => response.status,
  );

describe('client address', () => {
  it('when no proxy is trusted, then X-Forwarded-For is ignored: a client cannot pick a fresh address to escape the limit', async () => {
    const url = await startGateway();
    expect(await list(url, '203.0.113.1')).toBe(200);
    // Same peer, another claimed address: the same bucket.
    expect(await list(url, '203.0.113.2')).toBe(429);
    expect(await list(url)).toBe(429);
  });

  it('when the ingress is a trusted proxy, then each buyer behind it has a bucket of their own', async () => {
    // The test's requests come from 127.0.0.1: here that is the ingress.
    const url = await startGateway(['127.0.0.1/32']);
    expect(await list(url, '203.0.113.1')).toBe(200);
    expect(await list(url, '203.0.113.2')).toBe(200);
    expect(await list(url, '203.0.113.1')).toBe(429);
  });

  it('when a buyer behind the trusted ingress forges X-Forwarded-For, then only the hop the ingress added counts', async () => {
    const url = await startGateway(['127.0.0.1/32']);
    // The ingress appends the address it saw; what the buyer wrote before it is not believed.
    expect(await list(url, '198.51.100.9, 203.0.113.5')).toBe(200);
    expect(await list(url, '198.51.100.10, 203.0.113.5')).toBe(429);
  });

  it('when the peer is not among the trusted proxies, then its X-Forwarded-For is ignored', async () => {
    const url = await startGateway(['10.0.0.0/8']);
    expect(await list(url, '203.0.113.1')).toBe(200);
    expect(await list(url, '203.0.113.2')).toBe(429);
  });
});
