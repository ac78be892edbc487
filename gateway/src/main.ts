import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import { createHealthClient, isServing, runMain, stopOnSignals } from '@flash-sale/grpc-kit';
import { createLogger } from '@flash-sale/logging';
import { descriptorSetPath, meshHttpRules } from '@flash-sale/contracts';
import { createApp } from './app';
import { routeTable } from './api/route-table';
import { RedisIdempotencyStore } from './http/idempotency';
import { createJwtVerifier } from './auth/jwt';
import { SoldOutSet } from './sold-out-set';
import { loadGatewayConfig, type GatewayConfig } from './config';
import { closeUpstreams, connectUpstreams } from './upstreams';

const VERSION = (require('../package.json') as { version: string }).version;

export interface RunningGateway {
  port: number;
  stop(): Promise<void>;
}

/** The composition root: builds the gateway from its config and starts listening. */
export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const upstreams = connectUpstreams(config);
  const addresses = {
    promotion: config.PROMOTION_ADDR,
    inventory: config.INVENTORY_ADDR,
    order: config.ORDER_ADDR,
    payment: config.PAYMENT_ADDR,
  };
  const health = Object.entries(addresses).map(([name, address]) => [name, createHealthClient(address)] as const);
  // A dedicated connection: a subscribed Redis connection can do nothing else.
  const subscriber = new Redis(config.REDIS_URL, { maxRetriesPerRequest: null });
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
  const soldOut = new SoldOutSet(config.SOLD_OUT_TTL_MS);
  await soldOut.follow(subscriber, logger);
  let draining = false;
  const app = createApp({
    soldOut,
    logger,
    verify: createJwtVerifier({ secret: config.JWT_SECRET, clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS }),
    upstreams,
    upstreamTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
    bodyLimit: config.BODY_LIMIT,
    routes: routeTable(meshHttpRules(descriptorSetPath)),
    idempotency: new RedisIdempotencyStore(redis, config.IDEMPOTENCY_TTL_SECONDS),
    version: VERSION,
    readiness: async () => {
      const results = await Promise.all(health.map(async ([name, client]) => [name, await isServing(client)] as const));
      const redisReady = subscriber.status === 'ready' && redis.status === 'ready';
      return { ...Object.fromEntries(results), redis: redisReady, accepting: !draining };
    },
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve(listening));
  });
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as { port: number }).port;
  logger.info({ port, upstreams: addresses }, 'gateway listening');

  return {
    port,
    async stop() {
      // Readiness fails first so load balancers stop sending; in-flight requests then finish.
      draining = true;
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, config.SHUTDOWN_GRACE_MS);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      closeUpstreams(upstreams);
      subscriber.disconnect();
      redis.disconnect();
      for (const [, client] of health) client.close();
    },
  };
}

if (require.main === module) {
  runMain(async () => {
    const config = loadGatewayConfig();
    const gateway = await startGateway(config);
    stopOnSignals(
      gateway.stop,
      createLogger({ service: 'gateway', level: config.LOG_LEVEL }),
      config.SHUTDOWN_GRACE_MS + 5_000,
    );
  });
}
