import { ACCEPTED, HISTORY_SECONDS, REPLAYED, SaleWindows } from './sale-windows';

function clock(start = Date.UTC(2030, 0, 1)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('SaleWindows', () => {
  it('when purchases are answered over a few seconds, then rates are per second over the window and totals add up', () => {
    const time = clock();
    const windows = new SaleWindows({ maxPromotions: 8, keepMs: 60_000 }, time.now);
    for (let second = 0; second < 10; second += 1) {
      for (let i = 0; i < 20; i += 1) windows.record('7', ACCEPTED, 5, true);
      for (let i = 0; i < 10; i += 1) windows.record('7', 'SOLD_OUT', 1, true);
      windows.record('7', REPLAYED, 2, true);
      time.advance(1_000);
    }
    time.advance(-1); // the end of the last second, so the window covers five whole seconds

    const reading = windows.read('7')!;

    expect(reading.acceptedPerSecond).toBeCloseTo(20 * (5 / 4.999), 0);
    expect(reading.refusedPerSecond).toEqual({ SOLD_OUT: expect.closeTo(10, 0) });
    expect(reading.replayedPerSecond).toBeCloseTo(1, 0);
    expect(reading.totals).toEqual({ [ACCEPTED]: 200, SOLD_OUT: 100, [REPLAYED]: 10 });
    expect(reading.series.accepted).toHaveLength(HISTORY_SECONDS);
    expect(reading.series.accepted.slice(-10)).toEqual(new Array(10).fill(20));
    expect(reading.series.refused.slice(-10)).toEqual(new Array(10).fill(10));
  });

  it('when a sale began a moment ago, then its rate is over the time since its first answer, not the whole window', () => {
    const time = clock(Date.UTC(2030, 0, 1) + 100);
    const windows = new SaleWindows(undefined, time.now);
    for (let i = 0; i < 50; i += 1) windows.record('7', ACCEPTED, 3, true);
    time.advance(500);
    expect(windows.read('7')!.acceptedPerSecond).toBe(100);
  });

  it('when latencies are spread, then p50 and p99 land within the histogram precision', () => {
    const time = clock();
    const windows = new SaleWindows(undefined, time.now);
    for (let i = 1; i <= 1_000; i += 1) windows.record('7', ACCEPTED, i / 10, true); // 0.1 ms .. 100 ms
    const { p50Ms, p99Ms } = windows.read('7')!;
    expect(p50Ms! / 50).toBeGreaterThan(0.92);
    expect(p50Ms! / 50).toBeLessThan(1.08);
    expect(p99Ms! / 99).toBeGreaterThan(0.92);
    expect(p99Ms! / 99).toBeLessThan(1.08);
  });

  it('when the window has moved on, then old seconds no longer count and percentiles are null', () => {
    const time = clock();
    const windows = new SaleWindows(undefined, time.now);
    windows.record('7', ACCEPTED, 4, true);
    time.advance(HISTORY_SECONDS * 1_000 + 1_000);
    windows.record('7', 'SOLD_OUT', 1, true);
    time.advance(30_000);
    const reading = windows.read('7')!;
    expect([reading.acceptedPerSecond, reading.refusedPerSecond, reading.p50Ms]).toEqual([0, {}, null]);
    expect(reading.series.accepted.every((count) => count === 0)).toBe(true);
    expect(reading.totals).toEqual({ [ACCEPTED]: 1, SOLD_OUT: 1 });
  });

  it('when an answer does not prove the promotion exists, then it starts no tracking', () => {
    const windows = new SaleWindows();
    windows.record('404', 'PROMOTION_NOT_FOUND', 1, false);
    expect(windows.ids()).toEqual([]);
    windows.record('7', ACCEPTED, 1, true);
    windows.record('7', 'RATE_LIMITED', 1, false);
    expect(windows.read('7')!.totals).toEqual({ [ACCEPTED]: 1, RATE_LIMITED: 1 });
  });

  it('when promotions go idle or too many are tracked, then the idle ones are dropped and memory stays bounded', () => {
    const time = clock();
    const windows = new SaleWindows({ maxPromotions: 3, keepMs: 10_000 }, time.now);
    for (const id of ['1', '2', '3']) {
      windows.record(id, ACCEPTED, 1, true);
      time.advance(1_000);
    }
    windows.record('1', ACCEPTED, 1, true);
    windows.record('4', ACCEPTED, 1, true);
    expect(windows.ids().sort()).toEqual(['1', '3', '4']);
    time.advance(10_001);
    expect(windows.ids()).toEqual([]);
    expect(windows.read('4')).toBeUndefined();
  });

  it('when a promotion sees more distinct codes than kept, then the rest are counted as OTHER', () => {
    const windows = new SaleWindows();
    for (let i = 0; i < 20; i += 1) windows.record('7', `CODE_${i}`, 1, true);
    const totals = windows.read('7')!.totals;
    expect(Object.keys(totals)).toHaveLength(17);
    expect(totals.OTHER).toBe(4);
  });
});
