import type { Result } from './drive';
import type { Bucket } from './stats';
import { totalMs, targets, targetTable } from './targets';

interface Summary {
  requests: number;
  perSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  byStatus: Record<string, number>;
}

export interface Report {
  date: string;
  machine: { cpus: number; cpuModel?: string | undefined; memoryGb: number; node: string; note: string };
  settings: {
    stock: number;
    connections: number;
    users: number;
    steadyRate?: number | undefined;
    /** Mutual TLS between the mesh's processes; reports from before it was measured have none (plaintext). */
    mtls?: 'on' | 'off' | undefined;
  };
  ceilings: {
    nodeHttp?: Summary | undefined;
    /** The ratios' floor: the mean rate of the two below (older reports measured it once, before the sale). */
    expressFloor?: Summary | undefined;
    expressFloorBefore?: Summary | undefined;
    expressFloorAfter?: Summary | undefined;
    rawEvalsha: Result;
  };
  flashSale: {
    accepted: number;
    oversold: number;
    stockLeft: number;
    whileStock: Summary;
    afterSellOut: Summary;
    sellOutSeconds: number;
    drainMs: number;
    ordersPerSecond: number;
    errors: number;
    series: Bucket[];
    /** Accepted purchases in each second since the sale opened; the last one is partial (older reports lack these). */
    acceptedPerSecond?: number[];
    /** Seconds the stock lasted through whole. */
    fullSeconds?: number;
    bestSecond?: number | undefined;
    /** The first full second's accepted/s over the best full second's ([stats.ts](./stats.ts) `acceptedBySecond`). */
    firstSecondToBest?: number | undefined;
    /** CPU ms by process in the first second and in the best one (sampled every 250 ms, scaled to a second). */
    firstSecondCpuMs?: { first?: Record<string, number> | undefined; best?: Record<string, number> | undefined };
  };
  steadyAt80Percent: Summary & {
    rate: number;
    series: Bucket[];
    /** All processes, over the phase (older reports lack them). */
    cpuMsPerPurchase?: number;
    coresBusy?: number;
    /** By process, % of one core over the phase. */
    cpuPercent?: Record<string, number>;
  };
  /** The sold-out path and the Express floor driven in turns, after the sale (older reports lack it). */
  soldOutInTurns?: { floorPerSecond: number; soldOutPerSecond: number; turns: number; turnMs: number } | undefined;
  processes: Record<string, { cpuPercent: number; peakRssMb: number }>;
  /** CPU ms per accepted purchase, by process, while the stock lasted. */
  cpuMsPerPurchase: Record<string, number>;
  /** CPU ms per sold-out refusal, by process, after the stock ran out (older reports lack it). */
  cpuMsPerRefusal?: Record<string, number>;
  ratios: Record<string, number>;
}

const row = (name: string, s: Summary | undefined) =>
  s
    ? `| ${name} | ${s.perSecond.toLocaleString('en')} | ${s.latencyMs.p50} | ${s.latencyMs.p95} | ${s.latencyMs.p99} | ${s.latencyMs.max} |`
    : `| ${name} | - | - | - | - | - |`;

/** The two floors, and a warning when they differ so much that the host's speed changed during the run. */
function floorNote(report: Report): string {
  const { expressFloor, expressFloorBefore: before, expressFloorAfter: after } = report.ceilings;
  if (!expressFloor || !before || !after) return '';
  const spread = Math.abs(before.perSecond - after.perSecond) / expressFloor.perSecond;
  const warning =
    spread > 0.25
      ? ` **They differ by ${Math.round(spread * 100)}%: this host's speed changed during the run, so its ratios are unreliable.**`
      : '';
  return `The Express floor: ${before.perSecond.toLocaleString('en')}/s before the sale, ${after.perSecond.toLocaleString('en')}/s after it; the ratios use the mean, ${expressFloor.perSecond.toLocaleString('en')}/s.${warning}\n`;
}

