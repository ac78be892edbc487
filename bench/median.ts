/**
 * `npm run bench`: the flash-sale bench (bench/flash-sale.ts) run BENCH_RUNS times (3) one after another, each with
 * a mesh of its own, and every target checked on the median of the runs: single runs on a shared host differ by up
 * to 60%. Writes bench/results/<date>-median.json and .md next to each run's own report. `npm run bench:once` runs
 * it once.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from './lib/report';
import { root } from './lib/processes';
import { medianTargets, targetTable } from './lib/targets';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('BENCH_RUNS must be a whole number of at least 1');

/** Runs the bench once, passing its output through; resolves with the base path of the report it wrote. */
function runOnce(n: number): Promise<string> {
  console.log(`[bench] run ${n} of ${RUNS}`);
  // tsx and the pinned Node are first on PATH, as `npm run bench` set them for this process.
  const child = spawn('tsx', [join(__dirname, 'flash-sale.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let written: string | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    written ??= /\[bench\] written: (.+)\.\{json,md,svg\}/.exec(chunk.toString())?.[1];
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 || !written) reject(new Error(`bench run ${n} failed (exit ${code})`));
      else resolve(written);
    });
  });
}

async function main() {
  const bases: string[] = [];
  for (let n = 1; n <= RUNS; n++) bases.push(await runOnce(n));
  const reports = bases.map((base) => JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Report);
  const checks = medianTargets(reports);
  const first = reports[0]!;
  const date = new Date().toISOString();
  const names = bases.map((base) => base.split('/').at(-1)!);
  const markdown = `## Bench, median of ${RUNS} runs, ${date}

Machine: ${first.machine.cpus} × ${first.machine.cpuModel}, ${first.machine.memoryGb} GiB, Node ${first.machine.node}; ${first.machine.note}. mTLS ${first.settings.mtls ?? 'off'}.
Runs, one after another: ${names.map((name) => `[${name}](${name}.md)`).join(', ')}.

${targetTable(checks)}`;
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${date.slice(0, 16).replace(':', '-')}-median`);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ date, runs: names, machine: first.machine, targets: checks }, null, 2)}\n`,
  );
  writeFileSync(`${base}.md`, markdown);
  console.log(markdown);
  console.log(`[bench] written: ${base}.{json,md}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
