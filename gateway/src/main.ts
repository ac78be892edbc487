import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import { redisAuth } from '@flash-sale/config';
import { descriptorSetPath, meshHttpRules } from '@flash-sale/contracts';
import {
  createHealthClient,
  GrpcMetrics,
  isServing,
  loadAccessPolicy,
  meshTransport,
  runMain,
  stopOnSignals,
} from '@flash-sale/grpc-kit';
import { createLogger } from '@flash-sale/logging';
import { createApp } from './app';
import { ConsoleFeed } from './console/console-feed';
import { upstreamSources } from './console/console-router';
import { purchaseObserver } from './console/purchase-observer';
import { SaleWindows } from './console/sale-windows';
import { SoldOutTimes } from './console/sold-out-times';
import { memoryRefusals, operationHandlers } from './api/handlers';
import { routeTable } from './api/route-table';
import { createJwtVerifier, verificationKey } from './auth/jwt';
import { loadGatewayConfig, type GatewayConfig } from './config';
import { closeGracefully } from './http/graceful-close';
import { RedisIdempotencyStore } from './http/idempotency';
import { createMetrics } from './http/metrics';
import { rateLimiter, rateLimits } from './http/rate-limits';
import { bytesOf, startGrpcDoor } from './grpc-door/door';
import { ReserveBatcher } from './reserve-batcher';
import { SoldOutSet } from './sold-out-set';
import { Upstreams } from './upstreams';

const VERSION = (require('../package.json') as { version: string }).version;

export interface RunningGateway {
  port: number;
  /** The gRPC front door's port (TLS). */
  grpcPort: number;
  stop(): Promise<void>;
}

/** The composition root: builds the gateway from its config and starts listening. */
export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const metrics = createMetrics();
  const transport = meshTransport(config, 'gateway', logger);
  const upstreams = new Upstreams(
    config,
    {
      errorThresholdPercentage: config.CIRCUIT_ERROR_PERCENT,
      volumeThreshold: config.CIRCUIT_MIN_CALLS,
      resetTimeoutMs: config.CIRCUIT_RESET_MS,
    },
    metrics.upstreamEvents,
    transport,
    GrpcMetrics.of(metrics.registry),
  );
  const addresses = {
    promotion: config.PROMOTION_ADDR,
    inventory: config.INVENTORY_ADDR,
    order: config.ORDER_ADDR,
    payment: config.PAYMENT_ADDR,
  };
  const health = (Object.keys(addresses) as (keyof typeof addresses)[]).map(
    (name) => [name, createHealthClient(addresses[name], transport.client(name))] as const,
  );
  // Commands (idempotency keys, rate limits) fail fast when Redis is away instead of queueing.
  // Auto-pipelining: the commands of many requests in one event-loop turn go out in one write.
  const redis = new Redis(config.REDIS_URL, {
    ...redisAuth(config),
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
  });
  redis.on('error', (err) => logger.warn({ err }, 'redis connection error'));
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  // A dedicated connection: a subscribed Redis connection can do nothing else.
  const subscriber = new Redis(config.REDIS_URL, { ...redisAuth(config), maxRetriesPerRequest: null });
  const soldOut = new SoldOutSet(config.SOLD_OUT_TTL_MS);
  const soldOutTimes = new SoldOutTimes();
  await soldOut.follow(subscriber, logger, (event) => soldOutTimes.apply(event));
  const saleWindows = new SaleWindows();
  let draining = false;
  const soldOutRejected = () => metrics.soldOutRejections.inc();
  const verify = createJwtVerifier({
    key: await verificationKey(config),
    clockToleranceSeconds: config.JWT_CLOCK_TOLERANCE_SECONDS,
    cacheSize: config.JWT_VERIFIED_CACHE_SIZE,
    ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
  });
  const routes = routeTable(meshHttpRules(descriptorSetPath));
  const idempotency = new RedisIdempotencyStore(redis, config.IDEMPOTENCY_TTL_SECONDS);
  const limits = {
    perIpPerSecond: config.RATE_LIMIT_IP_PER_SECOND,
    perUserPerSecond: config.RATE_LIMIT_USER_PER_SECOND,
  };
  const limiter = rateLimiter(redis, limits, logger, metrics.rateLimited);
  const app = createApp({
    logger,
    verify,
    handlers: operationHandlers({
      upstreams,
      soldOut,
      soldOutRejected,
      ...(config.RESERVE_BATCH_MAX > 1
        ? {
            batcher: new ReserveBatcher(upstreams, {
              maxBatch: config.RESERVE_BATCH_MAX,
              maxPartialInFlight: config.RESERVE_BATCH_IN_FLIGHT || Infinity,
              maxWaitMs: config.RESERVE_BATCH_WAIT_MS,
            }),
          }
        : {}),
    }),
    refusals: memoryRefusals({ soldOut, soldOutRejected }),
    upstreamTimeoutMs: config.UPSTREAM_TIMEOUT_MS,
    bodyLimit: config.BODY_LIMIT,
    routes,
    idempotency,
    rateLimits: rateLimits(limiter, limits),
    metrics,
    maxInFlight: config.MAX_IN_FLIGHT,
    corsOrigins: config.CORS_ORIGINS,
    trustedProxies: config.TRUSTED_PROXIES,
    version: VERSION,
    draining: () => draining,
    console: {
      feed: new ConsoleFeed(upstreamSources(upstreams), saleWindows, soldOutTimes),
      observers: { 'flashsale.inventory.v1.InventoryService.Reserve': purchaseObserver(saleWindows) },
    },
    readiness: async () => {
      const results = await Promise.all(health.map(async ([name, client]) => [name, await isServing(client)] as const));
      const redisReady = subscriber.status === 'ready' && redis.status === 'ready';
      return { ...Object.fromEntries(results), redis: redisReady, accepting: !draining };
    },
  });
  const door = await startGrpcDoor({
    host: config.HTTP_HOST,
    port: config.GRPC_DOOR_PORT,
    tlsDir: config.GRPC_DOOR_TLS_DIR,
    routes,
    descriptorSet: readFileSync(descriptorSetPath),
    maxMessageBytes: bytesOf(config.BODY_LIMIT),
    // As the services do: with mTLS off the allow-list is not in force (and need not be mounted).
    ...(config.MTLS_MODE === 'on'
      ? { policy: { policy: loadAccessPolicy(config.ACCESS_POLICY_FILE), source: config.ACCESS_POLICY_FILE } }
      : {}),
    upstreams,
    verify,
    limiter,
    idempotency,
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    logger,
    metrics: GrpcMetrics.of(metrics.registry),
  });

  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(config.HTTP_PORT, config.HTTP_HOST, () => resolve(listening));
  });
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as { port: number }).port;
  logger.info({ port, upstreams: addresses }, 'gateway listening');
  return {
    port,
    grpcPort: door.port,
    async stop() {
      // Readiness fails first so load balancers stop sending; every answer from now on closes its connection.
      draining = true;
      await Promise.all([closeGracefully(server, config.SHUTDOWN_GRACE_MS), door.stop(config.SHUTDOWN_GRACE_MS)]);
      upstreams.close();
      subscriber.disconnect();
      redis.disconnect();
      for (const [, client] of health) client.close();
      transport.close();
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