/**
 * What this run's CPU per purchase allows on this machine: with every core busy and nothing else running, the rate
 * would be cores / (CPU per purchase over all processes). Against the Express floor that is the highest purchase
 * ratio these costs permit, however the waiting is arranged, and the CPU per purchase a target ratio would need.
 */
export function capacity(report: Pick<Report, 'machine' | 'ceilings' | 'flashSale' | 'cpuMsPerPurchase'>) {
  const msPerPurchase = totalMs(report.cpuMsPerPurchase);
  const floor = report.ceilings.expressFloor?.perSecond;
  if (!floor || msPerPurchase <= 0) return undefined;
  const coreMs = report.machine.cpus * 1000;
  return {
    msPerPurchase: Number(msPerPurchase.toFixed(2)),
    /** Purchases/s with every core busy at this run's CPU per purchase. */
    maxPerSecond: Math.round(coreMs / msPerPurchase),
    maxRatio: Number((coreMs / msPerPurchase / floor).toFixed(2)),
    /** Share of all cores the processes used while the stock lasted. */
    coresBusy: Number(((report.flashSale.whileStock.perSecond * msPerPurchase) / coreMs).toFixed(2)),
    /** The floor's own CPU per request: one process on one core. */
    floorMsPerRequest: Number((1000 / floor).toFixed(2)),
  };
}

function steadyCpuNote({ steadyAt80Percent: s }: Report): string {
  return s.cpuMsPerPurchase === undefined
    ? ''
    : `; ${s.cpuMsPerPurchase} ms of CPU per purchase (all processes), ${Math.round(s.coresBusy! * 100)}% of the cores`;
}

function capacityNote(report: Report): string {
  const c = capacity(report);
  if (!c) return '';
  return `CPU bound: at ${c.msPerPurchase} ms of CPU per purchase (all processes), ${report.machine.cpus} cores fully used would sell at most ${c.maxPerSecond.toLocaleString('en')}/s, a ratio of **${c.maxRatio}**; they were ${Math.round(c.coresBusy * 100)}% used while the stock lasted. The floor, one process on at most one core, answers one request per ${c.floorMsPerRequest} ms.\n`;
}

/** The sold-out path against the floor, driven in turns so that both see the same host. */
function turnsNote(report: Report): string {
  const t = report.soldOutInTurns;
  if (!t) return '';
  return `In turns after the sale (${t.turns} × ${t.turnMs / 1000} s each, the same load): the sold-out path ${t.soldOutPerSecond.toLocaleString('en')}/s, the Express floor ${t.floorPerSecond.toLocaleString('en')}/s.\n`;
}

function firstSecondNote({ flashSale: f }: Report): string {
  if (!f.acceptedPerSecond) return '';
  const ratio =
    f.firstSecondToBest === undefined
      ? ''
      : `; the first second sold **${f.firstSecondToBest}** of the best's (second ${f.bestSecond})`;
  return `Accepted per second since the sale opened: ${f.acceptedPerSecond.map((n) => n.toLocaleString('en')).join(', ')} (the last partial)${ratio}.\n`;
}

