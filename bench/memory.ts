/**
 * `npm run bench:memory`: where each mesh process's memory goes while idle. Starts the mesh as the bench does
 * (dist/, OpenTelemetry loaded, mTLS, metrics), waits BENCH_IDLE_MS (20 s) after it is ready, then per process:
 * RSS split by /proc/<pid>/smaps_rollup (anonymous vs file-backed), the native libraries and WebAssembly it
 * loaded, process.memoryUsage() and V8's heap spaces (from bench/lib/memory-probe.cjs), and a heap snapshot
 * summarised by constructor (bench/lib/heap-summary.ts). BENCH_NODE_ARGS adds node flags, as for the bench.
 * Writes bench/results/memory-<date>.json. Figures, not a test.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DATABASE, BENCH_TOPIC_PREFIX, freshDatabase } from './lib/database';
import { addr, Mesh } from './lib/mesh';
import { machine, root } from './lib/processes';
import { summariseHeapSnapshot } from './lib/heap-summary';
import { until } from './lib/wait';

const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 20_000);
const PORTS = { gateway: 18080, promotion: 31051, inventory: 31052, order: 31053, payment: 31054 };

const kb = (text: string, field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
const mb = (kilobytes: number) => Math.round(kilobytes / 102.4) / 10;

/** RSS by kind, and the shared objects and wasm the process mapped (a native query engine would show here). */
function mapped(pid: number) {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  const libraries = [...new Set(maps.split('\n').map((line) => line.split(/\s+/)[5] ?? ''))].filter(
    (path) => /\.(so|node|wasm)(\.|$)/.test(path) && !path.startsWith('/lib') && !path.startsWith('/usr'),
  );
  return {
    rssMb: mb(kb(rollup, 'Rss')),
    anonymousMb: mb(kb(rollup, 'Anonymous')),
    fileMb: mb(kb(rollup, 'Rss') - kb(rollup, 'Anonymous')),
    libraries,
  };
}

async function main() {
  const dir = join(root, '.cache', 'bench', 'memory');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.env.BENCH_MEMORY_DIR = dir;
  await freshDatabase(BENCH_DATABASE);
  const extra = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const mesh = new Mesh({
    ports: PORTS,
    jwtSecret: randomBytes(24).toString('base64url'),
    nodeArgs: [
      '--require',
      '@flash-sale/observability/register',
      '--require',
      './bench/lib/memory-probe.cjs',
      ...extra,
    ],
    database: BENCH_DATABASE,
    topicPrefix: BENCH_TOPIC_PREFIX,
  });
  mesh.startAll();
  const report: Record<string, unknown> = {};
  try {
    const gateway = `http://${addr(PORTS.gateway)}`;
    await until('the mesh', async () => (await fetch(`${gateway}/readyz`)).status === 200, 120_000);
    console.log(`[memory] mesh ready; idle for ${IDLE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    for (const running of mesh.processes()) report[running.name] = { idle: mapped(running.pid) };
    // One snapshot at a time: each briefly doubles its process's heap, and the host has two cores.
    for (const running of mesh.processes()) {
      const before = readdirSync(dir).length;
      process.kill(running.pid, 'SIGUSR2');
      await until(`${running.name}'s snapshot`, async () => readdirSync(dir).length > before, 60_000);
      const file = readdirSync(dir).find(
        (name) => name.startsWith(`${running.name}-`) && name.endsWith('.heapsnapshot'),
      )!;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      (report[running.name] as Record<string, unknown>).heap = summariseHeapSnapshot(join(dir, file));
    }
  } finally {
    await mesh.stopAll();
  }
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
    const probe = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { name: string; samples: unknown[] };
    const { samples: _samples, ...rest } = probe;
    (report[probe.name] as Record<string, unknown>).probe = rest;
  }
  const out = join(root, 'bench', 'results', `memory-${new Date().toISOString().slice(0, 16).replace(':', '-')}.json`);
  writeFileSync(
    out,
    `${JSON.stringify({ machine: machine(), nodeArgs: extra, idleMs: IDLE_MS, processes: report }, null, 1)}\n`,
  );
  console.log(`[memory] written: ${out}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
