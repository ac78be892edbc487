/**
 * `npm run bench:redis`: how long single Redis commands block the shared Redis when one sale holds
 * 1,000,000 reservations (BENCH_RESERVATIONS).
 *
 * The sale exists only in Redis (no service knows it). Its hashes are filled with pipelined HSETs of the shape
 * the reserve script writes, with the held count to match; its outbox stays empty (the relay drains it as it goes).
 * Then, with Redis's latency monitor at 1 ms and the slow log at BENCH_SLOWLOG_US, each phase runs the inventory's
 * shipped code paths (RedisStockCache, the same Lua scripts, MERGE_CHUNK and RECOUNT_PAGE as shipped) and records
 * LATENCY LATEST/HISTORY, the slow log and client round trips. Lazy freeing is on as scripts/infra.sh starts Redis
 * (set for the run where the server has it off). Redis's settings are put back and the sale's keys are UNLINKed
 * afterwards. A benchmark, not a test: nothing here fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { LedgerEntry } from '../services/inventory/src/domain/ledger';
import { orderIndexKey, saleKeys } from '../services/inventory/src/domain/sale-keys';
import { LAZY_FREE } from '../services/inventory/src/infrastructure/redis/lazy-free';
import {
  MERGE_CHUNK,
  RECOUNT_PAGE,
  RedisStockCache,
} from '../services/inventory/src/infrastructure/redis/redis-stock-cache';
import { machine } from './lib/processes';
import { percentiles } from './lib/stats';
import { markdown, type Phase } from './lib/redis-report';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const N = Number(process.env.BENCH_RESERVATIONS ?? 1_000_000);
const SLOWLOG_US = Number(process.env.BENCH_SLOWLOG_US ?? 500);
/** Slow log entries kept: a recount's thousands of pages near 1 ms would push its worst out of the default 128. */
const SLOWLOG_LEN = 20_000;
const FILL_BATCH = 1_000;
const PRICE = 1999;
const MERGE_CALLS = 200;
const MERGED = MERGE_CALLS * MERGE_CHUNK;
/** Recount pages: as shipped, and the smaller and larger pages the measurements before it weighed. */
const RECOUNT_PAGES = [RECOUNT_PAGE, 300, 500];

const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;
const summary = (times: number[]) => {
  const { p50, p99, max } = percentiles(times, 3);
  return { calls: times.length, p50Ms: p50, p99Ms: p99, maxMs: max };
};

async function timed<T>(times: number[], call: () => Promise<T>): Promise<T> {
  const start = process.hrtime.bigint();
  const result = await call();
  times.push(ms(start));
  return result;
}

/** Runs `call(i)` for i < count from `concurrency` loops. */
async function spread(count: number, concurrency: number, call: (i: number) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await call(next++);
    }),
  );
}

type SlowEntry = { id: number; atS: number; us: number; command: string };
const slowlog = async (redis: Redis): Promise<SlowEntry[]> =>
  ((await redis.call('SLOWLOG', 'GET', String(SLOWLOG_LEN))) as [number, number, number, string[]][])
    .map(([id, atS, us, args]) => ({
      id,
      atS,
      us,
      command: args.slice(0, 4).join(' ').replace(/\s+/g, ' ').slice(0, 100),
    }))
    .sort((a, b) => b.us - a.us);

async function latency(redis: Redis) {
  const latest = (await redis.call('LATENCY', 'LATEST')) as [string, number, number, number][];
  const events = latest.map(([event, atS, lastMs, maxMs]) => ({ event, atS, lastMs, maxMs }));
  const history: Record<string, [number, number][]> = {};
  for (const { event } of events) {
    history[event] = (await redis.call('LATENCY', 'HISTORY', event)) as [number, number][];
  }
  return { latest: events, history };
}

