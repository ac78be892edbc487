/**
 * Shared setup of the inventory's integration tests: the real service on port 0 against the local Redis, Kafka
 * and PostgreSQL, a real gRPC client, and helpers that read the state the tests assert on.
 */
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { Client as PgClient } from 'pg';
import { inventoryV1 } from '@flash-sale/contracts';
import { callerMetadata, callUnary, readFailure, type CallFailure } from '@flash-sale/grpc-kit';
import { infra, meshClient, serviceEnv } from '@flash-sale/testing';
import { loadInventoryConfig } from '../src/config';
import { saleKeys } from '../src/domain/sale-keys';
import { startInventoryService } from '../src/service';

export type InventoryClient = inventoryV1.InventoryServiceClient;

export interface Harness {
  client: InventoryClient;
  redis: Redis;
  stop(): Promise<void>;
}

/**
 * Boots the real inventory service on a free port, plus a client (each method called as the workload the allow-list
 * names, over mTLS unless `MTLS_MODE: 'off'` is given) and a Redis connection for assertions.
 */
export async function startInventory(extraEnv: Record<string, string> = {}): Promise<Harness> {
  const service = await startInventoryService(loadInventoryConfig(serviceEnv('inventory', extraEnv)));
  const client = meshClient(inventoryV1.InventoryServiceClient, `127.0.0.1:${service.port}`, {
    mtls: extraEnv.MTLS_MODE === 'off' ? 'off' : 'on',
  });
  const redis = new Redis(infra.redisUrl);
  return {
    client,
    redis,
    async stop() {
      client.close();
      redis.disconnect();
      await service.stop();
    },
  };
}

const offset = BigInt(Math.floor(Math.random() * 1000));
let last = 0n;
/**
 * A fresh Snowflake-like decimal id (ms x 1000, plus a random offset per test process), so every test owns its
 * promotion. Never the same twice in a process: a counter modulo 1000 repeated itself when a test made over a
 * thousand ids within one millisecond (CI did), so within a millisecond the ids now just count up.
 */
export const newId = () => {
  const now = BigInt(Date.now()) * 1000n + offset;
  last = now > last ? now : last + 1n;
  return last.toString();
};

export const asUser = (userId: string) => callerMetadata({ userId, roles: [] }, new Metadata());

type Method<Req, Res> = Parameters<typeof callUnary<Req, Res>>[0];

/** One unary call with a 20 s deadline; identity only when `metadata` is given. */
export const call = <Req, Res>(client: InventoryClient, method: Method<Req, Res>, request: Req, metadata?: Metadata) =>
  callUnary(method, client, request, { timeoutMs: 20_000, ...(metadata ? { metadata } : {}) });

/** A call's outcome as data: the response, or the decoded failure (status, message, ErrorInfo). */
export type Outcome<Res> = { ok: true; response: Res } | { ok: false; failure: CallFailure };

export const outcome = <Res>(promise: Promise<Res>): Promise<Outcome<Res>> =>
  promise.then(
    (response) => ({ ok: true as const, response }),
    (error: ServiceError) => ({ ok: false as const, failure: readFailure(error) }),
  );

export interface SaleOptions {
  priceCents?: number;
  stock?: number;
  perUserLimit?: number;
  /** Window start relative to now. */
  startsInMs?: number;
  lengthMs?: number;
  paymentTimeoutSeconds?: number;
}

export function saleRequest(promotionId: string, options: SaleOptions = {}): inventoryV1.PrepareSaleRequest {
  const startsAt = Date.now() + (options.startsInMs ?? -1_000);
  return inventoryV1.PrepareSaleRequest.fromPartial({
    promotionId,
    priceCents: String(options.priceCents ?? 2_500),
    stock: options.stock ?? 100,
    perUserLimit: options.perUserLimit ?? 1,
    startsAt: new Date(startsAt),
    endsAt: new Date(startsAt + (options.lengthMs ?? 3_600_000)),
    paymentTimeoutSeconds: options.paymentTimeoutSeconds ?? 600,
  });
}

/** Prepares a sale under a fresh promotion id and returns the id. */
export async function newSale(client: InventoryClient, options: SaleOptions = {}): Promise<string> {
  const promotionId = newId();
  await call(client, client.prepareSale, saleRequest(promotionId, options));
  return promotionId;
}

export const reserve = (client: InventoryClient, promotionId: string, userId: string, quantity: number, key: string) =>
  outcome(call(client, client.reserve, { promotionId, quantity, idempotencyKey: key }, asUser(userId)));

export const getStock = (client: InventoryClient, promotionId: string) =>
  call(client, client.getStock, { promotionId });

/** Runs `tasks` with at most `limit` in flight, as a bounded crowd of clients would. */
export async function runPool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** Everything Redis holds for one promotion (plus the given order index keys), for before/after comparisons. */
export async function redisSnapshot(redis: Redis, promotionId: string, extraKeys: string[] = []) {
  const snapshot: Record<string, unknown> = {};
  for (const key of [...Object.values(saleKeys(promotionId)), ...extraKeys]) {
    const type = await redis.type(key);
    if (type === 'string') snapshot[key] = await redis.get(key);
    else if (type === 'hash') snapshot[key] = await redis.hgetall(key);
    else if (type === 'stream') snapshot[key] = await redis.xrange(key, '-', '+');
    else snapshot[key] = type;
  }
  return snapshot;
}

/** The sale's row as the inventory role sees it in PostgreSQL. */
export async function saleRow(promotionId: string) {
  const pg = new PgClient({ connectionString: infra.databaseUrl('inventory') });
  await pg.connect();
  try {
    const { rows } = await pg.query<{ total_stock: number; sold: number; version: number }>(
      'SELECT total_stock, sold, version FROM inventory.sales WHERE promotion_id = $1',
      [promotionId],
    );
    return rows[0];
  } finally {
    await pg.end();
  }
}

/** Counts outcomes by success or failure reason, e.g. { ok: 100, SOLD_OUT: 1800, PURCHASE_LIMIT_REACHED: 100 }. */
export function tally(outcomes: Outcome<unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const name = o.ok ? 'ok' : `${o.failure.code}:${o.failure.info?.reason ?? o.failure.message}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
