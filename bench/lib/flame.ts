/**
 * Flame graphs of the V8 CPU profiles `BENCH_CPU_PROF` collects (`node --cpu-prof`), drawn as SVG with Vega-Lite
 * like the bench's other plots. Root at the top, each frame as wide as the CPU time spent in it and in what it
 * called, callees side by side in name order (so the same call path always lands in the same place); idle time is
 * left out, and so are frames too narrow to see.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vegaLiteSvg } from './report';

/** The parts of a `.cpuprofile` used here. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  /** Microseconds since the previous sample, one per sample; the first one since `startTime`. */
  timeDeltas: number[];
  /** Microseconds on the system's monotonic clock, the one `process.hrtime` reads in any process. */
  startTime: number;
}

/** A stretch of the monotonic clock, in microseconds. */
export interface Window {
  fromUs: number;
  toUs: number;
}

/** The monotonic clock (as CPU profiles stamp their samples) at a `Date.now()` instant of this host. */
export function monotonicUs(epochMs: number): number {
  return Number(process.hrtime.bigint() / 1000n) - (Date.now() - epochMs) * 1000;
}

export interface Frame {
  /** Function, and where it is: a package, a file of this repository, or a Node.js internal module. */
  name: string;
  /** What colours it: the package, `app`, `node` or `v8` (garbage collection, compiled code, natives). */
  group: string;
  depth: number;
  startMs: number;
  ms: number;
}

interface Merged {
  name: string;
  group: string;
  selfUs: number;
  children: Map<string, Merged>;
}

const IDLE = '(idle)';

function place(url: string): { where: string; group: string } {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return { where: modules[1]!, group: modules[1]! };
  if (url.startsWith('node:')) return { where: url, group: 'node' };
  const repository = /\/((?:gateway|services|packages|bench)\/.*)$/.exec(url);
  if (repository) return { where: repository[1]!.replace('/dist/', '/'), group: 'app' };
  return { where: url, group: url ? 'other' : 'v8' };
}

/**
 * The frames of one profile, from the samples taken in `window` (all without one): its call tree with sampled
 * time, stacks with the same frames merged, laid out from the left; frames under `minShare` of the busy time are
 * dropped.
 */
export function flameFrames(
  profile: CpuProfile,
  window?: Window,
  minShare = 0.005,
): { frames: Frame[]; busyMs: number } {
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    if (!window || (at >= window.fromUs && at <= window.toUs)) selfUs.set(id, (selfUs.get(id) ?? 0) + us);
  });
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const childIds = new Set(profile.nodes.flatMap((node) => node.children ?? []));
  const root: Merged = { name: 'all', group: 'v8', selfUs: 0, children: new Map() };

  const merge = (id: number, into: Merged) => {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === IDLE) return;
    const { where, group } = place(url);
    const name = url ? `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}` : functionName;
    let merged = into.children.get(name);
    if (!merged) into.children.set(name, (merged = { name, group, selfUs: 0, children: new Map() }));
    merged.selfUs += selfUs.get(id) ?? 0;
    for (const child of node.children ?? []) merge(child, merged);
  };
  // The profile's own root, "(root)", is not a frame: its children are the top of every stack.
  for (const top of profile.nodes.filter((node) => !childIds.has(node.id))) {
    for (const child of top.children ?? []) merge(child, root);
  }

  const totals = new Map<Merged, number>();
  const total = (merged: Merged): number => {
    let us = merged.selfUs;
    for (const child of merged.children.values()) us += total(child);
    totals.set(merged, us);
    return us;
  };
  const busyUs = total(root);
  const frames: Frame[] = [];
  const layout = (merged: Merged, depth: number, startUs: number) => {
    let offset = startUs;
    for (const child of [...merged.children.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const us = totals.get(child)!;
      if (us > 0 && us >= minShare * busyUs) {
        frames.push({ name: child.name, group: child.group, depth, startMs: offset / 1000, ms: us / 1000 });
        layout(child, depth + 1, offset);
      }
      offset += us;
    }
  };
  layout(root, 0, 0);
  return { frames, busyMs: busyUs / 1000 };
}

const WIDTH = 1200;
const ROW = 16;
/** Pixels per character of the labels, roughly, at Vega's default 11 px sans-serif. */
const CHAR = 6.2;

/** The flame graph of one process's profile, over `window`, as SVG. */
export async function flameGraphSvg(profile: CpuProfile, title: string, window?: Window): Promise<string> {
  const { frames, busyMs } = flameFrames(profile, window);
  const depth = frames.reduce((max, frame) => Math.max(max, frame.depth), 0) + 1;
  const values = frames.map((frame) => {
    const fits = Math.floor(((frame.ms / busyMs) * WIDTH) / CHAR) - 1;
    const label = fits >= frame.name.length ? frame.name : fits >= 4 ? `${frame.name.slice(0, fits - 1)}…` : '';
    return { ...frame, endMs: frame.startMs + frame.ms, bottom: frame.depth + 1, label };
  });
  const x = { field: 'startMs', type: 'quantitative', title: null, axis: null, scale: { domain: [0, busyMs] } };
  const y = { field: 'depth', type: 'quantitative', title: null, axis: null, scale: { domain: [depth, 0] } };
  return vegaLiteSvg({
    title: `${title}: ${Math.round(busyMs).toLocaleString('en')} ms of CPU, callers above callees`,
    width: WIDTH,
    height: depth * ROW,
    data: { values },
    layer: [
      {
        mark: { type: 'rect', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x,
          x2: { field: 'endMs' },
          y,
          y2: { field: 'bottom' },
          color: { field: 'group', type: 'nominal', title: 'code', scale: { scheme: 'tableau20' } },
          tooltip: [{ field: 'name' }, { field: 'ms', format: '.1f' }],
        },
      },
      {
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 2, dy: ROW / 2, fontSize: 10 },
        encoding: { x, y, text: { field: 'label' } },
      },
    ],
  });
}

/**
 * Writes `<name>.flame.svg` (`<name>.<suffix>.flame.svg` with a suffix) beside each profile in `dir` that one of `processes` wrote (the pid is in the file's
 * name: CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile), over `window` (`what` says what it was). Returns
 * the files written.
 */
export async function writeFlameGraphs(
  dir: string,
  processes: { name: string; pid: number }[],
  window: Window,
  what: string,
  suffix = '',
): Promise<string[]> {
  const written: string[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
    const pid = Number(file.split('.')[3]);
    const running = processes.find((one) => one.pid === pid);
    if (!running) continue;
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const out = join(dir, `${running.name}${suffix ? `.${suffix}` : ''}.flame.svg`);
    writeFileSync(out, await flameGraphSvg(profile, `${running.name}, ${what}`, window));
    written.push(out);
  }
  return written;
}