async function phase(redis: Redis, name: string, run: () => Promise<Record<string, unknown>>): Promise<Phase> {
  await redis.call('SLOWLOG', 'RESET');
  await redis.call('LATENCY', 'RESET');
  const start = process.hrtime.bigint();
  const client = await run();
  const wallMs = Math.round(ms(start));
  // The latency monitor first: reading thousands of slow log entries (and resetting them) takes milliseconds of its
  // own, which neither record may blame on the phase.
  const events = await latency(redis);
  const slow = (await slowlog(redis)).filter((e) => !/^(slowlog|latency) /i.test(e.command));
  // The slow log times commands; the latency monitor also sees what is no command (an expiry cycle).
  const worstEventMs = Math.max(0, ...events.latest.map((e) => e.maxMs));
  const worstUs = Math.max(slow[0]?.us ?? 0, worstEventMs * 1000);
  const result = { name, wallMs, client, worstUs, slowlog: slow.slice(0, 5), latency: events };
  console.log(`${name}: worst ${(worstUs / 1000).toFixed(2)} ms (${slow[0]?.command ?? 'no command over threshold'})`);
  return result;
}

/** Ledger entries the fill already wrote (orders o<from>..), so a merge finds every one and changes nothing. */
const known = (from: number, size: number, promotionId: string, now: number): LedgerEntry[] =>
  Array.from({ length: size }, (_, j) => {
    const i = from + j;
    return {
      orderId: `o${i}`,
      promotionId,
      userId: `u${i}`,
      quantity: 1,
      amountCents: BigInt(PRICE),
      status: 'RESERVED',
      reservedAtMs: now - 60_000 + i,
      idempotencyKey: `k${i}`,
    };
  });

/** Times each page of the recounts `cache` makes on `redis` (the script is defined per connection). */
function timePages(redis: Redis, times: number[]) {
  const scripted = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const page = scripted.flashRecountHeld!.bind(redis);
  scripted.flashRecountHeld = (...args: unknown[]) => timed(times, () => page(...args));
  return () => void (scripted.flashRecountHeld = page);
}

/** Fills the sale's hashes as `count` reserve calls would have (users u<i>, one unit each, keys k<i>). */
async function fill(redis: Redis, promotionId: string, count: number, startsAtMs: number) {
  const k = saleKeys(promotionId);
  for (let from = 0; from < count; from += FILL_BATCH * 10) {
    const pipeline = redis.pipeline();
    for (let b = from; b < Math.min(count, from + FILL_BATCH * 10); b += FILL_BATCH) {
      const users: string[] = [];
      const idem: string[] = [];
      const reservations: string[] = [];
      for (let i = b; i < Math.min(count, b + FILL_BATCH); i++) {
        const order = `o${i}`;
        users.push(`u${i}`, '1');
        idem.push(`u${i}:k${i}`, order);
        const record = { u: `u${i}`, q: 1, a: PRICE, t: startsAtMs + i, s: i % 10 === 0 ? 'C' : 'R', k: `k${i}` };
        reservations.push(order, JSON.stringify(record));
      }
      pipeline
        .hset(k.users, ...users)
        .hset(k.idempotency, ...idem)
        .hset(k.reservations, ...reservations);
    }
    await pipeline.exec();
  }
  // One unit a reservation, none released: the held count the scripts would have kept.
  await redis.hset(k.held, 'units', count, 'records', count);
}

