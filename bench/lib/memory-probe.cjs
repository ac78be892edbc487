/**
 * Preloaded into a mesh process with `--require ./bench/lib/memory-probe.cjs` (BENCH_NODE_ARGS), so a run can see
 * where each process's memory goes without touching the services: every 250 ms it reads process.memoryUsage() and
 * V8's heap spaces, keeps the peak of each, and on exit writes them to BENCH_MEMORY_DIR/<name>-<pid>.json. SIGUSR2
 * writes a heap snapshot there (node's --heapsnapshot-signal would also do, but stops nothing else).
 */
'use strict';
const { writeFileSync, mkdirSync } = require('node:fs');
const { join, basename, dirname } = require('node:path');
const v8 = require('node:v8');

const dir = process.env.BENCH_MEMORY_DIR;
if (dir) {
  mkdirSync(dir, { recursive: true });
  const entry = process.argv[1] ?? 'node';
  const name = basename(entry) === 'main.js' ? basename(dirname(dirname(entry))) : basename(entry, '.ts');
  const mb = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
  const peak = {};
  const spacesPeak = {};
  const samples = [];
  const started = Date.now();
  const sample = () => {
    const usage = process.memoryUsage();
    for (const [key, value] of Object.entries(usage)) peak[key] = Math.max(peak[key] ?? 0, mb(value));
    for (const space of v8.getHeapSpaceStatistics()) {
      const was = spacesPeak[space.space_name] ?? { size: 0, used: 0 };
      spacesPeak[space.space_name] = {
        size: Math.max(was.size, mb(space.space_size)),
        used: Math.max(was.used, mb(space.space_used_size)),
      };
    }
    // One sample a second is enough for the series; the peaks see every 250 ms.
    if (samples.length === 0 || Date.now() - samples.at(-1).at >= 1_000)
      samples.push({
        at: Date.now() - started,
        ...Object.fromEntries(Object.entries(usage).map(([k, v]) => [k, mb(v)])),
      });
  };
  const timer = setInterval(sample, 250);
  timer.unref();
  process.on('SIGUSR2', () => {
    const file = v8.writeHeapSnapshot(join(dir, `${name}-${process.pid}-${Date.now()}.heapsnapshot`));
    process.stderr.write(`[memory-probe] ${name}: ${file}\n`);
  });
  process.once('exit', () => {
    sample();
    const heap = v8.getHeapStatistics();
    writeFileSync(
      join(dir, `${name}-${process.pid}.json`),
      JSON.stringify(
        {
          name,
          pid: process.pid,
          execArgv: process.execArgv,
          peakMb: peak,
          spacesPeakMb: spacesPeak,
          heapSizeLimitMb: mb(heap.heap_size_limit),
          samples,
        },
        null,
        1,
      ),
    );
  });
}
