/** Latency percentiles (ms) of a set of samples. */
export function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(2));
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
