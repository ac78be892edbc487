/**
 * `npm run bench`: a flash sale through the HTTP gateway, measured against this machine's ceilings.
 *
 * Brings up its own mesh (the four services and the gateway from dist/, each a process, with OpenTelemetry loaded
 * as in production) on ports of its own, next to whatever else runs. A separate load process (undici) then:
 *   1. warms the gateway's purchase path for 5 s on a sale of its own (not recorded), then measures the Express
 *      floor: the gateway's own Express app answering at once (same middleware, no Redis, no upstream);
 *   2. sells a promotion of BENCH_STOCK (10,000) units, one per user, to BENCH_CONNECTIONS (64) buyers pressing buy
 *      back to back with 40,000 distinct tokens, until the stock is gone and BENCH_AFTER_MS (10 s) beyond; the buyers'
 *      connections open at the sale's start, and the accepted purchases are counted second by second from it;
 *   3. measures how long until every accepted order is a row in PostgreSQL;
 *   4. offers a fixed 80% of the peak purchase rate (or BENCH_STEADY_RATE) to a large sale for 10 s and measures the
 *      latency and the CPU per purchase;
 *   5. measures the ceilings again, with the mesh idle: the Express floor, a bare Node http server, and raw
 *      EVALSHA of the reserve script straight against Redis. Each floor is warmed for 10 s and measured twice for
 *      BENCH_CEILING_MS (5 s), the better window counting; the ratios use the mean of the two Express floors.
 *      The second Express floor then takes turns with the sold-out path (5 × 2 s each), for a ratio of the two
 *      that the host's drift over minutes does not skew.
 * The processes talk mutual TLS, as everywhere; BENCH_MTLS=off runs them in plaintext, to measure what mTLS costs.
 * As shipped, every process serves /metrics, which the local Prometheus (scripts/infra.sh) scrapes every second
 * during the run, and OpenTelemetry propagates trace context with no exporter; BENCH_METRICS=off and
 * BENCH_TRACING=off measure what each costs.
 * Writes bench/results/<date>.json, .md and .svg (throughput and latency over the sale), and with BENCH_CPU_PROF a
 * CPU profile and a flame graph (<process>.flame.svg) of each mesh process in that directory. Figures, not tests:
 * nothing here fails on a slow machine.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Pool as PgPool } from 'pg';
import type { LoadResult, LoadRun } from './load';
import { measureRawEvalsha } from './lib/evalsha';
import {
  machine,
  infrastructureProcesses,
  root,
  sampleProcesses,
  startProcess,
  stopProcess,
  type Running,
} from './lib/processes';
import { BENCH_DATABASE, BENCH_TOPIC_PREFIX, freshDatabase } from './lib/database';
import { addr, benchMetrics, benchMtls, databaseUrl, Mesh, REDIS_URL } from './lib/mesh';
import { scrapeWhileRunning } from './lib/scrape';
import { acceptedBySecond, percentiles, series } from './lib/stats';
import { capacity, renderReport } from './lib/report';
import { monotonicUs, writeFlameGraphs, type Window } from './lib/flame';
import { until } from './lib/wait';
import { mint } from '../scripts/token';

const env = process.env;
const STOCK = Number(env.BENCH_STOCK ?? 10_000);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 64);
const AFTER_MS = Number(env.BENCH_AFTER_MS ?? 10_000);
const CEILING_MS = Number(env.BENCH_CEILING_MS ?? 5_000);
/** The steady phase's rate, purchases/s, instead of 80% of the peak: two versions compare at the same load. */
const STEADY_RATE = env.BENCH_STEADY_RATE === undefined ? undefined : Number(env.BENCH_STEADY_RATE);
if (STEADY_RATE !== undefined && !(STEADY_RATE > 0)) throw new Error('BENCH_STEADY_RATE must be a positive number');
/** How long the gateway is driven before the sale (JIT, connection pools). */
const WARM_MS = 5_000;
/**
 * How long each floor is driven before it is measured: longer than the gateway, which has served the whole sale by
 * the time its sold-out path is measured; a floor's rate was still rising 20 s in.
 */
