import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

export const root = join(__dirname, '..', '..');

export interface Running {
  name: string;
  pid: number;
  child?: ChildProcess;
}

/** Starts `entry` (JavaScript from dist/, or TypeScript through tsx) as a child process with its own environment. */
export function startProcess(
  name: string,
  entry: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
  args: string[] = [],
): Running {
  const typescript = entry.endsWith('.ts') ? ['--require', require.resolve('tsx/cjs')] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...typescript, join(root, entry), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL')
      console.error(`[bench] ${name} exited (${code ?? signal})`);
  });
  return { name, pid: child.pid!, child };
}

export async function stopProcess(running: Running): Promise<void> {
  const child = running.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * The folder scripts/infra.sh keeps its state in. A checkout whose bench uses infrastructure another checkout
 * started names that one's folder in BENCH_INFRA_DIR, or the CPU of Redis, PostgreSQL, Kafka and Prometheus goes
 * uncounted and Prometheus never hears of the run's processes.
 */
export const INFRA_DIR = process.env.BENCH_INFRA_DIR ?? join(root, '.infra');

/** The infrastructure's own processes, from the pid files scripts/infra.sh keeps in INFRA_DIR. */
export function infrastructureProcesses(): Running[] {
  const dir = INFRA_DIR;
  const read = (file: string) => {
    try {
      return Number(readFileSync(join(dir, file), 'utf8').split('\n')[0]);
    } catch {
      return 0;
    }
  };
  return [
    { name: 'redis', pid: read('redis/redis.pid') },
    { name: 'postgres', pid: read('postgres/data/postmaster.pid') },
    { name: 'kafka', pid: read('kafka/kafka.pid') },
    { name: 'prometheus', pid: read('prometheus/prometheus.pid') },
  ].filter((running) => running.pid > 0);
}

const TICKS_PER_SECOND = 100;

/** CPU time (seconds) and resident memory (MB) of a process and, for PostgreSQL, of its children too. */
function usage(pid: number): { cpuSeconds: number; rssMb: number } {
  let cpuSeconds = 0;
  let rssMb = 0;
  const pids = [pid, ...children(pid)];
  for (const one of pids) {
    try {
      const stat = readFileSync(`/proc/${one}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuSeconds += (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${one}/status`, 'utf8'))?.[1];
      rssMb += Number(rss ?? 0) / 1024;
    } catch {
      // The process (or one child) is gone.
    }
  }
  return { cpuSeconds, rssMb };
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export interface ProcessFigures {
  /** Average CPU over the window, in percent of one core. */
  cpuPercent: number;
  peakRssMb: number;
}

/** Samples the processes every 250 ms between start() and stop(). */
export function sampleProcesses(processes: Running[]) {
  const peak = new Map(processes.map((p) => [p.name, 0]));
  // CPU seconds so far per process, with the wall clock (ms since the epoch) they were read at.
  const samples: { at: number; cpu: Map<string, number> }[] = [];
  const sample = () => {
    const cpu = new Map<string, number>();
    for (const p of processes) {
      const now = usage(p.pid);
      peak.set(p.name, Math.max(peak.get(p.name)!, now.rssMb));
      cpu.set(p.name, now.cpuSeconds);
    }
    samples.push({ at: Date.now(), cpu });
  };
  sample();
  const timer = setInterval(sample, 250);
  return {
    stop(): Record<string, ProcessFigures> {
      clearInterval(timer);
      sample();
      const [first, last] = [samples[0]!, samples.at(-1)!];
      const seconds = (last.at - first.at) / 1000;
      return Object.fromEntries(
        processes.map((p) => {
          const cpu = ((last.cpu.get(p.name)! - first.cpu.get(p.name)!) / seconds) * 100;
          return [p.name, { cpuPercent: Math.round(cpu), peakRssMb: Math.round(peak.get(p.name)!) }];
        }),
      );
    },
    /** CPU milliseconds each process used between the first and last samples taken between two wall-clock times. */
    cpuBetween(from: number, to: number): { from: number; to: number; cpuMs: Record<string, number> } | undefined {
      const inside = samples.filter((one) => one.at >= from && one.at <= to);
      const [a, b] = [inside[0], inside.at(-1)];
      if (!a || !b || a === b) return undefined;
      const cpuMs = Object.fromEntries(
        processes.map((p) => [p.name, (b.cpu.get(p.name)! - a.cpu.get(p.name)!) * 1000]),
      );
      return { from: a.at, to: b.at, cpuMs };
    },
  };
}

/** The machine a run measured, for the report. */
export const machine = () => ({
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  memoryGb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
});
