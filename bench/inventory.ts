/**
 * `npm run bench:inventory`: the inventory hot path's throughput and latency, against its own ceiling.
 *
 * 1. gRPC `Reserve` against the real inventory service (a separate process, built from dist/, with its outbox
 *    relay, ledger consumer and reconciler running), from many concurrent clients over a few channels.
 * 2. In the same run, the same reserve Lua script called by EVALSHA straight against Redis, from this process,
 *    with the same concurrency: what Redis alone allows.
 * The client calls as the mesh does, over mTLS (PrepareSale as the promotion service, Reserve as the gateway);
 * BENCH_MTLS=off runs both ends in plaintext. Prints both and their ratio, and writes JSON to bench/results/. A benchmark, not a test: nothing here fails
 * on a slow machine.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { inventoryV1 } from '@flash-sale/contracts';
import { loadConfig, meshEnv, z, type MeshWorkload } from '@flash-sale/config';
import { callerMetadata, callUnary, createClient, meshTransport } from '@flash-sale/grpc-kit';
import { createLogger } from '@flash-sale/logging';
import { BENCH_DATABASE, BENCH_TOPIC_PREFIX, freshDatabase } from './lib/database';
import { drive } from './lib/drive';
import { measureRawEvalsha } from './lib/evalsha';
import { benchMtls, databaseUrl } from './lib/mesh';
import { machine } from './lib/processes';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 128);
const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 4);
const USERS = 20_000;
const PORT = Number(process.env.BENCH_INVENTORY_PORT ?? 50152);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MTLS = benchMtls();

/** This process's side of the mesh as `workload`: its certificate from the local PKI (.infra/pki). */
const transportAs = (workload: MeshWorkload) =>
  meshTransport(
    loadConfig(z.object(meshEnv(workload)), { MTLS_MODE: MTLS }),
    workload,
    createLogger({ service: 'bench', level: 'warn' }),
  );

/** The sale both runs sell from: a large stock, so every call takes the full success path of the script. */
function sale(promotionId: string) {
  const now = Date.now();
  return inventoryV1.PrepareSaleRequest.fromPartial({
    promotionId,
    priceCents: '1999',
    stock: 5_000_000,
    perUserLimit: 100,
    startsAt: new Date(now - 1_000),
    endsAt: new Date(now + 3_600_000),
    paymentTimeoutSeconds: 600,
  });
}

const peakRssMb = (pid: number) =>
  Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);

async function main() {
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the service there (open it in Chrome DevTools or speedscope).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const main = join(__dirname, '..', 'services', 'inventory', 'dist', 'main.js');
  await freshDatabase(BENCH_DATABASE);
  const service = spawn(process.execPath, [...profile, main], {
    // Fresh consumer groups starting at the topics' ends: the run reads its own events, not earlier history.
    env: {
      ...process.env,
      GRPC_PORT: String(PORT),
      LOG_LEVEL: 'error',
      DATABASE_URL: databaseUrl('inventory', BENCH_DATABASE),
      KAFKA_GROUP_PREFIX: `bench-${Date.now()}.`,
      KAFKA_TOPIC_PREFIX: BENCH_TOPIC_PREFIX,
      KAFKA_NEW_GROUP_START: 'end',
      MTLS_MODE: MTLS,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const address = `127.0.0.1:${PORT}`;
  const [gateway, promotion] = [transportAs('gateway'), transportAs('promotion')];
  const clients = Array.from({ length: CHANNELS }, (_, i) =>
    createClient(inventoryV1.InventoryServiceClient, address, gateway.client('inventory'), { 'grpc.channel_id': i }),
  );
  const setup = createClient(inventoryV1.InventoryServiceClient, address, promotion.client('inventory'));
  const redis = new Redis(REDIS_URL);
  try {
    const base = BigInt(Date.now()) * 1000n;
    const grpcSale = String(base + 1n);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await callUnary(setup.prepareSale, setup, sale(grpcSale), { timeoutMs: 2_000 });
        break;
      } catch (error) {
        if (attempt > 60) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    const metadata = Array.from({ length: USERS }, (_, u) =>
      callerMetadata({ userId: `bench-${u}`, roles: [] }, new Metadata()),
    );

    console.log(`gRPC Reserve: ${CONCURRENCY} concurrent callers over ${CHANNELS} channels for ${DURATION_MS} ms`);
    const reserveCall = async (n: number) => {
      const client = clients[n % CHANNELS]!;
      await callUnary(
        client.reserve,
        client,
        { promotionId: grpcSale, quantity: 1, idempotencyKey: `g${n}` },
        { timeoutMs: 5_000, metadata: metadata[n % USERS]! },
      );
    };
    // Warm-up, not recorded: channels connect, both processes compile their hot code.
    await drive((n) => reserveCall(n + 10_000_000), CONCURRENCY, 2_000);
    const grpc = await drive(reserveCall, CONCURRENCY, DURATION_MS);

    console.log(`EVALSHA reserve: ${CONCURRENCY} concurrent callers on one connection for ${DURATION_MS} ms`);
    const raw = await measureRawEvalsha(redis, { concurrency: CONCURRENCY, durationMs: DURATION_MS });

    const report = {
      date: new Date().toISOString(),
      machine: machine(),
      settings: { durationMs: DURATION_MS, concurrency: CONCURRENCY, channels: CHANNELS, mtls: MTLS },
      grpcReserve: grpc,
      rawEvalsha: raw,
      ratio: Number((grpc.perSecond / raw.perSecond).toFixed(3)),
      inventoryPeakRssMb: peakRssMb(service.pid!),
    };
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    const file = join(__dirname, 'results', `inventory-${report.date.slice(0, 10)}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`
| path | calls/s | p50 ms | p99 ms | max ms | errors |
|---|---|---|---|---|---|
| gRPC Reserve (inventory service) | ${grpc.perSecond} | ${grpc.p50Ms} | ${grpc.p99Ms} | ${grpc.maxMs} | ${grpc.errors} |
| raw EVALSHA of the same script | ${raw.perSecond} | ${raw.p50Ms} | ${raw.p99Ms} | ${raw.maxMs} | ${raw.errors} |

gRPC / raw = ${report.ratio}; inventory peak RSS ${report.inventoryPeakRssMb} MB; written to ${file}`);
  } finally {
    for (const client of [...clients, setup]) client.close();
    gateway.close();
    promotion.close();
    redis.disconnect();
    const exited = new Promise((resolve) => service.once('exit', resolve));
    service.kill('SIGTERM');
    await exited;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
