import type { Redis } from 'ioredis';
import { saleKeys } from '../../services/inventory/src/domain/sale-keys';
import { RedisStockCache } from '../../services/inventory/src/infrastructure/redis/redis-stock-cache';
import { RESERVE } from '../../services/inventory/src/infrastructure/redis/scripts';
import { drive, type Result } from './drive';

/**
 * The ceiling of the hot path: the reserve Lua script called by EVALSHA straight against Redis from `concurrency`
 * loops on one connection, on a sale that exists only in Redis (no service knows it, so nothing relays it), with a
 * stock large enough that every call takes the full success path. The sale's keys are deleted afterwards.
 */
export async function measureRawEvalsha(
  redis: Redis,
  options: { concurrency: number; durationMs: number; warmUpMs?: number },
): Promise<Result> {
  const base = BigInt(Date.now()) * 1000n + 500n;
  const promotionId = String(base);
  const now = Date.now();
  await new RedisStockCache(redis).rebuild(
    {
      promotionId,
      priceCents: 1999n,
      totalStock: 50_000_000,
      perUserLimit: 1_000_000,
      startsAt: new Date(now - 1_000),
      endsAt: new Date(now + 3_600_000),
      paymentTimeoutSeconds: 600,
    },
    [],
  );
  const sha = (await redis.script('LOAD', RESERVE)) as string;
  const k = saleKeys(promotionId);
  const call = async (n: number) => {
    const reply = (await redis.evalsha(
      sha,
      8,
      k.meta,
      k.stock,
      k.users,
      k.idempotency,
      k.reservations,
      k.outbox,
      k.held,
      k.writes,
      `bench-${n % 20_000}`,
      `r${n}`,
      1,
      String(base + 10n + 2n * BigInt(n)),
      String(base + 11n + 2n * BigInt(n)),
      promotionId,
    )) as string[];
    if (reply[0] !== 'RESERVED') throw new Error(reply[0]);
  };
  try {
    await drive((n) => call(n + 10_000_000), options.concurrency, options.warmUpMs ?? 2_000);
    return await drive(call, options.concurrency, options.durationMs);
  } finally {
    // UNLINK: the reservations hash holds every call of the run, which DEL would free inline, blocking Redis.
    await redis.unlink(...Object.values(k));
  }
}
