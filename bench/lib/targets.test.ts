import type { Report } from './report';
import { median, medianTargets, meets, peakMeshRss, targets, targetTable } from './targets';

function report(overrides: { cpu?: Record<string, number>; first?: number; p99?: number; rss?: number }): Report {
  const summary = {
    requests: 1,
    perSecond: 1,
    latencyMs: { p50: 1, p95: 1, p99: overrides.p99 ?? 40, max: 1 },
    byStatus: {},
  };
  return {
    date: '2026-12-06T00:00:00.000Z',
    machine: { cpus: 2, memoryGb: 24, node: 'v24', note: '' },
    settings: { stock: 10, connections: 1, users: 10 },
    ceilings: { rawEvalsha: { perSecond: 1, p50Ms: 1, p99Ms: 1, maxMs: 1 } as never },
    flashSale: {
      accepted: 10,
      oversold: 0,
      stockLeft: 0,
      whileStock: summary,
      afterSellOut: summary,
      sellOutSeconds: 1,
      drainMs: 30,
      ordersPerSecond: 1,
      errors: 0,
      series: [],
      ...(overrides.first === undefined ? {} : { firstSecondToBest: overrides.first }),
    },
    steadyAt80Percent: { ...summary, rate: 1, series: [] },
    soldOutInTurns: { floorPerSecond: 1000, soldOutPerSecond: 1100, turns: 5, turnMs: 2000 },
    processes: {
      gateway: { cpuPercent: 80, peakRssMb: overrides.rss ?? 140 },
      inventory: { cpuPercent: 20, peakRssMb: 120 },
      kafka: { cpuPercent: 5, peakRssMb: 900 },
    },
    cpuMsPerPurchase: overrides.cpu ?? { gateway: 0.3, inventory: 0.2 },
    ratios: { soldOutToExpressFloor: 1.2, soldOutToExpressFloorInTurns: 1.1 },
  };
}

describe('bench targets', () => {
  it('holds a run to every target, infrastructure memory aside', () => {
    const checks = targets(report({ first: 0.8 }));
    expect(checks.map((c) => [c.field, c.value, c.met])).toEqual([
      ['capacity.msPerPurchase', 0.5, true],
      ['flashSale.firstSecondToBest', 0.8, true],
      ['steadyAt80Percent.latencyMs.p99', 40, true],
      ['ratios.soldOutToExpressFloorInTurns', 1.1, true],
      ['flashSale.drainMs', 30, true],
      ['flashSale.oversold', 0, true],
      ['processes.<mesh>.peakRssMb', 140, true],
    ]);
  });

  it('reports a miss, and a measure the run lacks as not measured', () => {
    const checks = targets(report({ cpu: { gateway: 0.6, inventory: 0.3 }, p99: 50, rss: 151 }));
    const byField = Object.fromEntries(checks.map((c) => [c.field, c.met]));
    expect(byField['capacity.msPerPurchase']).toBe(false);
    expect(byField['steadyAt80Percent.latencyMs.p99']).toBe(false);
    expect(byField['processes.<mesh>.peakRssMb']).toBe(false);
    expect(byField['flashSale.firstSecondToBest']).toBeUndefined();
    expect(targetTable(checks)).toContain('| first full second against the best | ≥ 0.7 | - | not measured |');
  });

  it('takes the worst peak among the services and the gateway only', () => {
    expect(peakMeshRss(report({ rss: 100 }).processes)).toEqual({ name: 'inventory', mb: 120 });
  });

  it('checks the median of the runs, not a count of their verdicts', () => {
    const runs = [report({ p99: 30 }), report({ p99: 60 }), report({ p99: 70 })];
    const p99 = medianTargets(runs).find((c) => c.field === 'steadyAt80Percent.latencyMs.p99')!;
    expect(p99).toMatchObject({ value: 60, met: false, runs: [30, 60, 70] });
    expect(targetTable(medianTargets(runs))).toContain('| 60 | 30, 60, 70 | **no** |');
  });

  it('computes medians and bounds', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeUndefined();
    expect(meets({ at: 'below', limit: 50 }, 50)).toBe(false);
    expect(meets({ at: 'most', limit: 0 }, 0)).toBe(true);
  });
});
