/** Latency percentiles (ms) of a set of samples, to `digits` decimals. */
export function percentiles(samples: number[], digits = 2) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(digits));
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}

export interface Bucket {
  /** Seconds since the start of the run. */
  t: number;
  attemptsPerSecond: number;
  acceptedPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Throughput and latency in buckets of `widthMs`, from per-response end times, latencies and statuses. */
export function series(ends: number[], latencies: number[], statuses: number[], widthMs = 250): Bucket[] {
  const buckets = new Map<number, { latencies: number[]; accepted: number }>();
  ends.forEach((end, i) => {
    const key = Math.floor(end / widthMs);
    const bucket = buckets.get(key) ?? { latencies: [], accepted: 0 };
    bucket.latencies.push(latencies[i]!);
    if (statuses[i]! < 300) bucket.accepted += 1;
    buckets.set(key, bucket);
  });
  return [...buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([key, bucket]) => {
      const p = percentiles(bucket.latencies);
      return {
        t: Number(((key * widthMs) / 1000).toFixed(2)),
        attemptsPerSecond: Math.round((bucket.latencies.length * 1000) / widthMs),
        acceptedPerSecond: Math.round((bucket.accepted * 1000) / widthMs),
        p50Ms: p.p50,
        p99Ms: p.p99,
      };
    });
}

/**
 * Accepted purchases in each whole second since the sale opened (second k is [k, k + 1) s after the load generator
 * sent its first requests on connections it opened then), and how the first full second compares with the best.
 * A second is full when the stock lasted through all of it: it ends at or before the last accepted purchase; the
 * second the stock ran out in is partial and left out, so a short last second cannot pass for a slow one. The first
 * full second is second 0 (the sale's first second) whenever the stock lasted at least a second; undefined if not.
 */
export function acceptedBySecond(ends: number[], statuses: number[]) {
  const accepted = ends.filter((_, i) => statuses[i]! < 300);
  const lastAccept = accepted.reduce((a, b) => Math.max(a, b), 0);
  const full = Math.floor(lastAccept / 1000);
  const perSecond = Array.from({ length: full + 1 }, () => 0);
  for (const end of accepted) perSecond[Math.floor(end / 1000)]! += 1;
  const best = Math.max(0, ...perSecond.slice(0, full));
  return {
    perSecond,
    fullSeconds: full,
    firstSecondToBest: full > 0 && best > 0 ? Number((perSecond[0]! / best).toFixed(2)) : undefined,
  };
}