async function main() {
  const redis = new Redis(REDIS_URL);
  const promotionId = `bench-redis-${Date.now()}`;
  const k = saleKeys(promotionId);
  const cache = new RedisStockCache(redis);
  const saved = {
    latency: ((await redis.config('GET', 'latency-monitor-threshold')) as string[])[1]!,
    slowlog: ((await redis.config('GET', 'slowlog-log-slower-than')) as string[])[1]!,
    slowlogLen: ((await redis.config('GET', 'slowlog-max-len')) as string[])[1]!,
  };
  const server = await redis.info('server');
  // Lazy freeing as scripts/infra.sh starts the local Redis; a server started otherwise gets it for this run.
  const lazyfreeBefore = new Map<string, string>();
  for (const name of LAZY_FREE) lazyfreeBefore.set(name, ((await redis.config('GET', name)) as string[])[1]!);
  for (const name of LAZY_FREE) await redis.config('SET', name, 'yes');
  const phases: Phase[] = [];
  const hotOrders: string[] = [];
  const now = Date.now();
  const total = N * 2;
  let cleanup: ReturnType<typeof summary> | undefined;
  try {
    // The sale as PrepareSale leaves it: terms, a seeded counter, every key expiring after the sale.
    await cache.rebuild(
      {
        promotionId,
        priceCents: BigInt(PRICE),
        totalStock: total,
        perUserLimit: 10,
        startsAt: new Date(now - 60_000),
        endsAt: new Date(now + 3_600_000),
        paymentTimeoutSeconds: 600,
      },
      [],
    );
    const fillStart = process.hrtime.bigint();
    await fill(redis, promotionId, N, now - 60_000);
    await redis.set(k.stock, total - N);
    for (const key of [k.users, k.idempotency, k.reservations]) await redis.pexpireat(key, now + 2 * 3_600_000);
    const fillMs = Math.round(ms(fillStart));
    console.log(`filled ${N} reservations in ${fillMs} ms; hlen ${await redis.hlen(k.reservations)}`);
    await redis.config('SET', 'latency-monitor-threshold', '1');
    await redis.config('SET', 'slowlog-log-slower-than', String(SLOWLOG_US));
    await redis.config('SET', 'slowlog-max-len', String(SLOWLOG_LEN));

    // Buyer i of a phase, with ids of its own (`prefix`), buying one unit.
    const reserveAs = (prefix: string, i: number) =>
      cache.reserve({
        promotionId,
        userId: `${prefix}${i}`,
        idempotencyKey: `${prefix}k${i}`,
        quantity: 1,
        orderId: `${prefix}o${i}`,
        eventId: `${prefix}e${i}`,
      });
    phases.push(
      await phase(redis, 'reserve (hot path, 5,000 calls, 32 concurrent)', async () => {
        const times: number[] = [];
        await spread(5_000, 32, async (i) => {
          const r = await timed(times, () => reserveAs('h', i));
          if (r.outcome === 'RESERVED') hotOrders.push(`ho${i}`);
        });
        return summary(times);
      }),
    );
    phases.push(
      await phase(redis, 'confirm + release (ledger/settle paths, 2,000 calls)', async () => {
        const times: number[] = [];
        await spread(1_000, 16, (i) => timed(times, () => cache.confirm(promotionId, `o${i * 7 + 1}`)));
        await spread(1_000, 16, (i) => timed(times, () => cache.release(promotionId, `o${i * 7 + 2}`)));
        return summary(times);
      }),
    );
    phases.push(
      await phase(redis, 'sold out (stock 0, 2,000 rejected reserves)', async () => {
        const stock = await redis.get(k.stock);
        await redis.set(k.stock, 0);
        const times: number[] = [];
        await spread(2_000, 32, (i) => timed(times, () => reserveAs('s', i)));
        await redis.set(k.stock, stock!);
        return summary(times);
      }),
    );
    phases.push(
      await phase(redis, 'metrics stock read and relay probes (500 pipelines)', async () => {
        const times: number[] = [];
        for (let i = 0; i < 500; i++) {
          await timed(times, () =>
            redis
              .pipeline()
              .get(k.stock)
              .hget(k.meta, 'total')
              .xlen(k.outbox)
              .xrange(k.outbox, '-', '+', 'COUNT', 1)
              .exec(),
          );
        }
        return summary(times);
      }),
    );
    phases.push(
      await phase(
        redis,
        `reconciler merge (MERGE of ${MERGE_CHUNK} known entries a call, ${MERGE_CALLS} calls)`,
        async () => {
          const times: number[] = [];
          for (let c = 0; c < MERGE_CALLS; c++) {
            const entries = known(c * MERGE_CHUNK, MERGE_CHUNK, promotionId, now);
            await timed(times, () => cache.merge(promotionId, entries));
          }
          return summary(times);
        },
      ),
    );
    for (const pageSize of RECOUNT_PAGES) {
      const shipped = pageSize === RECOUNT_PAGE ? ', as shipped' : '';
      phases.push(
        await phase(redis, `reconciler held recount (RECOUNT_HELD, pages of ${pageSize}${shipped})`, async () => {
          const times: number[] = [];
          const untime = timePages(redis, times);
          try {
            const recount = await cache.recountHeld(promotionId, pageSize);
            return { ...summary(times), recount };
          } finally {
            untime();
          }
        }),
      );
    }
    phases.push(
      await phase(redis, 'reconciler stock check (CHECK_STOCK, O(1), 1,000 calls)', async () => {
        const times: number[] = [];
        let drift: number | undefined;
        for (let i = 0; i < 1_000; i++) drift = await timed(times, () => cache.checkStock(promotionId, true));
        return { ...summary(times), drift };
      }),
    );
    phases.push(
      await phase(redis, `expiry of the sale's three hashes at once (${N} fields each, lazy freeing)`, async () => {
        // They share one expiry time, as RESERVE sets it.
        const big = [k.users, k.idempotency, k.reservations];
        const at = Date.now() + 5;
        for (const key of big) await redis.pexpireat(key, at);
        const start = process.hrtime.bigint();
        while ((await redis.exists(...big)) > 0) await new Promise((r) => setTimeout(r, 5));
        return { goneAfterMs: Math.round(ms(start)) };
      }),
    );
  } finally {
    await redis.config('SET', 'latency-monitor-threshold', saved.latency);
    await redis.config('SET', 'slowlog-log-slower-than', saved.slowlog);
    await redis.config('SET', 'slowlog-max-len', saved.slowlogLen);
    for (const [name, value] of lazyfreeBefore) await redis.config('SET', name, value);
    // UNLINK frees big values on a background thread; DEL would free a million fields inline.
    const times: number[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `flashsale:{promo:${promotionId}}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await timed(times, () => redis.unlink(...keys));
    } while (cursor !== '0');
    // The order index (outside the sale's slot): the hot path's orders and those the merge phase restored.
    const indexed = [...hotOrders, ...Array.from({ length: MERGED }, (_, i) => `o${i}`)];
    for (let i = 0; i < indexed.length; i += 1000) await redis.unlink(...indexed.slice(i, i + 1000).map(orderIndexKey));
    cleanup = summary(times);
    console.log(`cleanup: UNLINK ${JSON.stringify(cleanup)}`);
    redis.disconnect();
  }

  const worst = [...phases].sort((a, b) => b.worstUs - a.worstUs)[0]!;
  const result = {
    at: new Date().toISOString(),
    machine: machine(),
    redis: /^redis_version:(\S+)/m.exec(server)?.[1],
    lazyfreeLazyExpire: `yes, and ${LAZY_FREE.slice(1).join(', ')} (the server had ${[...lazyfreeBefore.values()].join('/')})`,
    reservations: N,
    slowlogThresholdUs: SLOWLOG_US,
    unlinkOfTheSaleKeys: cleanup,
    worst: { phase: worst.name, ms: worst.worstUs / 1000, command: worst.slowlog[0]?.command },
    phases,
  };
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  // To the second: a run takes well under a minute, and runs in a row must not overwrite each other.
  const stamp = result.at.slice(0, 19).replace(/:/g, '-');
  writeFileSync(join(dir, `redis-${stamp}.json`), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(dir, `redis-${stamp}.md`), markdown(result));
  console.log(`worst: ${result.worst.ms} ms in "${worst.name}" (${result.worst.command})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