/** The Markdown table and the SVG plot of one run. */
export async function renderReport(report: Report): Promise<{ markdown: string; svg: string }> {
  const f = report.flashSale;
  const r = report.ratios;
  const markdown = `## Benchmark ${report.date}

Machine: ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGb} GiB, Node ${report.machine.node}; ${report.machine.note}.
Sale: ${report.settings.stock.toLocaleString('en')} units, one per user, ${report.settings.connections} buyers sending back to back, ${report.settings.users.toLocaleString('en')} distinct users; mTLS between the processes ${report.settings.mtls ?? 'off'}.

| path | requests/s | p50 ms | p95 ms | p99 ms | max ms |
| --- | --- | --- | --- | --- | --- |
${row('purchase through the gateway, while stock lasts', f.whileStock)}
${row('purchase through the gateway, after sell-out', f.afterSellOut)}
${row(`purchase at ${report.settings.steadyRate ? 'a set rate' : '80% of the peak'} (${report.steadyAt80Percent.rate}/s offered)`, report.steadyAt80Percent)}
${row('Express floor (same middleware, answers at once), before the sale', report.ceilings.expressFloorBefore)}
${row('Express floor, after the sale', report.ceilings.expressFloorAfter)}
${row('bare Node http', report.ceilings.nodeHttp)}
| raw EVALSHA of the reserve script | ${report.ceilings.rawEvalsha.perSecond.toLocaleString('en')} | ${report.ceilings.rawEvalsha.p50Ms} | - | ${report.ceilings.rawEvalsha.p99Ms} | ${report.ceilings.rawEvalsha.maxMs} |

Accepted ${f.accepted.toLocaleString('en')} of ${report.settings.stock.toLocaleString('en')} (oversold: **${f.oversold}**, stock left ${f.stockLeft}); sold out after ${f.sellOutSeconds} s; every accepted order in PostgreSQL ${f.drainMs} ms after the last purchase; the order service wrote ${f.ordersPerSecond.toLocaleString('en')} orders/s; ${f.errors} transport errors.
${firstSecondNote(report)}At 80% of the peak, p99 ms second by second: ${report.steadyAt80Percent.series.map((b) => Math.round(b.p99Ms)).join(', ')}${steadyCpuNote(report)}.
${floorNote(report)}${turnsNote(report)}${capacityNote(report)}Ratios: purchase / Express floor **${r.purchaseToExpressFloor}**, sold-out / Express floor **${r.soldOutToExpressFloor}**${r.soldOutToExpressFloorInTurns === undefined ? '' : ` (in turns with the floor **${r.soldOutToExpressFloorInTurns}**)`}, Express floor / bare Node **${r.expressFloorToNodeHttp}**, purchase / raw EVALSHA ${r.purchaseToRawEvalsha}.

${targetTable(targets(report))}
| process | CPU % of one core (sale and after) | CPU ms per purchase (while stock lasted) | CPU ms per sold-out refusal | peak RSS MB |
| --- | --- | --- | --- | --- |
${Object.entries(report.processes)
  .map(
    ([name, p]) =>
      `| ${name} | ${p.cpuPercent} | ${report.cpuMsPerPurchase[name] ?? '-'} | ${report.cpuMsPerRefusal?.[name] ?? '-'} | ${p.peakRssMb} |`,
  )
  .join('\n')}
| all | ${Object.values(report.processes).reduce((sum, p) => sum + p.cpuPercent, 0)} | ${totalMs(report.cpuMsPerPurchase).toFixed(2)} | ${report.cpuMsPerRefusal ? totalMs(report.cpuMsPerRefusal).toFixed(2) : '-'} | |
`;
  return { markdown, svg: await plot(f.series, report.date) };
}

/** A Vega-Lite specification drawn as SVG, without a browser. */
export async function vegaLiteSvg(spec: object): Promise<string> {
  // Vega and Vega-Lite are ES modules; this file is CommonJS.
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const compiled = vegaLite.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...spec,
  } as Parameters<typeof vegaLite.compile>[0]).spec;
  return new vega.View(vega.parse(compiled), { renderer: 'none' }).toSVG();
}

async function plot(buckets: Bucket[], date: string): Promise<string> {
  const throughput = buckets.flatMap((b) => [
    { t: b.t, series: 'attempts/s', value: b.attemptsPerSecond },
    { t: b.t, series: 'accepted/s', value: b.acceptedPerSecond },
  ]);
  const latency = buckets.flatMap((b) => [
    { t: b.t, series: 'p50 ms', value: b.p50Ms },
    { t: b.t, series: 'p99 ms', value: b.p99Ms },
  ]);
  const chart = (title: string, values: object[], y: string) => ({
    title,
    width: 640,
    height: 200,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'seconds since the sale opened' },
      y: { field: 'value', type: 'quantitative', title: y },
      color: { field: 'series', type: 'nominal', title: null },
    },
  });
  return vegaLiteSvg({
    title: `Flash sale through the gateway, ${date.slice(0, 16)}`,
    vconcat: [chart('Throughput', throughput, 'requests per second'), chart('Latency', latency, 'milliseconds')],
  });
}