const FLOOR_WARM_MS = 10_000;
/**
 * The sold-out path and the Express floor are also driven in turns, PAIR_MS each, PAIRS times: the floors measured
 * minutes apart differed by up to 43% in one run on this host, while turns this short see the same host.
 */
const PAIRS = 5;
const PAIR_MS = 2_000;
const USERS = 40_000;
/**
 * Below Linux's ephemeral range (32768 and up): a port in it can be taken, at any moment, as the local end of some
 * process's outgoing connection, and a run once failed to start its payment service on 51054 that way.
 */
const PORTS = {
  gateway: 18080,
  promotion: 31051,
  inventory: 31052,
  order: 31053,
  payment: 31054,
  node: 18091,
  express: 18092,
};
const PURCHASE_BODY = JSON.stringify({ quantity: 1 });

// BENCH_TRACING=off runs everything without OpenTelemetry, to see what tracing costs.
const tracing = env.BENCH_TRACING === 'off' ? [] : ['--require', '@flash-sale/observability/register'];
const MTLS = benchMtls();
const METRICS = benchMetrics();

function loadRunner(load: Running) {
  return (spec: LoadRun) =>
    new Promise<LoadResult>((resolve, reject) => {
      load.child!.once('message', (reply: { ok: boolean; result?: LoadResult; error?: string }) =>
        reply.ok ? resolve(reply.result!) : reject(new Error(reply.error)),
      );
      load.child!.send(spec);
    });
}

function summary(result: LoadResult, from = 0, to = Infinity) {
  const picked = result.ends.map((end, i) => i).filter((i) => result.ends[i]! > from && result.ends[i]! <= to);
  const last = result.ends.reduce((a, b) => Math.max(a, b), 0);
  const seconds = (Math.min(to, last) - from) / 1000;
  const byStatus: Record<string, number> = {};
  for (const i of picked) byStatus[result.statuses[i]!] = (byStatus[result.statuses[i]!] ?? 0) + 1;
  return {
    requests: picked.length,
    perSecond: Math.round(picked.length / seconds),
    latencyMs: percentiles(picked.map((i) => result.latencies[i]!)),
    byStatus,
  };
}

