import type { Report } from './report';

/** The mesh's own processes: their peak memory is what a cluster pays per replica (infrastructure is not). */
export const MESH_PROCESSES = ['gateway', 'inventory', 'order', 'payment', 'promotion'] as const;

/** One measure a run is held to (docs/performance.md "Targets"); `value` undefined when the run did not measure it. */
export interface TargetCheck {
  measure: string;
  /** Where the value is in the results JSON. */
  field: string;
  target: string;
  bound: Bound;
  value: number | undefined;
  met: boolean | undefined;
}

export interface Bound {
  at: 'most' | 'least' | 'below';
  limit: number;
}

/** Whether a value meets a bound; undefined when there is no value. */
export function meets(bound: Bound, value: number | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (bound.at === 'most') return value <= bound.limit;
  return bound.at === 'least' ? value >= bound.limit : value < bound.limit;
}

const check = (measure: string, field: string, value: number | undefined, bound: Bound, unit = ''): TargetCheck => {
  const words = { most: '≤', least: '≥', below: '<' }[bound.at];
  return { measure, field, target: `${words} ${bound.limit}${unit}`, bound, value, met: meets(bound, value) };
};

/** The highest peak RSS among the mesh's processes (MB), and whose it was. */
export function peakMeshRss(processes: Report['processes']): { name: string; mb: number } | undefined {
  const peaks = MESH_PROCESSES.flatMap((name) => (processes[name] ? [{ name, mb: processes[name].peakRssMb }] : []));
  return peaks.sort((a, b) => b.mb - a.mb)[0];
}

/** CPU ms summed over every process (for purchases, the bench's `capacity.msPerPurchase` before rounding). */
export const totalMs = (cpu: Record<string, number>) => Object.values(cpu).reduce((sum, ms) => sum + ms, 0);

/** Every target a run is held to, with the run's value. */
export function targets(report: Report): TargetCheck[] {
  const f = report.flashSale;
  // In turns with the floor where the run measured it (older reports did not).
  const floor = report.ratios.soldOutToExpressFloorInTurns ?? report.ratios.soldOutToExpressFloor;
  return [
    check(
      'CPU per accepted purchase, all processes, while stock lasts',
      'capacity.msPerPurchase',
      Number(totalMs(report.cpuMsPerPurchase).toFixed(2)),
      { at: 'most', limit: 0.7 },
      ' ms',
    ),
    check('first full second against the best', 'flashSale.firstSecondToBest', f.firstSecondToBest, {
      at: 'least',
      limit: 0.7,
    }),
    check(
      'p99 at 80% of the peak rate',
      'steadyAt80Percent.latencyMs.p99',
      report.steadyAt80Percent.latencyMs.p99,
      { at: 'below', limit: 50 },
      ' ms',
    ),
    check('sold-out refusals against the Express floor (in turns)', 'ratios.soldOutToExpressFloorInTurns', floor, {
      at: 'least',
      limit: 1,
    }),
    check('drain: last purchase to its order row', 'flashSale.drainMs', f.drainMs, { at: 'below', limit: 2000 }, ' ms'),
    check('oversold', 'flashSale.oversold', f.oversold, { at: 'most', limit: 0 }),
    check(
      'peak RSS of the worst service or gateway',
      'processes.<mesh>.peakRssMb',
      peakMeshRss(report.processes)?.mb,
      { at: 'most', limit: 150 },
      ' MB',
    ),
  ];
}

/** The median of some numbers (the middle one; for an even count, the mean of the two middle ones). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Each target's median over several runs, checked against the target again (not the runs' verdicts counted). */
export function medianTargets(runs: readonly Report[]): (TargetCheck & { runs: (number | undefined)[] })[] {
  const perRun = runs.map(targets);
  return perRun[0]!.map((first, i) => {
    const values = perRun.map((checks) => checks[i]!.value);
    const known = values.filter((v): v is number => v !== undefined);
    const value = median(known);
    const rounded = value === undefined ? undefined : Number(value.toFixed(2));
    return { ...first, value: rounded, met: meets(first.bound, rounded), runs: values };
  });
}

/** The targets as a Markdown table. */
export function targetTable(checks: readonly (TargetCheck & { runs?: (number | undefined)[] })[]): string {
  const withRuns = checks.some((c) => c.runs);
  const head = withRuns
    ? '| measure | target | median | runs | met |\n| --- | --- | --- | --- | --- |'
    : '| measure | target | this run | met |\n| --- | --- | --- | --- |';
  const cell = (v: number | undefined) => (v === undefined ? '-' : v.toLocaleString('en'));
  const verdict = (met: boolean | undefined) => (met === undefined ? 'not measured' : met ? 'yes' : '**no**');
  const rows = checks.map((c) =>
    withRuns
      ? `| ${c.measure} | ${c.target} | ${cell(c.value)} | ${c.runs!.map(cell).join(', ')} | ${verdict(c.met)} |`
      : `| ${c.measure} | ${c.target} | ${cell(c.value)} | ${verdict(c.met)} |`,
  );
  return `${head}\n${rows.join('\n')}\n`;
}