async function main() {
  const secret = randomBytes(24).toString('base64url');
  const sign = (user: string, admin = false) => mint(user, { admin, key: secret, ttlSeconds: 3 * 3600 });
  const run = `${Date.now().toString(36)}`;
  const tokens = await Promise.all(Array.from({ length: USERS }, (_, u) => sign(`bench-${run}-${u}`)));
  const adminToken = await sign(`bench-admin-${run}`, true);
  const work = join(root, '.cache', 'bench');
  mkdirSync(work, { recursive: true });
  const tokensFile = join(work, 'tokens.txt');
  writeFileSync(tokensFile, tokens.join('\n'));

  const profile = env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`] : [];
  await freshDatabase(BENCH_DATABASE);
  // BENCH_NODE_ARGS: more node flags for every mesh process (V8 heap sizes, for instance), space-separated.
  const extra = env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const mesh = new Mesh({
    ports: PORTS,
    jwtSecret: secret,
    nodeArgs: [...tracing, ...profile, ...extra],
    database: BENCH_DATABASE,
    topicPrefix: BENCH_TOPIC_PREFIX,
    mtls: MTLS,
    metrics: METRICS,
  });
  mesh.startAll();
  // As shipped: every process serves /metrics and a real Prometheus scrapes it (locally every second, more often
  // than a cluster's usual 15 to 30 s, so the cost is if anything overstated).
  const targets = mesh.metricsTargets();
  const stopScraping = targets && scrapeWhileRunning(`bench-${run}`, targets);
  const load = startProcess('load', 'bench/load.ts', {});
  const drive = loadRunner(load);
  const redis = new Redis(REDIS_URL);
  const pg = new PgPool({ connectionString: databaseUrl('orders', BENCH_DATABASE), max: 2 });
  const gateway = `http://${addr(PORTS.gateway)}`;
  const floors: Running[] = [];
  /** While the stock lasted, on the clock CPU profiles use: their flame graphs cover it. */
  let saleWindow: Window | undefined;
  /** When the load generator began the sale, on the same clock. */
  let saleStartUs: number | undefined;
  try {
    await until('the mesh', async () => (await fetch(`${gateway}/readyz`)).status === 200, 120_000);
    const purchaseRun = (url: string, path: string): LoadRun => ({
      url,
      path,
      method: 'POST',
      body: PURCHASE_BODY,
      tokensFile,
      idempotencyKey: true,
      connections: CONNECTIONS,
      mode: 'closed',
      durationMs: CEILING_MS,
    });

    /**
     * One ceiling: a floor server of its own, warmed for FLOOR_WARM_MS, then the better of
     * two windows (a ceiling is what the process can do; a slow second on a shared host must not lower it and
     * flatter the ratios). The floors run with the same instrumentation as the mesh, so ratios compare like with
     * like, and while the mesh sits idle.
     */
    const ceiling = async (kind: 'node' | 'express', whileUp?: (floor: LoadRun) => Promise<void>) => {
      const floor = startProcess(`${kind}-floor`, 'bench/floor-server.ts', {}, tracing, [
        kind,
        String(PORTS[kind]),
        secret,
      ]);
      floors.push(floor);
      await until(
        `${kind} floor`,
        async () => {
          const reply = await fetch(`http://${addr(PORTS[kind])}/`).catch(() => undefined);
          return reply !== undefined;
        },
        120_000,
      );
      const spec = purchaseRun(`http://${addr(PORTS[kind])}`, '/v1/promotions/1/purchase');
      await drive({ ...spec, durationMs: FLOOR_WARM_MS });
      const [first, second] = [summary(await drive(spec)), summary(await drive(spec))];
      await whileUp?.(spec);
      await stopProcess(floor);
      return first.perSecond >= second.perSecond ? first : second;
    };

    const admin = async (body: object) => {
      const reply = await fetch(`${gateway}/v1/promotions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (reply.status !== 201) throw new Error(`create promotion: ${reply.status} ${await reply.text()}`);
      return ((await reply.json()) as { id: string }).id;
    };
    const sale = (stock: number, perUserLimit: number) =>
      admin({
        itemId: `bench-${run}`,
        title: 'Benchmark sale',
        priceCents: 1999,
        stock,
        perUserLimit,
        startsAt: new Date(Date.now() - 1_000).toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        paymentTimeoutSeconds: 3_600,
      });

    console.log('[bench] warm-up (not recorded)');
    const warm = await sale(5_000_000, 100);
    await drive({ ...purchaseRun(gateway, `/v1/promotions/${warm}/purchase`), durationMs: WARM_MS });

    // The Express floor is measured just before the sale and again after it, and the ratios use the mean: this
    // host's speed drifts by a factor of two over minutes, and measured once (first, while the mesh was starting)
    // the floor came out at half its value and flattered every ratio.
    console.log('[bench] the Express floor, before the sale');
    const floorBefore = await ceiling('express');

    console.log(`[bench] flash sale: ${STOCK} units, limit 1, ${CONNECTIONS} buyers back to back, ${USERS} users`);
    const promotionId = await sale(STOCK, 1);
    const sampler = sampleProcesses([...mesh.processes(), load, ...infrastructureProcesses()]);
    // Orders in PostgreSQL, counted every 100 ms while the sale runs and after, to time the drain.
    const orders = async () =>
      (
        await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM orders.orders WHERE promotion_id = $1', [
          promotionId,
        ])
      ).rows[0]!.n;
    const counts: { at: number; n: number }[] = [];
    let counting = true;
    const counter = (async () => {
      while (counting) {
        counts.push({ at: Date.now(), n: await orders() });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const flash = await drive({
      ...purchaseRun(gateway, `/v1/promotions/${promotionId}/purchase`),
      durationMs: 120_000,
      stopAfterAccepted: { accepted: STOCK, afterMs: AFTER_MS },
    });
    const processes = sampler.stop();
    const acceptedAt = flash.ends.filter((_, i) => flash.statuses[i]! < 300);
    const accepted = acceptedAt.length;
    const lastAccept = acceptedAt.reduce((a, b) => Math.max(a, b), 0);
    const firstAccept = acceptedAt.reduce((a, b) => Math.min(a, b), Infinity);
    saleStartUs = monotonicUs(flash.startedAt);
    if (env.BENCH_CPU_PROF) console.log(`[bench] the sale opened at ${saleStartUs} µs on the profiles' clock`);
    saleWindow = {
      fromUs: monotonicUs(flash.startedAt + firstAccept),
      toUs: monotonicUs(flash.startedAt + lastAccept),
    };
    // What one accepted purchase costs each process, in CPU, while the stock lasted (all its work: reservation,
    // relay, ledger, order, outbox, and the consumers that hear of it).
    const window = sampler.cpuBetween(flash.startedAt + firstAccept, flash.startedAt + lastAccept);
    const bought = window
      ? acceptedAt.filter((at) => flash.startedAt + at >= window.from && flash.startedAt + at <= window.to).length
      : 0;
    const cpuMsPerPurchase = Object.fromEntries(
      Object.entries(window?.cpuMs ?? {}).map(([name, ms]) => [name, Number((ms / Math.max(1, bought)).toFixed(3))]),
    );
    // What one sold-out refusal costs each process, after the stock ran out: most of a real sale's requests.
    const lastEnd = flash.ends.reduce((a, b) => Math.max(a, b), 0);
    const refusalWindow = sampler.cpuBetween(flash.startedAt + lastAccept + 500, flash.startedAt + lastEnd);
    const refused = refusalWindow
      ? flash.ends.filter(
          (end, i) =>
            flash.statuses[i] === 409 &&
            flash.startedAt + end >= refusalWindow.from &&
            flash.startedAt + end <= refusalWindow.to,
        ).length
      : 0;
    const cpuMsPerRefusal = Object.fromEntries(
      Object.entries(refusalWindow?.cpuMs ?? {}).map(([name, ms]) => [
        name,
        Number((Math.max(0, ms) / Math.max(1, refused)).toFixed(3)),
      ]),
    );
    await until('every accepted order in PostgreSQL', async () => counts.at(-1)!.n >= accepted, 300_000);
    counting = false;
    await counter;
    // Drain: from the last accepted purchase until every accepted reservation is an order row.
    const drainedAt = counts.find((count) => count.n >= accepted)!.at;
    const drainMs = Math.max(0, drainedAt - (flash.startedAt + lastAccept));
    const stockLeft = (
      (await (await fetch(`${gateway}/v1/promotions/${promotionId}`)).json()) as { availableStock: number }
    ).availableStock;

    // The sale's first second against its best: the load generator opened its connections at the sale's start, as
    // buyers do, so the first second pays whatever the mesh warms on first use for a new promotion.
    const bySecond = acceptedBySecond(flash.ends, flash.statuses);
    const cpuOfSecond = (k: number | undefined) => {
      if (k === undefined) return undefined;
      const cpu = sampler.cpuBetween(flash.startedAt + k * 1000, flash.startedAt + (k + 1) * 1000);
      if (!cpu) return undefined;
      const scale = 1000 / (cpu.to - cpu.from);
      return Object.fromEntries(Object.entries(cpu.cpuMs).map(([name, ms]) => [name, Math.round(ms * scale)]));
    };
    const bestSecond = bySecond.fullSeconds
      ? bySecond.perSecond.indexOf(Math.max(...bySecond.perSecond.slice(0, bySecond.fullSeconds)))
      : undefined;
    const firstSecondCpuMs = {
      first: cpuOfSecond(bySecond.fullSeconds ? 0 : undefined),
      best: cpuOfSecond(bestSecond),
    };
    console.log(
      `[bench] accepted/s by second since the sale opened: ${bySecond.perSecond.join(', ')} (${bySecond.fullSeconds} full);` +
        ` first full second / best (second ${bestSecond}): ${bySecond.firstSecondToBest}`,
    );
    console.log('[bench] CPU ms per process, first second and best:', JSON.stringify(firstSecondCpuMs));

    const whileStock = summary(flash, 0, lastAccept);
    const afterSellOut = summary(flash, lastAccept);

    console.log('[bench] while stock lasted:', JSON.stringify(whileStock), 'after:', JSON.stringify(afterSellOut));
    const rate = STEADY_RATE ?? Math.round(0.8 * whileStock.perSecond);
    console.log(`[bench] open loop at ${rate}/s (80% of the peak purchase rate, unless set) for 10 s`);
    const large = await sale(10_000_000, 100);
    const steadySampler = sampleProcesses([...mesh.processes(), load, ...infrastructureProcesses()]);
    const steadyRun = await drive({
      ...purchaseRun(gateway, `/v1/promotions/${large}/purchase`),
      mode: 'open',
      rate,
      durationMs: 10_000,
    });
    const steadyCpu = steadySampler.stop();
    const steadySummary = summary(steadyRun);
    // CPU per purchase at this rate, all processes: batches are smaller than at the peak, so each costs more.
    const steadyCpuMs = Object.values(steadyCpu).reduce((sum, p) => sum + p.cpuPercent * 10, 0);
    const steady = {
      ...steadySummary,
      cpuMsPerPurchase: Number((steadyCpuMs / Math.max(1, steadySummary.perSecond)).toFixed(2)),
      coresBusy: Number((steadyCpuMs / 1000 / machine().cpus).toFixed(2)),
      cpuPercent: Object.fromEntries(Object.entries(steadyCpu).map(([name, p]) => [name, p.cpuPercent])),
      series: series(steadyRun.ends, steadyRun.latencies, steadyRun.statuses, 1_000),
    };

    console.log('[bench] ceilings after the sale: the Express floor (and in turns with the sold-out path), bare Node');
    let soldOutInTurns: { floorPerSecond: number; soldOutPerSecond: number; turns: number; turnMs: number } | undefined;
    const takeTurns = async (floor: LoadRun) => {
      const soldOutRun = { ...purchaseRun(gateway, `/v1/promotions/${promotionId}/purchase`), durationMs: PAIR_MS };
      const rates = { floor: 0, soldOut: 0 };
      for (let turn = 0; turn < PAIRS; turn++) {
        rates.floor += summary(await drive({ ...floor, durationMs: PAIR_MS })).perSecond;
        // Only refusals count: an error is not a sold-out answer. Each run starts at the first token, so these are
        // mostly buyers who got a unit in the sale, pressing buy again: they too are refused from memory.
        const refused = summary(await drive(soldOutRun));
        rates.soldOut += (refused.perSecond * (refused.byStatus['409'] ?? 0)) / Math.max(1, refused.requests);
      }
      soldOutInTurns = {
        floorPerSecond: Math.round(rates.floor / PAIRS),
        soldOutPerSecond: Math.round(rates.soldOut / PAIRS),
        turns: PAIRS,
        turnMs: PAIR_MS,
      };
    };
    const after = { express: await ceiling('express', takeTurns), node: await ceiling('node') };
    const evalsha = await measureRawEvalsha(redis, { concurrency: CONNECTIONS, durationMs: CEILING_MS });

    const floorPerSecond = Math.round((floorBefore.perSecond + after.express.perSecond) / 2);
    const measured = {
      date: new Date().toISOString(),
      machine: { ...machine(), note: 'load generator, mesh, Redis, Kafka and PostgreSQL share this machine' },
      settings: {
        stock: STOCK,
        connections: CONNECTIONS,
        users: USERS,
        afterMs: AFTER_MS,
        ceilingMs: CEILING_MS,
        mtls: MTLS,
        metrics: !targets
          ? 'off'
          : stopScraping
            ? 'served, scraped every 1 s by the local Prometheus'
            : 'served, not scraped',
        tracing: tracing.length
          ? 'OpenTelemetry loaded, no exporter (the chart default): context propagated, nothing sampled'
          : 'off',
        ...(STEADY_RATE ? { steadyRate: STEADY_RATE } : {}),
      },
      ceilings: {
        nodeHttp: after.node,
        expressFloor: { ...after.express, perSecond: floorPerSecond },
        expressFloorBefore: floorBefore,
        expressFloorAfter: after.express,
        rawEvalsha: evalsha,
      },
      flashSale: {
        accepted,
        oversold: Math.max(0, accepted - STOCK),
        stockLeft,
        whileStock,
        afterSellOut,
        sellOutSeconds: Number((lastAccept / 1000).toFixed(2)),
        drainMs: Math.round(drainMs),
        ordersPerSecond: Math.round(accepted / ((drainedAt - (flash.startedAt + firstAccept)) / 1000)),
        errors: flash.errors,
        series: series(flash.ends, flash.latencies, flash.statuses),
        acceptedPerSecond: bySecond.perSecond,
        fullSeconds: bySecond.fullSeconds,
        bestSecond,
        firstSecondToBest: bySecond.firstSecondToBest,
        firstSecondCpuMs,
      },
      steadyAt80Percent: { rate, ...steady },
      soldOutInTurns,
      processes,
      cpuMsPerPurchase,
      cpuMsPerRefusal,
      ratios: {
        purchaseToExpressFloor: Number((whileStock.perSecond / floorPerSecond).toFixed(2)),
        soldOutToExpressFloor: Number((afterSellOut.perSecond / floorPerSecond).toFixed(2)),
        ...(soldOutInTurns && {
          soldOutToExpressFloorInTurns: Number(
            (soldOutInTurns.soldOutPerSecond / soldOutInTurns.floorPerSecond).toFixed(2),
          ),
        }),
        expressFloorToNodeHttp: Number((floorPerSecond / after.node.perSecond).toFixed(2)),
        purchaseToRawEvalsha: Number((whileStock.perSecond / evalsha.perSecond).toFixed(3)),
      },
    };
    const report = { ...measured, capacity: capacity(measured) };
    const dir = join(root, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const base = join(dir, report.date.slice(0, 16).replace(':', '-'));
    const { markdown, svg } = await renderReport(report);
    writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(`${base}.md`, markdown);
    writeFileSync(`${base}.svg`, svg);
    console.log(markdown);
    console.log(`[bench] written: ${base}.{json,md,svg}`);
  } finally {
    stopScraping?.();
    redis.disconnect();
    await pg.end();
    for (const floor of floors) await stopProcess(floor);
    await stopProcess(load);
    await mesh.stopAll();
  }
  if (env.BENCH_CPU_PROF && saleWindow) {
    // The profiles are written as the processes exit.
    const what = 'while the stock lasted';
    for (const file of await writeFlameGraphs(env.BENCH_CPU_PROF, mesh.processes(), saleWindow, what)) {
      console.log(`[bench] flame graph: ${file}`);
    }
    // The sale's first second on its own, to set beside the whole sale's.
    const first = { fromUs: saleStartUs!, toUs: saleStartUs! + 1_000_000 };
    for (const file of await writeFlameGraphs(
      env.BENCH_CPU_PROF,
      mesh.processes(),
      first,
      'the first second',
      'first-second',
    )) {
      console.log(`[bench] flame graph: ${file}`);
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
